/**
 * The port's invariants that both stores check the same way, before they touch anything: page
 * sizes, the version a save writes, one task per batch, and the stores' own options. Breaking one
 * is a bug in the caller: a `RangeError` (or a `ValidationError` for a page size a client sent).
 */
import { DEFAULT_DUE_KEY_HOLD_MS } from '../core/due.js';
import { ValidationError } from '../core/errors.js';
import { DEFAULT_SHARD_COUNT } from './table-definition.js';

/** Checks a page size. */
export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ValidationError([{ field: 'limit', message: 'must be a whole number of at least 1' }]);
  }
}

/** Throws when a save's version is not the expected one plus one: a broken caller invariant. */
export function checkNextVersion(task: { id: string; version: number }, expectedVersion: number): void {
  if (task.version !== expectedVersion + 1) {
    throw new RangeError(
      `task ${task.id}: saving version ${task.version} over ${expectedVersion}; expected ${expectedVersion + 1}`,
    );
  }
}

/** Refuses a batch of task saves that names one task twice (DynamoDB refuses such a batch too). */
export function checkDistinct(saves: { task: { id: string } }[]): void {
  const ids = new Set<string>();
  for (const { task } of saves) {
    if (ids.has(task.id)) throw new RangeError(`task ${task.id} appears twice in one batch of saves`);
    ids.add(task.id);
  }
}

/** Validates a store's `dueKeyHoldMs` option (0 turns holding off). */
export function checkHold(holdMs: number | undefined): number {
  if (holdMs === undefined) return DEFAULT_DUE_KEY_HOLD_MS;
  if (!Number.isInteger(holdMs) || holdMs < 0) {
    throw new RangeError(`dueKeyHoldMs must be a whole number of milliseconds, at least 0, not ${holdMs}`);
  }
  return holdMs;
}

/** Validates a store's `shardCount` option (default {@link DEFAULT_SHARD_COUNT}). */
export function checkShardCount(shardCount: number | undefined): number {
  const count = shardCount ?? DEFAULT_SHARD_COUNT;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`shardCount must be a whole number of at least 1, not ${count}`);
  }
  return count;
}
