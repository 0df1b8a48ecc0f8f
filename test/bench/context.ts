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
  /** Measures the plain ceiling again (same table), for a baseline right next to a measure. */
  remeasureCeiling?: (durationMs: number) => Promise<number>;
}
