import type { RunRecord } from '../core/model.js';
import { settleAfterCompletion } from '../core/plan.js';
import type { Clock, TaskStore } from '../core/ports.js';
import { scheduleFor } from '../core/schedule-cache.js';

/**
 * What settling a task after its run's completion did:
 * - `saved`: the fold could not wait (a retry, stopOnError, a queued run), and it is written;
 * - `deferred`: nothing needs the task before its next due instant, where the tick folds the run
 *   in the write it makes anyway (no write now: see `docs/architecture.md`);
 * - `folded`: the run is no longer active on the task (the tick folded it first);
 * - `gone`: the task was deleted;
 * - `contended`: every compare-and-set lost; the tick folds the run at the task's next due instant;
 * - `skipped`: not attempted: the run succeeded (or was cancelled) and nothing waited behind it
 *   at dispatch (`RunEvent.settle` false), so no read is spent; the tick folds it.
 */
export type SettleResult = 'saved' | 'deferred' | 'folded' | 'gone' | 'contended' | 'skipped';

/** Compare-and-set attempts before leaving the fold to the tick. */
export const settleAttempts = 5;

/**
 * Folds a completed run into its task: retries, stopOnError, queue-one and the summary are all
 * the pure planner's decision (`settleAfterCompletion`); this only reads, plans and writes.
 */
export async function settleTask(
  store: Pick<TaskStore, 'getTask' | 'saveTask'>,
  record: RunRecord,
  deps: { clock: Clock; newRunId: () => string },
): Promise<SettleResult> {
  for (let attempt = 1; attempt <= settleAttempts; attempt++) {
    const task = await store.getTask(record.taskId);
    if (!task) return 'gone';
    if (!task.active.some((a) => a.runId === record.runId)) return 'folded';
    const { write, plan } = settleAfterCompletion(task, record, {
      now: deps.clock.now(),
      schedule: scheduleFor(task),
      newRunId: deps.newRunId,
    });
    if (!write) return 'deferred';
    const saved = await store.saveTask(plan.task, {
      expectedVersion: task.version,
      runWrites: plan.runWrites,
    });
    if (saved.saved) return 'saved';
  }
  // Still losing to other writers (ticks, the API): leave it. The run's record is terminal and
  // the task still lists it as active, so the tick folds it (summary, retry, stopOnError) at the
  // task's next due instant, at the latest when the run's lease ends. Nothing is lost, only later.
  return 'contended';
}
