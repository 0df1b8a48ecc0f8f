/**
 * The task SDK: what runs inside a handler Lambda. See `docs/writing-tasks.md`.
 *
 * @example
 * import { z } from 'zod';
 * import { createTaskHandler, defineTask } from 'tickwork/task';
 *
 * const cleanupFiles = defineTask({
 *   parameters: z.object({ bucket: z.string() }),
 *   async run(ctx) {
 *     ctx.setProgress(0, 1, `scanning ${ctx.parameters.bucket}`);
 *     return { deleted: 0 };
 *   },
 * });
 * export const handler = createTaskHandler({ 'Acme.CleanupFiles': cleanupFiles });
 */
export type { CancelReason, JsonValue, Parameters, Trigger } from '../core/model.js';
export { idempotencyKeyOf, type RunEvent } from '../core/run-event.js';
export {
  defineTask,
  type TaskBody,
  type TaskContext,
  type TaskDefinition,
  type TaskImplementation,
  type TaskTypes,
} from './define-task.js';
export { type TaskEnv, type TaskEnvInput, taskEnvSchema } from './env.js';
export { InvalidRunEventError, TaskCancelledError, TaskTypeNotServedError } from './errors.js';
export {
  createTaskHandler,
  type TaskHandler,
  type TaskHandlerOptions,
  type TaskInvocationResult,
  type TaskLambdaContext,
} from './handler.js';
export { isCancellation } from './outcome.js';
