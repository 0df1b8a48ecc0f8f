/**
 * Dead-man alerts: a task may promise to succeed at least every `mustSucceedEvery` (`26h`, `90m`).
 * Pure: the tick asks when a task's promise falls due (its due-index key is never later than
 * that instant, so a tick reads the task then, whether or not it ever fires) and reports each
 * overdue episode once; the next success ends the episode.
 *
 * ```
 *  set / created ─── success ─────── success ──────────── deadline ── (tick: report once) ── success
 *                    └── counted from here ──┘ + every ──┘             overdueReportedAt set   cleared
 * ```
 */
import type { TaskState } from './model.js';

/** The shortest promise: the tick looks at tasks once a minute. */
export const MIN_SUCCESS_INTERVAL_MS = 60_000;
/** The longest promise: a year. */
export const MAX_SUCCESS_INTERVAL_MS = 366 * 86_400_000;

const unitMs = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The milliseconds of a `mustSucceedEvery` duration: a whole number and a unit, `s`, `m`, `h`
 * or `d`. Throws a `RangeError` saying what is wrong for anything else, below one minute or
 * over 366 days.
 *
 * @example
 * successIntervalMs('26h'); // 93_600_000
 * successIntervalMs('90m'); // 5_400_000
 */
export function successIntervalMs(text: string): number {
  const match = /^(\d{1,9})(s|m|h|d)$/.exec(text);
  if (!match) {
    throw new RangeError(
      `"${text.slice(0, 40)}" is not a duration: use a whole number and a unit, s, m, h or d (e.g. 90m, 26h, 2d)`,
    );
  }
  const ms = Number(match[1]) * unitMs[match[2] as keyof typeof unitMs];
  if (ms < MIN_SUCCESS_INTERVAL_MS) throw new RangeError(`"${text}" is below 1 minute, the shortest promise`);
  if (ms > MAX_SUCCESS_INTERVAL_MS) throw new RangeError(`"${text}" is over 366 days, the longest promise`);
  return ms;
}

/** The instant the promise's clock counts from: the later of the last success and when it was set. */
export function successClockFrom(task: TaskState): Date {
  const set = task.mustSucceedSetAt ?? task.createdAt;
  const last = task.lastSucceededAt;
  return last !== undefined && last.getTime() > set.getTime() ? last : set;
}

/**
 * When the task is (or was) overdue if it does not succeed first: the clock's start plus the
 * promise. Undefined when it promises nothing; a stored promise that no longer parses promises
 * nothing (the API refuses such a value).
 */
export function promiseDeadline(task: TaskState): Date | undefined {
  if (task.mustSucceedEvery === undefined) return undefined;
  let every: number;
  try {
    every = successIntervalMs(task.mustSucceedEvery);
  } catch {
    return undefined;
  }
  return new Date(successClockFrom(task).getTime() + every);
}

/**
 * The instant the tick must look at the task for its promise: {@link promiseDeadline}, unless the
 * current episode was already reported (the next success starts a new clock).
 */
export function successDeadline(task: TaskState): Date | undefined {
  return task.overdueReportedAt === undefined ? promiseDeadline(task) : undefined;
}

/** What the tick reports when a task's promise is broken: the `Tickwork Task Overdue` event. */
export interface OverdueEpisode {
  /** The instant the task became overdue. */
  overdueSince: Date;
  /** The clock's start: the last success, or when the promise was set (never succeeded since). */
  countedFrom: Date;
}

/**
 * Marks `task` (a plan's copy) overdue at `now` when its promise's deadline has come and the
 * episode is not reported yet: sets `overdueReportedAt`, so the next tick stays quiet until a
 * success clears it. Returns the episode to report, or undefined.
 */
export function markOverdue(task: TaskState, now: Date): OverdueEpisode | undefined {
  const deadline = successDeadline(task);
  if (deadline === undefined || deadline.getTime() > now.getTime()) return undefined;
  task.overdueReportedAt = now;
  return { overdueSince: deadline, countedFrom: successClockFrom(task) };
}
