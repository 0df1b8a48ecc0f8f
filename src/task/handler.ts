/**
 * `createTaskHandler`: the Lambda handler that runs task bodies for the tick.
 *
 * One invocation: parse the run event → claim the run from its lease (an event no lease holds as
 * sent is refused; the run item is created `running` from the lease; a duplicate delivery or a run
 * already reclaimed or cancelled finds it present and is dropped) →
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
import { type ClaimRefusal, leaseOfEvent } from '../core/lease-check.js';
import { isEndListed } from '../core/listing.js';
import { type Progress, type RunRecord, type RunStatus, slotSpanOf, type TaskState } from '../core/model.js';
import { historyExpiry } from '../core/plan.js';
import type {
  ClaimResult,
  Clock,
  RunClaim,
  RunFence,
  RunNotifier,
  RunOutcome,
  TaskStore,
} from '../core/ports.js';
import { idempotencyKeyOf, parseRunEvent, type RunEvent } from '../core/run-event.js';
import { makeNotifier, makeStore } from '../deps.js';
import { newId } from '../ids.js';
import { runFromClaim } from '../store/dynamo-items.js';
import { type SettleResult, settleTask } from '../tick/settle.js';
import { defaultTimeoutGraceMs, endingOf, raceTimeout } from './deadline.js';
import type { TaskContext, TaskImplementation, TaskTypes } from './define-task.js';
import { taskEnvSchema } from './env.js';
import { TaskTypeNotServedError } from './errors.js';
import { cloudWatchLogsUrl } from './logs-link.js';
import { outcomeOf, runErrorOf, truncateUtf8 } from './outcome.js';
import { RunLease, runLeaseMs } from './run-lease.js';
import { leaseStoreOf, type PendingClaim, recordEnd } from './unclaimed.js';

/** Options of {@link createTaskHandler}; all optional (tests and the local runtime set some). */
export interface TaskHandlerOptions {
  /** Default: a `DynamoTaskStore` from the environment (`taskEnvSchema`), built once per cold start. */
  store?: TaskStore;
  clock?: Clock;
  /** Between heartbeats (lease extension, progress flush, cancel check). Default 5000. */
  heartbeatIntervalMs?: number;
  /** The signal fires with `deadline` when the Lambda has less than this left. Default 10000. */
  deadlineMarginMs?: number;
  /**
   * After the task's `timeoutSeconds` the signal fires with `timeout`; a body still going this
   * long after is recorded `timed-out` without waiting for it. Default 5000 (`src/task/deadline.ts`).
   */
  timeoutGraceMs?: number;
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
export type TaskLambdaContext = Pick<Context, 'awsRequestId' | 'getRemainingTimeInMillis'> &
  Partial<Pick<Context, 'functionName' | 'functionVersion' | 'logStreamName'>>;

/** What one invocation did (Lambda discards it for async invokes; tests and logs read it). */
export type TaskInvocationResult =
  /** The run already had a record: a duplicate delivery, or reclaimed or cancelled before it started. */
  | { taskId: string; runId: string; claimed: false; existingStatus: RunStatus }
  /**
   * No lease holds the run as the event describes it (a forged or altered event, or a run no tick
   * dispatched): refused, nothing ran, nothing was written.
   */
  | { taskId: string; runId: string; claimed: false; refused: ClaimRefusal['refused']; fields?: string[] }
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

const outcomeMetric = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  'timed-out': 'TimedOut',
} as const;
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
  timeoutGraceMs: number;
  progressFlushMs: number;
  leaseDurationMs: number;
}

