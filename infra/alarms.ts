/**
 * The construct's alarms (`TickErrorsAlarm`, `DeadLetterAlarm`, `FailedRunsAlarm`,
 * `TaskDeadLetterAlarm`, `RefusedRunEventsAlarm`, `LatenessAlarm`, `OverdueTasksAlarm`,
 * `SkippedRunsAlarm`, `MissedRunsAlarm`).
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

/** What the alarms watch. */
export interface AlarmInputs {
  readonly tickFunction: LambdaFunction;
  readonly tickDeadLetterQueue: Queue;
  /** The task functions' async invocations that failed. */
  readonly taskDeadLetterQueue: Queue;
  /** Failed runs per 5 minutes (`Tickwork.metricFailedRuns()`). */
  readonly failedRuns: IMetric;
  /** Each tick's 99th percentile of lateness (slot to invoke accepted), in ms. */
  readonly latenessP99: IMetric;
  /** Run events the task SDK refused (no lease holds them as sent), per 5 minutes. */
  readonly refusedRunEvents: IMetric;
  /** Tasks that became overdue (a broken `mustSucceedEvery`), per 5 minutes. */
  readonly overdueTasks: IMetric;
  /** Slots the tick recorded skipped, per 5 minutes. */
  readonly skippedRuns: IMetric;
  /** Slots the tick recorded missed, per 5 minutes. */
  readonly missedRuns: IMetric;
  /** Notified on alarm and back to OK. */
  readonly alarmTopic: ITopic | undefined;
}

export interface TickworkAlarms {
  readonly tickErrors: Alarm;
  readonly deadLetter: Alarm;
  readonly failedRuns: Alarm;
  readonly taskDeadLetter: Alarm;
  readonly refusedRunEvents: Alarm;
  readonly lateness: Alarm;
  readonly overdueTasks: Alarm;
  readonly skippedRuns: Alarm;
  readonly missedRuns: Alarm;
}

/** One alarm at "1 or more in one period", quiet when there is no data. */
function atLeastOnce(scope: Construct, id: string, alarmDescription: string, metric: IMetric): Alarm {
  return new Alarm(scope, id, {
    alarmDescription,
    metric,
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

/** Messages visible in a queue: the maximum per 5 minutes. */
function visibleMessages(queue: Queue): IMetric {
  return queue.metricApproximateNumberOfMessagesVisible({
    period: Duration.minutes(5),
    statistic: 'Maximum',
  });
}

/** The alarms on what happened to tasks and slots: overdue tasks, skipped and missed slots. */
function slotAlarms(scope: Construct, inputs: AlarmInputs) {
  return {
    overdueTasks: atLeastOnce(
      scope,
      'OverdueTasksAlarm',
      'Tickwork: a task did not succeed within its mustSucceedEvery (see the Tickwork Task Overdue event for which)',
      inputs.overdueTasks,
    ),
    skippedRuns: atLeastOnce(
      scope,
      'SkippedRunsAlarm',
      'Tickwork: slots were skipped (a run was still going under overlap skip or queue-one, or the catch-up policy skip)',
      inputs.skippedRuns,
    ),
    missedRuns: atLeastOnce(
      scope,
      'MissedRunsAlarm',
      'Tickwork: slots were missed (older than their catch-up window when the tick saw them: the scheduler was paused or down)',
      inputs.missedRuns,
    ),
  };
}

/** The alarms, notifying the topic when one is given. */
export function buildAlarms(scope: Construct, inputs: AlarmInputs): TickworkAlarms {
  const alarms: TickworkAlarms = {
    tickErrors: atLeastOnce(
      scope,
      'TickErrorsAlarm',
      'Tickwork: the tick function failed (runs are not being dispatched on time)',
      inputs.tickFunction.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
    ),
    deadLetter: atLeastOnce(
      scope,
      'DeadLetterAlarm',
      'Tickwork: EventBridge Scheduler could not deliver ticks (see the dead-letter queue)',
      visibleMessages(inputs.tickDeadLetterQueue),
    ),
    failedRuns: atLeastOnce(
      scope,
      'FailedRunsAlarm',
      'Tickwork: runs failed or timed out',
      inputs.failedRuns,
    ),
    taskDeadLetter: atLeastOnce(
      scope,
      'TaskDeadLetterAlarm',
      "Tickwork: a task function's invocation failed before the task SDK could record it (see the task dead-letter queue)",
      visibleMessages(inputs.taskDeadLetterQueue),
    ),
    refusedRunEvents: atLeastOnce(
      scope,
      'RefusedRunEventsAlarm',
      'Tickwork: a task function was invoked with a run event no lease holds (forged, altered or replayed by hand); nothing ran',
      inputs.refusedRunEvents,
    ),
    lateness: new Alarm(scope, 'LatenessAlarm', {
      alarmDescription:
        'Tickwork: runs start late: the 99th percentile of slot to invoke was over 1 s in three 5-minute periods running',
      metric: inputs.latenessP99,
      threshold: 1_000,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }),
    ...slotAlarms(scope, inputs),
  };
  if (inputs.alarmTopic) {
    const action = new SnsAction(inputs.alarmTopic);
    for (const alarm of Object.values(alarms)) {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    }
  }
  return alarms;
}
