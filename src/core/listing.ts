/**
 * Which ended runs are listed in runs across tasks (the run index: `GET /runs`, the dashboard's
 * Runs page, `tickwork runs`). Every run is always in its own task's history; this decides only
 * the index entry, which is one write unit a run (docs/architecture.md, "Fewer writes per run").
 */
import { RunStatus, type TaskState, Trigger } from './model.js';
import { scheduleFor } from './schedule-cache.js';

/**
 * A scheduled slot whose next slot comes within this is a frequent task's: by default its success
 * is not listed across tasks (one a minute per task would bury every other run, and costs a write).
 */
export const FREQUENT_SLOT_GAP_MS = 60_000;

/**
 * How a task's successes are listed across tasks:
 * - `all`: every success (`listSucceeded: true`, or the default for a task due less often than
 *   every minute);
 * - `except-scheduled`: the default for a task due every minute or more often: the successes of
 *   its scheduled slots are only in its history; run-now, retries, catch-up, replays and
 *   backfills are listed;
 * - `none`: `listSucceeded: false`, no success is listed.
 *
 * Failed, timed-out, cancelled, skipped and missed runs, and a running run that heartbeats, are
 * listed whatever this says.
 */
export const successListings = ['all', 'except-scheduled', 'none'] as const;
export type SuccessListing = (typeof successListings)[number];

type ListedTask = Pick<TaskState, 'listSucceeded' | 'schedule' | 'timezone'>;

/** The schedule's first slot after `after`; none for a schedule that cannot be read (never stored). */
function slotAfter(task: Pick<TaskState, 'schedule' | 'timezone'>, after: Date): Date | undefined {
  try {
    return scheduleFor(task).next(after);
  } catch {
    return undefined;
  }
}

/**
 * Whether the slot at `slot` is followed by another within {@link FREQUENT_SLOT_GAP_MS}. A schedule
 * that cannot be read counts as not frequent: its runs are listed.
 */
export function isFrequentSlot(task: Pick<TaskState, 'schedule' | 'timezone'>, slot: Date): boolean {
  const next = slotAfter(task, slot);
  return next !== undefined && next.getTime() - slot.getTime() <= FREQUENT_SLOT_GAP_MS;
}

/** The listing of a task's successes, judged at its first slot after `now` (for a view). */
export function successListingOf(task: ListedTask, now: Date): SuccessListing {
  if (task.listSucceeded === true) return 'all';
  if (task.listSucceeded === false) return 'none';
  const slot = slotAfter(task, now);
  return slot !== undefined && isFrequentSlot(task, slot) ? 'except-scheduled' : 'all';
}

/** The run that ended, as far as its listing depends on it. */
export interface EndedRun {
  status: RunStatus;
  trigger: Trigger;
  /** The slot it ran for. */
  scheduledFor: Date;
}

/**
 * Whether a run that ended is listed in runs across tasks: always, except a success that its
 * task's {@link SuccessListing} leaves out. `task` is the task as the run's claim read it; absent
 * (deleted), the run is listed.
 */
export function isEndListed(task: ListedTask | undefined, run: EndedRun): boolean {
  if (run.status !== RunStatus.Succeeded || task === undefined) return true;
  if (task.listSucceeded !== undefined) return task.listSucceeded;
  return run.trigger !== Trigger.Schedule || !isFrequentSlot(task, run.scheduledFor);
}
