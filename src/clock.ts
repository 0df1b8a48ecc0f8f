import type { Clock } from './core/ports.js';

/**
 * The wall clock, for the functions and the local runtime. The core never reads it: pure code
 * takes `now`, and use cases take a `Clock` in their deps (tests pass a fixed one).
 */
export const systemClock: Clock = { now: () => new Date() };
