/**
 * The reaper of `running` records that no lease holds. A run's lease on its task item is what
 * the tick watches: when it ends, the tick times the run out. A `running` record whose run the
 * task no longer holds (its task was deleted between the claim's read and its write, or the record
 * predates claims from the lease) would stay `running` forever, so every few minutes one tick
 * lists the running records whose own lease lapsed (the `runs` index's `running` partitions, which
 * hold only what runs now) and times out those that no task's lease holds.
 */
import type { RunRecord } from '../core/model.js';
import type { StoreUsage } from '../core/ports.js';
import type { TickDeps } from './dispatch.js';

/** How often, in minutes of the clock, a tick reaps: the one whose minute is a multiple of this. */
export const REAP_EVERY_MINUTES = 5;

/** How long past its own lease a record waits before the reaper looks at it. */
export const REAP_GRACE_MS = 60_000;

/** Whether the tick at `now` reaps (one tick in {@link REAP_EVERY_MINUTES}). */
export function reapsAt(now: Date): boolean {
  return Math.floor(now.getTime() / 60_000) % REAP_EVERY_MINUTES === 0;
}

/** What one pass did. */
export interface ReapResult {
  /** Lapsed running records looked at. */
  lapsed: number;
  /** Of those, records no lease held, now `timed-out`. */
  reaped: RunRecord[];
  usage: StoreUsage;
}

/**
 * Times out every lapsed `running` record that no lease holds. Records a lease holds are left to
 * the tick's fold, which follows the task's lease. The write is the run's own fenced completion
 * (its token and request id), so a record that moved meanwhile is left as it is.
 */
export async function reapOrphans(deps: TickDeps, now: Date): Promise<ReapResult> {
  const { runs, usage } = await deps.store.listLapsedRuns(new Date(now.getTime() - REAP_GRACE_MS));
  const reaped: RunRecord[] = [];
  for (const run of runs) {
    const task = await deps.store.getTask(run.taskId);
    usage.itemsRead++;
    if (task?.active.some((a) => a.runId === run.runId)) continue;
    const done = await deps.store.completeRun(
      run.taskId,
      run.runId,
      { token: run.token ?? 0, requestId: run.requestId ?? '' },
      {
        status: 'timed-out',
        finishedAt: now,
        durationMs: now.getTime() - (run.startedAt ?? now).getTime(),
        note: task ? 'no lease held this running run: reaped' : 'its task was deleted while it ran: reaped',
        error: { name: 'OrphanedRunError', message: 'the run was running with no lease on its task' },
      },
    );
    if (!done.completed) continue;
    usage.writes++;
    reaped.push(done.run);
    deps.logger?.warn('reaped a running run that no lease held', { taskId: run.taskId, runId: run.runId });
  }
  return { lapsed: runs.length, reaped, usage };
}
