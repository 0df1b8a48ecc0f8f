/** CloudWatch metrics of the functions' Powertools output (namespace `Tickwork`). */
import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, metricNames, serviceNames } from './names.js';

/** A count per 5 minutes of one metric of one kind of function. */
function count(service: string, metricName: string): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service },
    statistic: 'Sum',
    period: Duration.minutes(5),
  });
}

/**
 * Runs that went wrong, per 5 minutes: time-outs the tick reaped and dispatches it could not
 * make (service `tickwork-tick`), plus failures the task functions reported (`tickwork-task`).
 */
export function failedRunsMetric(): MathExpression {
  return new MathExpression({
    expression: 'FILL(timedOut, 0) + FILL(dispatchFailed, 0) + FILL(failed, 0)',
    usingMetrics: {
      timedOut: count(serviceNames.tick, metricNames.tick.timedOut),
      dispatchFailed: count(serviceNames.tick, metricNames.tick.dispatchFailed),
      failed: count(serviceNames.task, metricNames.task.failed),
    },
    label: 'Failed runs',
    period: Duration.minutes(5),
  });
}
