import { TickworkError } from '../core/errors.js';
import type { CancelReason } from '../core/model.js';

/**
 * The reason `ctx.signal` aborts with, and what `ctx.throwIfCancelled()` throws. `reason` says why:
 * `cancelled` (asked through the API), `timeout` (the task's `timeoutSeconds` passed since the
 * run started), `deadline` (the Lambda's remaining time fell below the deadline margin) or
 * `lease-lost` (the tick reclaimed the run: another attempt may already run).
 *
 * Ending the task with this error (or any `AbortError`) after the signal fired records the run as
 * `cancelled`, not `failed`; after a `timeout`, any ending records it `timed-out`.
 */
export class TaskCancelledError extends TickworkError {
  override readonly name = 'TaskCancelledError';
  override readonly code = 'task_cancelled';
  constructor(
    readonly reason: CancelReason,
    readonly taskId: string,
    readonly runId: string,
  ) {
    super(`run ${runId} of task ${taskId} was stopped: ${reason}`);
  }
}

/**
 * A run of a type the handler's task map does not hold: the type is registered with this
 * function, but the deployed code does not serve it (a deploy that left it out, or a type
 * registered against the wrong function). Recorded as the run's error; the run fails.
 */
export class TaskTypeNotServedError extends TickworkError {
  override readonly name = 'TaskTypeNotServedError';
  override readonly code = 'unknown_task_type';
  constructor(
    readonly type: string,
    readonly served: string[],
    options?: ErrorOptions,
  ) {
    super(
      `this handler does not serve task type ${type}; it serves: ${served.join(', ') || '(none)'}`,
      options,
    );
  }
}

/** The handler was invoked with something that is not a Tickwork run event (declared with the event). */
export { InvalidRunEventError } from '../core/run-event.js';
