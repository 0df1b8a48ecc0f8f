/**
 * Names the construct and the functions share: the metrics' namespace, metric and service names,
 * the run events' source, and the tick's rhythm.
 */
import { Duration } from 'aws-cdk-lib';

/** The CloudWatch namespace of Tickwork's metrics. */
export const METRICS_NAMESPACE = 'Tickwork';

/** `source` of the EventBridge events Tickwork emits. */
export const RUN_EVENT_SOURCE = 'tickwork';

/**
 * Metric names the functions publish with Powertools (namespace {@link METRICS_NAMESPACE},
 * default `service` dimension = the function's `POWERTOOLS_SERVICE_NAME`): the tick's report
 * (`src/tick/handler.ts`) and the task functions' outcomes.
 */
export const metricNames = {
  tick: {
    due: 'Due',
    dispatched: 'Dispatched',
    skipped: 'Skipped',
    missed: 'Missed',
    timedOut: 'TimedOut',
    dispatchFailed: 'DispatchFailed',
    contended: 'Contended',
    tickDuration: 'TickDuration',
    latenessMax: 'LatenessMax',
    latenessP99: 'LatenessP99',
    /** Tasks that became overdue this tick (a broken `mustSucceedEvery`), once per episode. */
    overdueTasks: 'OverdueTasks',
  },
  task: {
    succeeded: 'Succeeded',
    failed: 'Failed',
    refusedRunEvents: 'RefusedRunEvents',
  },
} as const;

/** `POWERTOOLS_SERVICE_NAME` of each kind of function (also the metrics' `service` dimension). */
export const serviceNames = {
  tick: 'tickwork-tick',
  api: 'tickwork-api',
  task: 'tickwork-task',
} as const;

/** The tick runs once a minute, on the minute. */
export const TICK_INTERVAL = Duration.minutes(1);

/**
 * How far ahead each tick plans, from the start of the minute it fires in: to 2 s into the minute
 * after next. EventBridge Scheduler fires a schedule anywhere within its minute ("60 second
 * precision"), so the next tick may come at second 59: every slot of the next minute must be
 * leased by this one. The tick waits until its last run's instant, so its timeout must exceed
 * this (plus its reserve).
 */
export const TICK_LOOKAHEAD = Duration.seconds(122);
/**
 * The most a burst of runs due at one second may start sending before it (the task SDK holds each
 * until its second): enough for about 3,000 invokes at a millisecond each.
 */
export const TICK_SEND_AHEAD = Duration.seconds(3);

/** The shortest schedule interval the deployed API accepts: one second. */
export const MIN_SCHEDULE_INTERVAL = Duration.seconds(1);

/**
 * The time the tick keeps for itself before its Lambda timeout: a sixth of the timeout, at most
 * 10 s (60 s → 10 s, 30 s → 5 s).
 */
export function tickReserveMs(tickTimeout: Duration): number {
  return Math.min(10_000, Math.floor(tickTimeout.toMilliseconds() / 6));
}
