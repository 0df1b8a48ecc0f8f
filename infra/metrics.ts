/** CloudWatch metrics of the functions' Powertools output (namespace `Tickwork`). */
import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, metricNames, serviceNames } from './names.js';

/**
 * One metric of one kind of function: by default its sum per 5 minutes; `props` override the
 * statistic, the period, the label... and add dimensions to `service`.
 */
export function tickworkMetric(
  service: (typeof serviceNames)[keyof typeof serviceNames],
  metricName: string,
  props: MetricOptions = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    statistic: 'Sum',
    period: Duration.minutes(5),
    ...props,
    dimensionsMap: { service, ...props.dimensionsMap },
  });
}

/**
 * Runs that went wrong, per 5 minutes: time-outs the tick reaped and dispatches it could not
 * make (service `tickwork-tick`), plus failures the task functions reported (`tickwork-task`).
 */
export function failedRunsMetric(props: MetricOptions = {}): MathExpression {
  const { label, color, period, ...metricProps } = props;
  const each = { ...metricProps, ...(period ? { period } : {}) };
  return new MathExpression({
    expression: 'FILL(timedOut, 0) + FILL(dispatchFailed, 0) + FILL(failed, 0)',
    usingMetrics: {
      timedOut: tickworkMetric(serviceNames.tick, metricNames.tick.timedOut, each),
      dispatchFailed: tickworkMetric(serviceNames.tick, metricNames.tick.dispatchFailed, each),
      failed: tickworkMetric(serviceNames.task, metricNames.task.failed, each),
    },
    label: label ?? 'Failed runs',
    period: period ?? Duration.minutes(5),
    ...(color ? { color } : {}),
  });
}
