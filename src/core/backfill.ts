/**
 * Backfill, pure: which slots of a task a range holds, and how many of them may be queued now.
 * The tick's pump (`src/tick/backfill.ts`) and the API (`src/api/backfill.ts`) share these.
 */
import { type TaskState, Trigger } from './model.js';
import { slotsBetween } from './schedule.js';
import { scheduleFor } from './schedule-cache.js';

/** Most slots one backfill may cover. */
export const MAX_BACKFILL_SLOTS = 1000;
/** Most runs of one backfill at once. */
export const MAX_BACKFILL_CONCURRENCY = 10;

/**
 * Up to `limit` slots of the task's schedule (in its zone, within its start/end window) from
 * `from` to `to`, both included, oldest first.
 */
export function backfillSlots(
  task: Pick<TaskState, 'schedule' | 'timezone' | 'startAt' | 'endAt'>,
  from: Date,
  to: Date,
  limit: number,
): Date[] {
  const window = {
    ...(task.startAt !== undefined ? { startAt: task.startAt } : {}),
    ...(task.endAt !== undefined ? { endAt: task.endAt } : {}),
  };
  return slotsBetween(scheduleFor(task), new Date(from.getTime() - 1), to, limit, window);
}

/**
 * How many backfill runs may be queued on the task now; `finished` names active runs whose record
 * already ended (the tick folds them later). Under `allow` up to `concurrency` run together; under
 * any other overlap policy a backfill run waits until the task has nothing running or pending, so
 * it never skips, queues behind or replaces another run, and backfills one slot at a time.
 */
export function backfillRoom(
  task: Pick<TaskState, 'active' | 'pending' | 'overlap'>,
  concurrency: number,
  finished: ReadonlySet<string> = new Set(),
): number {
  const running = task.active.filter((a) => !finished.has(a.runId));
  if (task.overlap !== 'allow') return running.length === 0 && task.pending.length === 0 ? 1 : 0;
  const inFlight =
    running.filter((a) => a.trigger === Trigger.Backfill).length +
    task.pending.filter((p) => p.trigger === Trigger.Backfill).length;
  return Math.max(0, concurrency - inFlight);
}
