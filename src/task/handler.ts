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
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Context } from 'aws-lambda';
import { EventBridgeRunNotifier } from '../aws/eventbridge-notifier.js';
import { withoutSdkLogging } from '../aws/sdk-clients.js';
import { ValidationError } from '../core/errors.js';
import type { Progress, RunStatus } from '../core/model.js';
import { historyExpiry } from '../core/plan.js';
import type { Clock, RunNotifier, RunOutcome, TaskStore } from '../core/ports.js';
import { idempotencyKeyOf, parseRunEvent, type RunEvent } from '../core/run-event.js';
import { newId } from '../ids.js';
import { DynamoTaskStore } from '../store/dynamo-task-store.js';
import { type SettleResult, settleTask } from '../tick/settle.js';
import type { TaskContext, TaskImplementation, TaskTypes } from './define-task.js';
import { taskEnvSchema } from './env.js';
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

const outcomeMetric = { succeeded: 'Succeeded', failed: 'Failed', cancelled: 'Cancelled' } as const;

function notifierFromEnv(env: Record<string, string | undefined>, logger: Logger): RunNotifier | undefined {
  const bus = taskEnvSchema.shape.TICKWORK_EVENT_BUS.parse(env.TICKWORK_EVENT_BUS);
  if (!bus) return undefined;
  return new EventBridgeRunNotifier(new EventBridgeClient({}), bus, (error) =>
    logger.warn('run notice not delivered', { error: String(error) }),
  );
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

const systemClock: Clock = { now: () => new Date() };
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

function storeFromEnv(env: Record<string, string | undefined>): TaskStore {
  const parsed = taskEnvSchema.parse(env);
  // Endpoints come from the SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB locally).
  return new DynamoTaskStore({
    client: withoutSdkLogging(new DynamoDBClient({})),
    tableName: parsed.TICKWORK_TABLE,
    shardCount: parsed.TICKWORK_SHARDS,
    dueKeyHoldMs: parsed.TICKWORK_DUE_KEY_HOLD_MS,
  });
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

/**
 * Makes the Lambda handler that runs the given task types. One handler Lambda may serve several
 * types; a run of a type it does not serve fails with `UnknownTaskTypeError`.
 *
 * @example
 * export const handler = createTaskHandler({
 *   'Acme.CleanupFiles': cleanupFiles, // defineTask({ parameters, run })
 *   'Acme.Ping': async (ctx) => `pong from ${ctx.taskId}`,
 * });
 */
export function createTaskHandler(types: TaskTypes, options: TaskHandlerOptions = {}): TaskHandler {
  const env = options.env ?? process.env;
  const clock = options.clock ?? systemClock;
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 5_000);
  const deadlineMarginMs = positive('deadlineMarginMs', options.deadlineMarginMs, 10_000);
  const progressFlushMs = positive('progressFlushMs', options.progressFlushMs, 1_000);
  const leaseDurationMs = runLeaseMs(heartbeatIntervalMs);
  const newRunId = options.newRunId ?? newId;
  const baseLogger = options.logger ?? defaultLogger(env);
  let store = options.store;
  const metrics =
    options.metrics === false
      ? undefined
      : (options.metrics ??
        new Metrics({
          namespace: taskEnvSchema.shape.POWERTOOLS_METRICS_NAMESPACE.parse(env.POWERTOOLS_METRICS_NAMESPACE),
          serviceName: taskEnvSchema.shape.POWERTOOLS_SERVICE_NAME.parse(env.POWERTOOLS_SERVICE_NAME),
        }));
  const notifier = options.notifier ?? notifierFromEnv(env, baseLogger);

  return async (event, context) => {
    const run = parseRunEvent(event);
    store ??= storeFromEnv(env);
    const requestId = context?.awsRequestId ?? randomUUID();
    const remainingTimeMs = () => context?.getRemainingTimeInMillis() ?? Number.POSITIVE_INFINITY;
    const logger = baseLogger.createChild({
      persistentKeys: {
        taskId: run.taskId,
        runId: run.runId,
        taskType: run.type,
        attempt: run.attempt,
        trigger: run.trigger,
        requestId,
      },
    });
    const fence = { token: run.token, requestId };
    const ids = { taskId: run.taskId, runId: run.runId };

    // Claim: the first write of every delivery; only one delivery ever creates the run item.
    const startedAt = clock.now();
    const logs = cloudWatchLogsUrl(env);
    const claim = await store.claimRun({
      ...ids,
      type: run.type,
      token: run.token,
      requestId,
      trigger: run.trigger,
      attempt: run.attempt,
      scheduledFor: new Date(run.scheduledFor),
      dispatchedAt: new Date(run.dispatchedAt),
      startedAt,
      leaseExpiresAt: new Date(startedAt.getTime() + leaseDurationMs),
      parameters: run.parameters,
      ...(logs ? { logs } : {}),
      expiresAt: historyExpiry({ historyRetentionDays: run.historyRetentionDays }, startedAt),
    });
    if (!claim.claimed) {
      logger.info('run not started: it already has a record (duplicate delivery, reclaimed or cancelled)', {
        existingStatus: claim.existing.status,
        existingRequestId: claim.existing.requestId,
      });
      return { ...ids, claimed: false, existingStatus: claim.existing.status };
    }
    logger.info('run claimed');

    const finish = async (outcome: RunOutcome): Promise<TaskInvocationResult> => {
      const activeStore = store as TaskStore;
      const completed = await activeStore.completeRun(run.taskId, run.runId, fence, outcome);
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
      const summary = { status: outcome.status, durationMs: outcome.durationMs };
      if (metrics) {
        metrics.addMetric(outcomeMetric[outcome.status], MetricUnit.Count, 1);
        metrics.addMetric('RunDuration', MetricUnit.Milliseconds, outcome.durationMs);
        metrics.publishStoredMetrics();
      }
      if (outcome.status === 'failed' && notifier) {
        await notifier.notify([
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
      else
        logger.info(`run ${outcome.status}`, { ...summary, ...(outcome.note ? { note: outcome.note } : {}) });
      let settled: SettleResult | 'error';
      try {
        // Nothing waited behind this run at dispatch, and only a failure plans anything: the
        // fold waits for the task's next due instant, and this run saves a read.
        settled =
          outcome.status !== 'failed' && run.settle === false
            ? 'skipped'
            : await settleTask(activeStore, completed.run, { clock, newRunId });
      } catch (error) {
        // The record is terminal; the tick folds it at the task's next due instant.
        logger.warn('settling the task failed; the tick will fold the run', {
          error: (error as Error).message,
        });
        settled = 'error';
      }
      if (settled === 'contended') logger.warn('settling the task kept losing; the tick will fold the run');
      return { ...ids, claimed: true, status: outcome.status, recorded: true, settled };
    };
    const failedWith = (error: Error) => {
      const finishedAt = clock.now();
      return finish({
        status: 'failed',
        finishedAt,
        durationMs: finishedAt.getTime() - startedAt.getTime(),
        error: runErrorOf(error),
      });
    };

    const implementation: TaskImplementation | undefined = Object.hasOwn(types, run.type)
      ? types[run.type]
      : undefined;
    if (!implementation) {
      const error = new Error(
        `this handler does not serve task type ${run.type}; it serves: ${Object.keys(types).join(', ') || '(none)'}`,
      );
      error.name = 'UnknownTaskTypeError';
      return failedWith(error);
    }
    const body: (ctx: TaskContext<unknown>) => unknown =
      typeof implementation === 'function'
        ? (implementation as (ctx: TaskContext<unknown>) => unknown)
        : (c) => implementation.run(c);
    let parameters: unknown = run.parameters;
    if (typeof implementation !== 'function' && implementation.parameters) {
      const parsed = await implementation.parameters.safeParseAsync(run.parameters);
      if (!parsed.success) return failedWith(parameterError(parsed.error.issues));
      parameters = parsed.data;
    }

    const lease = new RunLease({
      store,
      clock,
      ...ids,
      fence,
      leaseExpiresAt: claim.run.leaseExpiresAt ?? new Date(startedAt.getTime() + leaseDurationMs),
      heartbeatIntervalMs,
      progressFlushMs,
      leaseDurationMs,
      remainingTimeMs,
      deadlineMarginMs,
      logger,
    });
    const ctx = makeContext(run, { parameters, requestId, lease, logger, clock, remainingTimeMs });
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
      finishedAt: clock.now(),
      deadlineMarginMs,
    });
    return finish({ ...outcome, ...(lease.progress ? { progress: lease.progress } : {}) });
  };
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
