import type { TaskState } from './model.js';
import { successDeadline } from './overdue.js';

/** 32-bit FNV-1a of a string: stable across processes and platforms, cheap, well spread. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The due-index shard of a task: spreads the index's writes over `shardCount` partitions. */
export function shardOf(taskId: string, shardCount: number): number {
  return fnv1a(taskId) % shardCount;
}

/**
 * The fixed delay added to every slot of a task, in `[0, jitterSeconds)` whole milliseconds.
 * Derived from the task id, so it is the same on every tick and every machine, and tasks with
 * the same schedule spread over the window instead of all firing at once.
 */
export function jitterMs(taskId: string, jitterSeconds: number): number {
  if (jitterSeconds <= 0) return 0;
  return fnv1a(`jitter:${taskId}`) % Math.floor(jitterSeconds * 1000);
}

/** When the next scheduled slot of a task is due, jitter included; absent when none is. */
export function slotDueAt(task: TaskState): Date | undefined {
  if (!task.enabled || task.nextSlotAt === undefined) return undefined;
  return new Date(task.nextSlotAt.getTime() + jitterMs(task.id, task.jitterSeconds));
}

/** Whether a pending run may start now-ish, given what is active and the overlap policy. */
export function pendingIsBlocked(task: TaskState): boolean {
  return task.active.length > 0 && task.overlap !== 'allow' && task.overlap !== 'replace';
}

/**
 * The next instant the tick must look at a task: the earliest of its next slot (when enabled),
 * a pending run's earliest start, the end of an active run's lease, and the deadline of its
 * `mustSucceedEvery` promise while not reported (`successDeadline`: so a task that never fires,
 * disabled or failing, is still read when it becomes overdue). Absent when there is nothing to
 * do, which takes the task out of the sparse due index.
 *
 * A pending run that the overlap policy blocks keeps the task due: each tick looks again (a read,
 * no write) and starts it once the running one has finished. That is what lets a successful
 * completion skip reading its task when nothing was pending at dispatch (`RunEvent.settle`): a
 * run-now queued behind it later starts at the next tick instead.
 */
export function dueAtOf(task: TaskState): Date | undefined {
  let due = slotDueAt(task)?.getTime();
  const consider = (ms: number) => {
    if (due === undefined || ms < due) due = ms;
  };
  for (const p of task.pending) consider(p.notBefore.getTime());
  for (const a of task.active) consider(a.expiresAt.getTime());
  const deadline = successDeadline(task);
  if (deadline !== undefined) consider(deadline.getTime());
  return due === undefined ? undefined : new Date(due);
}

/** How far ahead a task due soon keeps its index key: one tick (EventBridge fires every minute). */
export const DEFAULT_DUE_KEY_HOLD_MS = 60_000;

/**
 * The key a task is written under in the due index. Normally `dueAtOf(task)`; but a task that
 * was already in view (its old key at or before this write) and is due again within `holdMs`
 * (one tick) keeps its old key. The next tick reads it either way, and an index key that
 * stays put costs DynamoDB one index write (the projected item is rewritten) instead of two
 * (delete and put): a dispatch of an every-minute task costs 2 write units, not 3.
 *
 * The invariant the tick relies on holds either way: the key is never later than the instant
 * the task must be looked at. The price is a task read, not a write, when a tick comes early.
 */
export function dueIndexKey(task: TaskState, holdMs = DEFAULT_DUE_KEY_HOLD_MS): Date | undefined {
  const due = dueAtOf(task);
  if (due === undefined) return undefined;
  const held = task.dueKey;
  const at = task.updatedAt.getTime();
  if (held !== undefined && held.getTime() <= at && due.getTime() <= at + holdMs) return held;
  return due;
}

/** Shards 0..count-1 dealt round robin into `groups` groups: group g reads shards g, g + groups, ... */
export function shardGroups(count: number, groups: number): number[][] {
  return Array.from({ length: groups }, (_, g) =>
    Array.from({ length: count }, (_, shard) => shard).filter((shard) => shard % groups === g),
  );
}