function timingOf(options: TaskHandlerOptions): Timing {
  const heartbeatIntervalMs = positive('heartbeatIntervalMs', options.heartbeatIntervalMs, 5_000);
  return {
    heartbeatIntervalMs,
    deadlineMarginMs: positive('deadlineMarginMs', options.deadlineMarginMs, 10_000),
    timeoutGraceMs: positive('timeoutGraceMs', options.timeoutGraceMs, defaultTimeoutGraceMs),
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
  /** Where this invocation runs, from the Lambda context (recorded on the run). */
  ranOn: Pick<RunClaim, 'functionName' | 'functionVersion' | 'logStream'>;
  /** An idempotent task's claim, while not written (`unclaimed.ts`). */
  pending: PendingClaim;
  /** The task as the claim read it, for what its end depends on (its listing across tasks). */
  task?: Pick<TaskState, 'listSucceeded' | 'schedule' | 'timezone'>;
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
  await holdUntilInstant(run, deps.clock);
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
    ranOn: {
      ...(context?.functionName ? { functionName: context.functionName } : {}),
      ...(context?.functionVersion ? { functionVersion: context.functionVersion } : {}),
      ...(context?.logStreamName ? { logStream: context.logStreamName } : {}),
    },
    pending: {},
  };
  const claim = await claimRun(inv, deps);
  if ('refused' in claim) return refuseRun(inv, deps, claim);
  if (!claim.claimed) {
    inv.logger.info('run not started: it already has a record (duplicate delivery, reclaimed or cancelled)', {
      existingStatus: claim.existing.status,
      existingRequestId: claim.existing.requestId,
    });
    return { ...inv.ids, claimed: false, existingStatus: claim.existing.status };
  }
  inv.logger.info(inv.pending.claim ? 'run started unclaimed (idempotent task)' : 'run claimed');
  // The body gets what the claim recorded (from the lease, or a scheduled run's task as it is now).
  const checked = await checkRun(
    { ...inv, run: { ...inv.run, parameters: claim.run.parameters } },
    deps.types,
  );
  if (checked instanceof Error) return finishRun(inv, deps, failedOutcome(inv, deps, checked));
  const leaseExpiresAt = claim.run.leaseExpiresAt ?? new Date(inv.startedAt.getTime() + deps.leaseDurationMs);
  const outcome = await runBodyUnderLease(inv, deps, checked, leaseExpiresAt);
  return finishRun(inv, deps, outcome);
}

/** The longest a run event sent ahead of its instant is held; beyond it (skew, a forged event) it claims at once. */
export const MAX_HOLD_MS = 10_000;

/**
 * A run sent before its instant (the tick sends a large burst of one second early: `agenda.ts`,
 * "Sending ahead") waits for it here, before its claim, so it starts on its second and a cancel,
 * edit or pause before the instant is still found by the claim. The instant is the lease's own
 * dispatch time, which the claim checks against the lease.
 */
async function holdUntilInstant(run: RunEvent, clock: Clock): Promise<void> {
  const wait = Date.parse(run.dispatchedAt) - clock.now().getTime();
  if (wait > 0 && wait <= MAX_HOLD_MS) await new Promise((done) => setTimeout(done, wait));
}

/**
 * Claim, from the lease: a strongly consistent read of the task finds the lease that holds this
 * run with the event's token, slot, attempt, trigger and parameters (`leaseOfEvent`); then the
 * first write of every delivery creates the run item from what the lease recorded, and only one
 * delivery ever does. A run the lease no longer holds but that has a record is a late duplicate.
 *
 * Between the read and the write the lease may be taken back (reclaimed, cancelled, the task
 * deleted): each of those writes the run's record first, so this claim then finds it; a task
 * deleted in that gap leaves a `running` record no lease holds, which the reaper ends.
 */
async function claimRun(inv: Invocation, deps: HandlerDeps): Promise<ClaimResult | ClaimRefusal> {
  const { run, ids, requestId, startedAt } = inv;
  const task = await deps.store.getTask(ids.taskId);
  const found = leaseOfEvent(task, run);
  if ('refused' in found) {
    const existing =
      found.refused === 'no-lease' ? await deps.store.getRun(ids.taskId, ids.runId) : undefined;
    return existing ? { claimed: false, existing } : found;
  }
  const { lease } = found;
  inv.task = task;
  const claim: RunClaim = {
    ...ids,
    type: run.type,
    token: lease.token,
    requestId,
    trigger: lease.trigger,
    attempt: lease.attempt,
    scheduledFor: lease.scheduledFor,
    dispatchedAt: lease.dispatchedAt,
    startedAt,
    leaseExpiresAt: new Date(startedAt.getTime() + deps.leaseDurationMs),
    // A scheduled run takes its task's parameters as they are now: an edit between a lease taken
    // ahead of its slot and the slot applies to it. Other runs keep what they were started with.
    parameters:
      task && (lease.trigger === 'schedule' || lease.trigger === 'catch-up')
        ? task.parameters
        : lease.parameters,
    ...slotSpanOf(lease),
    ...(deps.logs ? { logs: deps.logs } : {}),
    ...inv.ranOn,
    ...(lease.replayOf !== undefined ? { replayOf: lease.replayOf } : {}),
    expiresAt: historyExpiry({ historyRetentionDays: run.historyRetentionDays }, startedAt),
  };
  if (task?.idempotent !== true) return deps.store.claimRun(claim);
  // An idempotent task's run starts without the claim's write (`unclaimed.ts`).
  inv.pending.claim = claim;
  return { claimed: true, run: runFromClaim(claim) };
}

