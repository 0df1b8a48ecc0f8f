import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { CancelReason, Parameters, Trigger } from '../core/model.js';

/**
 * What a task body gets: the run's identity, its parameters, the cancellation token, progress
 * reporting and a logger whose every line carries `taskId` and `runId`.
 */
export interface TaskContext<P = Parameters> {
  readonly taskId: string;
  readonly runId: string;
  /** The task type, e.g. `Acme.CleanupFiles`. */
  readonly type: string;
  /** The slot this run stands for (for a retry: the slot of the failed attempt). */
  readonly scheduledFor: Date;
  /** 1 for the first attempt, 2 for the first retry, ... */
  readonly attempt: number;
  readonly trigger: Trigger;
  /** The run's parameters, parsed by the task's schema when it has one. */
  readonly parameters: P;
  /** The Lambda request id that claimed the run. */
  readonly requestId: string;
  /**
   * `<taskId>:<scheduledFor ISO>`: the same for every attempt of a slot. Pass it to external
   * systems that dedupe (payment APIs, `ClientRequestToken`s, conditional writes) so a slot's
   * effect happens once even when an attempt dies half-way and is retried.
   */
  readonly idempotencyKey: string;
  /**
   * Aborts when the run should stop; its `reason` is a `TaskCancelledError` whose `reason` is
   * `cancelled`, `deadline` or `lease-lost`. Check it between batches of work or pass it to I/O.
   */
  readonly signal: AbortSignal;
  /** Why `signal` fired, once it has. */
  readonly cancelReason: CancelReason | undefined;
  /** Throws the signal's `TaskCancelledError` when it has fired. */
  throwIfCancelled(): void;
  /**
   * Reports progress. Cheap to call often: the latest value is written with the next heartbeat,
   * at most about once per `progressFlushMs` (default 1 s), and with the run's completion.
   */
  setProgress(value: number, max?: number, message?: string): void;
  /** A Powertools logger; every line carries `taskId`, `runId`, `taskType`, `attempt`. */
  readonly logger: Logger;
  /** Milliseconds left before the Lambda times out. */
  remainingTimeMs(): number;
}

/** A task body: what it returns becomes the run's result message. */
export type TaskBody<P = Parameters> = (ctx: TaskContext<P>) => unknown;

/**
 * A task type's implementation, made by {@link defineTask}. `I` is what a client sends for the
 * parameters (the schema's input: fields with a default may be left out); the CDK construct types
 * tasks declared as code with it.
 */
export interface TaskDefinition<P = Parameters, I = P> {
  readonly kind: 'tickwork.task';
  /** Shown by the API, the CLI and the dashboard; registered with the type. */
  readonly description?: string;
  /** Parses the run's parameters; failures fail the run with a `ValidationError` before `run`. */
  readonly parameters?: z.ZodType<P, I>;
  /** The body. A method, so a definition of any `P` fits a map of definitions. */
  run(ctx: TaskContext<P>): unknown;
}

/**
 * Defines a task type's implementation, optionally with a zod schema for its parameters, which
 * types `ctx.parameters` and fails a run with bad parameters before the body is called.
 *
 * @example
 * export const cleanupFiles = defineTask({
 *   parameters: z.object({ bucket: z.string(), olderThanDays: z.number().int().default(30) }),
 *   async run(ctx) {
 *     const deleted = await deleteOld(ctx.parameters.bucket, ctx.parameters.olderThanDays, ctx.signal);
 *     return { deleted };
 *   },
 * });
 */
export function defineTask<S extends z.ZodType<unknown>>(definition: {
  description?: string;
  parameters: S;
  run: TaskBody<z.output<S>>;
}): TaskDefinition<z.output<S>, z.input<S>>;
export function defineTask(definition: {
  description?: string;
  parameters?: undefined;
  run: TaskBody<Parameters>;
}): TaskDefinition;
export function defineTask(definition: {
  description?: string;
  parameters?: z.ZodType<unknown>;
  run: TaskBody<never>;
}): TaskDefinition<never, never> {
  const { description, parameters, run } = definition;
  // The overloads tie the schema's output to the body's parameters; here both are erased.
  return {
    kind: 'tickwork.task',
    ...(description === undefined ? {} : { description }),
    ...(parameters ? { parameters: parameters as z.ZodType<never, never> } : {}),
    run,
  };
}

/** What a handler serves per task type: a {@link TaskDefinition}, or a plain (async) function. */
export type TaskImplementation = TaskDefinition<unknown> | TaskBody<Parameters>;

/** Task types served by one handler Lambda, by type name. */
export type TaskTypes = Record<string, TaskImplementation>;
