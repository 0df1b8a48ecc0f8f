import type { BenchEnv } from './harness.js';
import type { LambdaStub } from './lambda-stub.js';

/** What every section gets. */
export interface SectionContext {
  env: BenchEnv;
  stub: LambdaStub;
  /** The tick's `concurrency` (runTick's default, 64). */
  concurrency: number;
  /** Conditional UpdateItem calls per second measured by the ceiling section, once it ran. */
  ceiling?: { plainPerSec: number; indexMovingPerSec: number };
  /**
   * Measures the ceiling again (same table), for a baseline right next to a measure: plain, or
   * moving `dueAt` as a dispatch of a task due less often than every tick does.
   */
  remeasureCeiling?: (durationMs: number, moveIndex?: boolean) => Promise<number>;
}