/** A run event no lease holds as sent: nothing runs, nothing is written; a warning and a metric. */
function refuseRun(inv: Invocation, deps: HandlerDeps, refusal: ClaimRefusal): TaskInvocationResult {
  if (refusal.refused === 'no-lease' && refusal.taskGone) {
    // Deleted after its lease was taken (or a made-up task): nothing to run, nothing suspicious.
    inv.logger.info('run not started: its task no longer exists', { detail: refusal.detail });
    return { ...inv.ids, claimed: false, refused: 'no-lease' };
  }
  inv.logger.warn('run event refused: no lease holds this run as the event describes it; nothing ran', {
    refused: refusal.refused,
    detail: refusal.detail,
    ...(refusal.refused === 'mismatch' ? { fields: refusal.fields } : {}),
  });
  if (deps.metrics) {
    deps.metrics.addMetric('RefusedRunEvents', MetricUnit.Count, 1);
    deps.metrics.publishStoredMetrics();
  }
  return {
    ...inv.ids,
    claimed: false,
    refused: refusal.refused,
    ...(refusal.refused === 'mismatch' ? { fields: refusal.fields } : {}),
  };
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
    store: leaseStoreOf(deps.store, inv.pending),
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
  // The task's own deadline (`timeoutSeconds`) races the body: see `deadline.ts`.
  const timeout = run.timeoutSeconds
    ? { timeoutSeconds: run.timeoutSeconds, graceMs: deps.timeoutGraceMs }
    : undefined;
  const ending = await raceTimeout(
    endingOf(() => body(ctx)),
    {
      timeoutMs: timeout && timeout.timeoutSeconds * 1000,
      elapsedMs: deps.clock.now().getTime() - startedAt.getTime(),
      graceMs: deps.timeoutGraceMs,
      onTimeout: () => lease.cancel('timeout'),
    },
  ).finally(() => lease.stop());
  const outcome = outcomeOf(ending, {
    cancelReason: lease.cancelReason,
    signal: lease.signal,
    startedAt,
    finishedAt: deps.clock.now(),
    deadlineMarginMs: deps.deadlineMarginMs,
    ...(timeout ? { timeout } : {}),
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
  const unclaimed = inv.pending.claim !== undefined;
  // A success of a frequent task's slot, or of a task with `listSucceeded: false`, stays out of
  // runs across tasks (src/core/listing.ts); its task's history keeps it.
  const listing = {
    listed: isEndListed(inv.task, {
      status: outcome.status,
      trigger: inv.run.trigger,
      scheduledFor: new Date(inv.run.scheduledFor),
    }),
  };
  const completed = await recordEnd(deps.store, inv.pending, ids, inv.fence, outcome, listing);
  if (!completed.completed) {
    const why = unclaimed
      ? 'completion refused: the run already has a record (another delivery of this idempotent run, a cancel or a time-out); nothing overwritten'
      : 'completion refused: the run lost its lease and was reclaimed; nothing overwritten';
    logger.warn(why, {
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
  if ((outcome.status === 'failed' || outcome.status === 'timed-out') && deps.notifier) {
    await deps.notifier.notify([
      {
        ...ids,
        type: run.type,
        status: outcome.status,
        scheduledFor: new Date(run.scheduledFor),
        attempt: run.attempt,
        ...(outcome.error ? { error: { name: outcome.error.name, message: outcome.error.message } } : {}),
      },
    ]);
  }
  if (outcome.status === 'failed') logger.error('run failed', { ...summary, error: outcome.error });
  else if (outcome.status === 'timed-out') logger.error('run timed out', { ...summary, note: outcome.note });
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
    // Nothing waited behind this run at dispatch, and only a failure or a time-out plans anything: the
    // fold waits for the task's next due instant, and this run saves a read.
    settled =
      outcome.status !== 'failed' && outcome.status !== 'timed-out' && run.settle === false
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
