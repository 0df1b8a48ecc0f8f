import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { InvokePace } from './agenda.js';
import { reapsAt } from './reaper.js';
import { runTick, type TickDeps, type TickReport } from './run-tick.js';

/** Publishes a tick's report as CloudWatch metrics (embedded metric format). */
export function publishTickMetrics(metrics: Metrics, report: TickReport): void {
  metrics.addMetric('Due', MetricUnit.Count, report.due);
  metrics.addMetric('Dispatched', MetricUnit.Count, report.started);
  metrics.addMetric('Skipped', MetricUnit.Count, report.skipped);
  metrics.addMetric('Missed', MetricUnit.Count, report.missed);
  metrics.addMetric('TimedOut', MetricUnit.Count, report.timedOut);
  metrics.addMetric('DispatchFailed', MetricUnit.Count, report.failed);
  metrics.addMetric('Contended', MetricUnit.Count, report.contended);
  metrics.addMetric('TickDuration', MetricUnit.Milliseconds, report.durationMs);
  if (report.started > 0) {
    metrics.addMetric('LatenessMax', MetricUnit.Milliseconds, report.latenessMs.max);
    metrics.addMetric('LatenessP99', MetricUnit.Milliseconds, percentile(report.lateness, 0.99));
  }
  if (report.leasedAhead > 0) metrics.addMetric('LeasedAhead', MetricUnit.Count, report.leasedAhead);
  if (report.sentAhead > 0) metrics.addMetric('SentAhead', MetricUnit.Count, report.sentAhead);
  if (report.redelivered > 0) metrics.addMetric('Redelivered', MetricUnit.Count, report.redelivered);
  if (report.reaped > 0) metrics.addMetric('Reaped', MetricUnit.Count, report.reaped);
  // Always published (0 too), so the alarm on it sees data: tasks that became overdue this tick.
  metrics.addMetric('OverdueTasks', MetricUnit.Count, report.overdueTasks.length);
  metrics.publishStoredMetrics();
}

/**
 * The look-ahead from now: up to `lookAheadMs` after the start of the interval `now` falls in.
 * EventBridge Scheduler fires a minute's schedule anywhere in that minute, so a tick that fires
 * late must still cover what the next tick, firing early in its minute, will not.
 */
export function lookAheadFromNow(options: { lookAheadMs?: number; intervalMs?: number }, now: Date): number {
  const lookAheadMs = options.lookAheadMs ?? 0;
  if (lookAheadMs <= 0) return 0;
  const interval = options.intervalMs ?? 60_000;
  const intervalStart = Math.floor(now.getTime() / interval) * interval;
  return Math.max(0, intervalStart + lookAheadMs - now.getTime());
}

/** The `q` quantile (0-1) of `values`, nearest rank; 0 for none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

/** Task ids one plan request may name. */
export const MAX_PLAN_TASKS = 100;

/**
 * What a tick's schedule sends: nothing (every shard), or `{ "shards": [...] }` when the tick is
 * split over several schedules, one per shard group (the construct's `tickShardGroups`). The API
 * sends `{ "tasks": [...] }` to have a write planned before the next tick (`tickPlanner`).
 */
export const tickEventSchema = z
  .object({
    shards: z.array(z.number().int().min(0).max(63)).min(1).max(64).optional(),
    tasks: z.array(z.string().min(1).max(128)).min(1).max(MAX_PLAN_TASKS).optional(),
  })
  .nullish();

/** The shards or tasks named by a tick's event; throws a readable error for a malformed one. */
export function readTickEvent(event: unknown): { shards?: number[]; tasks?: string[] } {
  const parsed = tickEventSchema.safeParse(event);
  if (!parsed.success) throw new TypeError(`malformed tick event: ${z.prettifyError(parsed.error)}`);
  if (parsed.data?.shards && parsed.data.tasks) {
    throw new TypeError('malformed tick event: name shards or tasks, not both');
  }
  return {
    ...(parsed.data?.shards ? { shards: parsed.data.shards } : {}),
    ...(parsed.data?.tasks ? { tasks: parsed.data.tasks } : {}),
  };
}

/** The shards named by a tick's event; throws a readable error for a malformed one. */
export function shardsOfEvent(event: unknown): number[] | undefined {
  return readTickEvent(event).shards;
}

/**
 * The tick Lambda's handler: runs one tick within the invocation's time, keeping `reserveMs`
 * for itself, logs the report when it did something and publishes its metrics.
 */
export function makeTickHandler(
  deps: TickDeps,
  options: {
    reserveMs: number;
    /**
     * Look-ahead, measured from the start of the tick interval the invocation falls in (the
     * schedule fires somewhere in its minute): the tick plans up to that instant. 0: none.
     */
    lookAheadMs?: number;
    /** The tick's interval, for that start (default one minute). */
    intervalMs?: number;
    /** How far before its instant a large burst may start sending (`TickOptions.sendAheadMs`). */
    sendAheadMs?: number;
    metrics?: Metrics;
  },
) {
  // Learned over the invocations of this environment: a warm tick sends ahead at its own pace.
  const invokePace = new InvokePace();
  return async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<TickReport> => {
    const { shards, tasks } = readTickEvent(event);
    const remaining = context?.getRemainingTimeInMillis() ?? 60_000;
    const budgetMs = Math.max(1_000, remaining - options.reserveMs);
    // The tick waits for its last leased run's instant: keep that inside the invocation.
    const lookAheadMs = Math.max(0, Math.min(lookAheadFromNow(options, deps.clock.now()), budgetMs - 3_000));
    const now = deps.clock.now();
    // One tick in five minutes, the one reading shard 0, reaps running records no lease holds.
    const reap = !tasks && (shards === undefined || shards.includes(0)) && reapsAt(now);
    const report = await runTick(deps, {
      budgetMs,
      lookAheadMs,
      // The window's last seconds past the next interval (2 s of 122): the next tick plans what
      // falls due there after a run of this one.
      followMarginMs: (options.lookAheadMs ?? 0) % (options.intervalMs ?? 60_000),
      reap,
      sendAheadMs: options.sendAheadMs ?? 0,
      invokePace,
      ...(shards ? { shards } : {}),
      // A plan request from the API: the named tasks only, and not a tick of the schedule's.
      ...(tasks ? { taskIds: tasks, recordTick: false } : {}),
    });
    const { lateness, ...summary } = report;
    if (report.due > 0 || report.errors.length > 0 || report.overdueTasks.length > 0) {
      deps.logger?.info('tick', { ...summary, latenessP99Ms: percentile(lateness, 0.99) });
    }
    if (options.metrics) publishTickMetrics(options.metrics, report);
    // A tick that could not read the due index at all failed: let Lambda count the error (alarm).
    if (
      report.errors.length > 0 &&
      report.due === 0 &&
      report.errors.some((e) => e.message.startsWith('due query'))
    ) {
      throw new Error(`tick failed: ${report.errors.map((e) => e.message).join('; ')}`);
    }
    return report;
  };
}
