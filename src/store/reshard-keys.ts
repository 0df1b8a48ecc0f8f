/**
 * Which due-index keys a shard reads while the shard count of a live table shrinks (see
 * `reshard.ts`). Plain arithmetic, shared by both stores.
 */

/** The most shards a table may have had (the construct's and the environment's bound). */
export const MAX_SHARD_COUNT = 64;

/**
 * Validates `formerShardCount`: absent, or a whole number of shards (1..64).
 *
 * @throws RangeError naming the value.
 */
export function checkFormerShardCount(former: number | undefined): number | undefined {
  if (former === undefined) return undefined;
  if (!Number.isInteger(former) || former < 1 || former > MAX_SHARD_COUNT) {
    throw new RangeError(
      `formerShardCount must be a whole number from 1 to ${MAX_SHARD_COUNT}, not ${former}`,
    );
  }
  return former;
}

/**
 * The due-index keys shard `shard` of `shardCount` reads: its own, and while the count shrinks
 * from `formerShardCount`, every former key that folds into it (`k % shardCount === shard`).
 */
export function dueKeysOf(shard: number, shardCount: number, formerShardCount?: number): number[] {
  const keys = [shard];
  for (let k = shard + shardCount; k < (formerShardCount ?? 0); k += shardCount) keys.push(k);
  return keys;
}
