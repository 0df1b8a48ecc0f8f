/**
 * The run's own deadline: the task's `timeoutSeconds`, counted from the claim.
 *
 * ```
 *  claim            timeoutSeconds                       + grace
 *  ──┬──────────────────────────┬──────────────────────────┬──────────► time
 *    │ body runs                │ signal fires: `timeout`  │ still going: the handler stops
 *    │                          │ (the task should stop)   │ waiting and records `timed-out`
 *    │                          │ body ends in the grace ──► recorded `timed-out` at its end
 * ```
 *
 * JavaScript cannot stop a promise from outside, so a body that ignores the signal goes on in the
 * background after its run was recorded (on Lambda until the invocation's environment is frozen
 * or reused). The grace period gives a cooperative body time to end on its own terms (close a
 * file, write a checkpoint) before its run is recorded without it.
 */
import type { BodyEnding } from './outcome.js';

/** How long a body may take to stop after the `timeout` signal before its run is recorded without it. */
export const defaultTimeoutGraceMs = 5_000;

const maxTimerMs = 2_147_483_647;

export interface RunTimeoutOptions {
  /** The task's `timeoutSeconds` in ms; absent: no run deadline (only the Lambda's own). */
  timeoutMs: number | undefined;
  /** Time already spent since the claim (parameter checks), taken off the first wait. */
  elapsedMs: number;
  graceMs: number;
  /** Fires the run's signal with reason `timeout`. */
  onTimeout: () => void;
}

/**
 * Runs `body` against the run's deadline: at `timeoutMs` the signal fires (`onTimeout`), and
 * `graceMs` later the wait ends whether the body has or not (`abandoned`: the run ends without
 * it). Every timer is cleared on return.
 */
export async function raceTimeout(
  body: Promise<BodyEnding>,
  options: RunTimeoutOptions,
): Promise<BodyEnding | 'abandoned'> {
  const { timeoutMs, graceMs } = options;
  if (timeoutMs === undefined) return body;
  let timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const giveUp = new Promise<'abandoned'>((resolve) => {
    const untilTimeout = Math.max(0, timeoutMs - options.elapsedMs);
    if (untilTimeout > maxTimerMs) return; // beyond setTimeout's range there is no deadline worth one
    timeoutTimer = setTimeout(() => {
      options.onTimeout();
      graceTimer = setTimeout(() => resolve('abandoned'), graceMs);
    }, untilTimeout);
  });
  try {
    return await Promise.race([body, giveUp]);
  } finally {
    clearTimeout(timeoutTimer);
    clearTimeout(graceTimer);
  }
}

/** A body's promise as its ending: never rejects. */
export async function endingOf(run: () => unknown): Promise<BodyEnding> {
  try {
    return { returned: true, value: await run() };
  } catch (error) {
    return { returned: false, error };
  }
}
