/**
 * `createTaskHandler`: the Lambda handler that runs task bodies for the tick.
 *
 * One invocation: parse the run event → claim the run (the run item is created `running`; a
 * duplicate delivery or a run already reclaimed or cancelled finds it present and is dropped) →
 * check the type and parameters → run the body under heartbeats and a cancellation token →
 * complete the run (fenced by token and request id; refused if the lease was reclaimed) →
 * settle the task (fold retries, stopOnError, queued runs through the pure planner).
 */

import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { systemClock } from '../clock.js';
import { ValidationError } from '../core/errors.js';
import type { Progress, RunRecord, RunStatus } from '../core/model.js';
import { historyExpiry } from '../core/plan.js';
import type { Clock, RunFence, RunNotifier, RunOutcome, TaskStore } from '../core/ports.js';
import { idempotencyKeyOf, parseRunEvent, type RunEvent } from '../core/run-event.js';
import { makeNotifier, makeStore } from '../deps.js';
import { newId } from '../ids.js';
import { type SettleResult, settleTask } from '../tick/settle.js';
import type { TaskContext, TaskImplementation, TaskTypes } from './define-task.js';
import { taskEnvSchema } from './env.js';
import { TaskTypeNotServedError } from './errors.js';
import { cloudWatchLogsUrl } from './logs-link.js';
import { type BodyEnding, outcomeOf, runErrorOf, truncateUtf8 } from './outcome.js';
import { RunLease, runLeaseMs } from './run-lease.js';

/** Options of {@link createTaskHandler}; all optional (tests and the local runtime set some). */
export interface TaskHandlerOptions {
  /** Default: a `DynamoTaskStore` from the environment (`taskEnvSchema`), built once per cold start. */
  store?: TaskStore;
  clock?: Clock;
  /** Between heartbeats (lease extension, progress flush, cancel check). Default 5000. */
  heartbeatIntervalMs?: number;
  /** The signal fires with `deadline` when the Lambda has less than this left. Default 10000. */
  deadlineMarginMs?: number;
  /** Least time between two progress writes. Default 1000. */
  progressFlushMs?: number;
  /** Parent of every run's logger. Default: a Powertools `Logger` (service `tickwork-task`). */
  logger?: Logger;
  /** Run ids of retries and queued runs planned at settling. Default: ULIDs. */
  newRunId?: () => string;
  /** Where the table and the log stream are read from. Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * Run metrics (`Succeeded`, `Failed`, `Cancelled`, `RunDuration`). Default: Powertools
   * `Metrics` in the `POWERTOOLS_METRICS_NAMESPACE` namespace; `false` publishes none.
   */
  metrics?: Metrics | false;
  /** Where failed runs are announced. Default: EventBridge when `TICKWORK_EVENT_BUS` is set. */
  notifier?: RunNotifier;
}

/** The part of the Lambda context the handler uses. */
export type TaskLambdaContext = Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'>;

/** What one invocation did (Lambda discards it for async invokes; tests and logs read it). */
export type TaskInvocationResult =
  /** The run already had a record: a duplicate delivery, or reclaimed or cancelled before it started. */
  | { taskId: string; runId: string; claimed: false; existingStatus: RunStatus }
  /** The run ended and its completion was recorded. */
  | {
      taskId: string;
      runId: string;
      claimed: true;
      status: RunOutcome['status'];
      recorded: true;
      settled: SettleResult | 'error';
    }
  /** The run ended but its completion was refused: the lease had been reclaimed. */
  | {
      taskId: string;
      runId: string;
      claimed: true;
      status: RunOutcome['status'];
      recorded: false;
      currentStatus?: RunStatus;
    };

/** The Lambda handler {@link createTaskHandler} returns. */
export type TaskHandler = (event: unknown, context?: TaskLambdaContext) => Promise<TaskInvocationResult>;

