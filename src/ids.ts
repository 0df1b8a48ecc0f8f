/**
 * Ids of tasks and runs: ULIDs, so they sort by creation time in the table and in the API.
 *
 * `ulid()` with its default generator looks up the platform's random source and makes one
 * `getRandomValues` call per character, 16 per id; in a tick that starts a thousand runs this was
 * 4% of the tick's CPU. The library takes a generator instead: this one hands out bytes from a
 * 4 KiB buffer that `getRandomValues` refills, so an id costs one call per 256 ids.
 */
import { getRandomValues } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const pool = new Uint8Array(4096);
let next = pool.length;

/** A uniform fraction in [0, 1) with 8 bits of cryptographic randomness, as ulid's own generator. */
export function randomFraction(): number {
  if (next === pool.length) {
    getRandomValues(pool);
    next = 0;
  }
  return (pool[next++] as number) / 256;
}

/**
 * A new ULID. Ids made within one millisecond by this process increase (ulid's monotonic mode),
 * so runs started by one tick list in the order they were started.
 */
export const newId: () => string = monotonicFactory(randomFraction);