const outcomeMetric = { succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' } as const;
const maxProgressMessageBytes = 1024;

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number, not ${v}`);
  return v;
}

function defaultLogger(env: Record<string, string | undefined>): Logger {
  // Powertools reads POWERTOOLS_SERVICE_NAME itself; an option would override it.
  return env.POWERTOOLS_SERVICE_NAME ? new Logger() : new Logger({ serviceName: 'tickwork-task' });
}

/** The failure of a run whose parameters the task's schema refused. */
function parameterError(issues: { path: PropertyKey[]; message: string }[]): ValidationError {
  return new ValidationError(
    issues.map((i) => ({
      field: ['parameters', ...i.path.map(String)].join('.'),
      message: i.message,
    })),
  );
}

/** The handler's timings, checked when it is made. */
interface Timing {
  heartbeatIntervalMs: number;
  deadlineMarginMs: number;
  progressFlushMs: number;
  leaseDurationMs: number;
}

function timingOf(options: TaskHandlerOptions): Timing {
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 5_000);
  return {
    heartbeatIntervalMs,
    deadlineMarginMs: positive('deadlineMarginMs', options.deadlineMarginMs, 10_000),
    progressFlushMs: positive('progressFlushMs', options.progressFlushMs, 1_000),
    leaseDurationMs: runLeaseMs(heartbeatIntervalMs),
  };
}

/** What every invocation of one handler uses: resolved once, at the first invocation. */
interface HandlerDeps extends Timing {
  types: TaskTypes;
  store: TaskStore;
  clock: Clock;
  newRunId: () => string;
  baseLogger: Logger;
  metrics: Metrics | undefined;
  notifier: RunNotifier | undefined;
  /** The run's CloudWatch Logs link, when the environment names the log group and stream. */
  logs: string | undefined;
}

/**
 * The handler's deps: the options' own, and the rest from the environment, parsed once (the
 * store's variables only when no store is given).
 */
function resolveDeps(
  types: TaskTypes,
  options: TaskHandlerOptions,
  env: Record<string, string | undefined>,
  baseLogger: Logger,
  timing: Timing,
): HandlerDeps {
  const given = options.store;
  const parsed = given
    ? { ...taskEnvSchema.omit({ TICKWORK_TABLE: true }).parse(env), TICKWORK_TABLE: '' }
    : taskEnvSchema.parse(env);
  return {
    ...timing,
    types,
    store: given ?? makeStore(parsed),
    clock: options.clock ?? systemClock,
    newRunId: options.newRunId ?? newId,
    baseLogger,
    metrics:
      options.metrics === false
        ? undefined
        : (options.metrics ??
          new Metrics({
            namespace: parsed.POWERTOOLS_METRICS_NAMESPACE,
            serviceName: parsed.POWERTOOLS_SERVICE_NAME,
          })),
    notifier: options.notifier ?? makeNotifier(parsed.TICKWORK_EVENT_BUS, baseLogger),
    logs: cloudWatchLogsUrl(env),
  };
}

/**
 * Makes the Lambda handler that runs the given task types. One handler Lambda may serve several
 * types; a run of a type it does not serve fails with `TaskTypeNotServedError`.
 *
 * @example
 * export const handler = createTaskHandler({
 *   'Acme.CleanupFiles': cleanupFiles, // defineTask({ parameters, run })
 *   'Acme.Ping': async (ctx) => `pong from ${ctx.taskId}`,
 * });
 */
export function createTaskHandler(types: TaskTypes, options: TaskHandlerOptions = {}): TaskHandler {
  const env = options.env ?? process.env;
  const timing = timingOf(options);
  const baseLogger = options.logger ?? defaultLogger(env);
  let deps: HandlerDeps | undefined;
  return async (event, context) => {
    const run = parseRunEvent(event);
    deps ??= resolveDeps(types, options, env, baseLogger, timing);
    return runOnce(run, context, deps);
  };
}

/** One invocation of one run: what its steps share. */
interface Invocation {
  run: RunEvent;
  ids: { taskId: string; runId: string };
  requestId: string;
  fence: RunFence;
  logger: Logger;
  startedAt: Date;
  remainingTimeMs: () => number;
}

/**
 * One run, as named steps: claim it → check its type and parameters → run the body under its
 * lease → complete the run → notify (metrics, notices, the log) → settle the task.
 */
async function runOnce(
  run: RunEvent,
  context: TaskLambdaContext | undefined,
  deps: HandlerDeps,
): Promise<TaskInvocationResult> {
  const requestId = context?.awsRequestId ?? randomUUID();
  const inv: Invocation = {
    run,
    ids: { taskId: run.taskId, runId: run.runId },
    requestId,
    fence: { token: run.token, requestId },
    logger: deps.baseLogger.createChild({
      persistentKeys: {
        taskId: run.taskId,
        runId: run.runId,
        taskType: run.type,
        attempt: run.attempt,
        trigger: run.trigger,
        requestId,
      },
    }),
    startedAt: deps.clock.now(),
    remainingTimeMs: () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY,
  };
  const claim = await claimRun(inv, deps);
  if (!claim.claimed) {
    inv.logger.info('run not started: it already has a record (duplicate delivery, reclaimed or cancelled)', {
      existingStatus: claim.existing.status,
      existingRequestId: claim.existing.requestId,
    });
    return { ...inv.ids, claimed: false, existingStatus: claim.existing.status };
  }
  inv.logger.info('run claimed');
  const checked = await checkRun(inv, deps.types);
  if (checked instanceof Error) return finishRun(inv, deps, failedOutcome(inv, deps, checked));
  const leaseExpiresAt = claim.run.leaseExpiresAt ?? new Date(inv.startedAt.getTime() + deps.leaseDurationMs);
  const outcome = await runBodyUnderLease(inv, deps, checked, leaseExpiresAt);
  return finishRun(inv, deps, outcome);
}

/** Claim: the first write of every delivery; only one delivery ever creates the run item. */
function claimRun({ run, ids, requestId, startedAt }: Invocation, deps: HandlerDeps) {
  return deps.store.claimRun({
    ...ids,
    type: run.type,
    token: run.token,
    requestId,
    trigger: run.trigger,
    attempt: run.attempt,
    scheduledFor: new Date(run.scheduledFor),
    dispatchedAt: new Date(run.dispatchedAt),
    startedAt,
    leaseExpiresAt: new Date(startedAt.getTime() + deps.leaseDurationMs),
    parameters: run.parameters,
    ...(deps.logs ? { logs: deps.logs } : {}),
    ...(run.replayOf !== undefined ? { replayOf: run.replayOf } : {}),
    expiresAt: historyExpiry({ historyRetentionDays: run.historyRetentionDays }, startedAt),
  });
}

/** A body to run and its parsed parameters. */
interface CheckedRun {
  body: (ctx: TaskContext<unknown>) => unknown;
  parameters: unknown;
}

/**
 * The run's body, if this handler serves its type, and its parameters, if the type's schema takes
 * them; otherwise the error the run fails with.
 */
async function checkRun({ run }: Invocation, types: TaskTypes): Promise<CheckedRun | Error> {
  const implementation: TaskImplementation | undefined = Object.hasOwn(types, run.type)
    ? types[run.type]
    : undefined;
  if (!implementation) return new TaskTypeNotServedError(run.type, Object.keys(types));
  if (typeof implementation === 'function') {
    return { body: implementation as (ctx: TaskContext<unknown>) => unknown, parameters: run.parameters };
  }
  const body = (c: TaskContext<unknown>) => implementation.run(c);
  if (!implementation.parameters) return { body, parameters: run.parameters };
  const parsed = await implementation.parameters.safeParseAsync(run.parameters);
  if (!parsed.success) return parameterError(parsed.error.issues);
  return { body, parameters: parsed.data };
}

/** The outcome of a run that failed before its body ran. */
function failedOutcome({ startedAt }: Invocation, deps: HandlerDeps, error: Error): RunOutcome {
  const finishedAt = deps.clock.now();
  return {
    status: 'failed',
    finishedAt,
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    error: runErrorOf(error),
  };
}

/** Runs the body with heartbeats and a cancellation token; the lease stops before the outcome is written. */
async function runBodyUnderLease(
  inv: Invocation,
  deps: HandlerDeps,
  { body, parameters }: CheckedRun,
  leaseExpiresAt: Date,
): Promise<RunOutcome> {
  const { run, logger, requestId, remainingTimeMs, startedAt } = inv;
  const lease = new RunLease({
    store: deps.store,
    clock: deps.clock,
    ...inv.ids,
    fence: inv.fence,
    leaseExpiresAt,
    heartbeatIntervalMs: deps.heartbeatIntervalMs,
    progressFlushMs: deps.progressFlushMs,
    leaseDurationMs: deps.leaseDurationMs,
    remainingTimeMs,
    deadlineMarginMs: deps.deadlineMarginMs,
    logger,
  });
  const ctx = makeContext(run, { parameters, requestId, lease, logger, clock: deps.clock, remainingTimeMs });
  lease.start();
  let ending: BodyEnding;
  try {
    ending = { returned: true, value: await body(ctx) };
  } catch (error) {
    ending = { returned: false, error };
  } finally {
    await lease.stop();
  }
  const outcome = outcomeOf(ending, {
    cancelReason: lease.cancelReason,
    signal: lease.signal,
    startedAt,
    finishedAt: deps.clock.now(),
    deadlineMarginMs: deps.deadlineMarginMs,
  });
  return { ...outcome, ...(lease.progress ? { progress: lease.progress } : {}) };
}

/** Complete (fenced), then notify and settle; a refused completion writes nothing more. */
async function finishRun(
  inv: Invocation,
  deps: HandlerDeps,
  outcome: RunOutcome,
): Promise<TaskInvocationResult> {
  const { ids, logger } = inv;
  const completed = await deps.store.completeRun(ids.taskId, ids.runId, inv.fence, outcome);
  if (!completed.completed) {
    logger.warn('completion refused: the run lost its lease and was reclaimed; nothing overwritten', {
      status: outcome.status,
      currentStatus: completed.current?.status,
    });
    return {
      ...ids,
      claimed: true,
      status: outcome.status,
      recorded: false,
      ...(completed.current ? { currentStatus: completed.current.status } : {}),
    };
  }
  await notifyOutcome(inv, deps, outcome);
  const settled = await settleAfterRun(inv, deps, outcome, completed.run);
  return { ...ids, claimed: true, status: outcome.status, recorded: true, settled };
}

/** Metrics, the notice of a failed run, and the run's last log line. */
async function notifyOutcome({ run, ids, logger }: Invocation, deps: HandlerDeps, outcome: RunOutcome) {
  const summary = { status: outcome.status, durationMs: outcome.durationMs };
  if (deps.metrics) {
    deps.metrics.addMetric(outcomeMetric[outcome.status], MetricUnit.Count, 1);
    deps.metrics.addMetric('RunDuration', MetricUnit.Milliseconds, outcome.durationMs);
    deps.metrics.publishStoredMetrics();
  }
  if (outcome.status === 'failed' && deps.notifier) {
    await deps.notifier.notify([
      {
        ...ids,
        type: run.type,
        status: 'failed',
        scheduledFor: new Date(run.scheduledFor),
        attempt: run.attempt,
        ...(outcome.error ? { error: { name: outcome.error.name, message: outcome.error.message } } : {}),
      },
    ]);
  }
  if (outcome.status === 'failed') logger.error('run failed', { ...summary, error: outcome.error });
  else logger.info(`run ${outcome.status}`, { ...summary, ...(outcome.note ? { note: outcome.note } : {}) });
}

/** Settle: fold the run into its task (retries, stopOnError, queued runs), or leave it to the tick. */
async function settleAfterRun(
  { run, logger }: Invocation,
  deps: HandlerDeps,
  outcome: RunOutcome,
  record: RunRecord,
): Promise<SettleResult | 'error'> {
  let settled: SettleResult | 'error';
  try {
    // Nothing waited behind this run at dispatch, and only a failure plans anything: the
    // fold waits for the task's next due instant, and this run saves a read.
    settled =
      outcome.status !== 'failed' && run.settle === false
        ? 'skipped'
        : await settleTask(deps.store, record, { clock: deps.clock, newRunId: deps.newRunId });
  } catch (error) {
    // The record is terminal; the tick folds it at the task's next due instant.
    logger.warn('settling the task failed; the tick will fold the run', {
      error: (error as Error).message,
    });
    settled = 'error';
  }
  if (settled === 'contended') logger.warn('settling the task kept losing; the tick will fold the run');
  return settled;
}

function makeContext(
  run: RunEvent,
  deps: {
    parameters: unknown;
    requestId: string;
    lease: RunLease;
    logger: Logger;
    clock: Clock;
    remainingTimeMs: () => number;
  },
): TaskContext<unknown> {
  const { lease, clock } = deps;
  return {
    taskId: run.taskId,
    runId: run.runId,
    type: run.type,
    scheduledFor: new Date(run.scheduledFor),
    attempt: run.attempt,
    trigger: run.trigger,
    parameters: deps.parameters,
    requestId: deps.requestId,
    idempotencyKey: idempotencyKeyOf(run),
    signal: lease.signal,
    get cancelReason() {
      return lease.cancelReason;
    },
    throwIfCancelled() {
      lease.signal.throwIfAborted();
    },
    setProgress(value: number, max?: number, message?: string) {
      if (!Number.isFinite(value))
        throw new RangeError(`progress value must be a finite number, not ${value}`);
      if (max !== undefined && !Number.isFinite(max))
        throw new RangeError(`progress max must be a finite number, not ${max}`);
      const progress: Progress = {
        value,
        ...(max !== undefined ? { max } : {}),
        ...(message !== undefined ? { message: truncateUtf8(String(message), maxProgressMessageBytes) } : {}),
        updatedAt: clock.now(),
      };
      lease.setProgress(progress);
    },
    logger: deps.logger,
    remainingTimeMs: deps.remainingTimeMs,
  };
}
