import pLimit from 'p-limit';
import type { ActiveRun } from '../core/model.js';
import { isTerminal, type RunRecord, RunStatus, type TaskState } from '../core/model.js';
import { dispatchedRecord, type PlanSettings, planTask, type TaskPlan } from '../core/plan.js';
import type { Clock, RunNotice, RunNotifier, RunWrite, TaskInvoker, TaskStore } from '../core/ports.js';
import { runEventOf } from '../core/run-event.js';
import { scheduleFor } from '../core/schedule-cache.js';
import type { TaskTypeRegistry } from './registry.js';

/** The subset of a structured logger (Powertools `Logger` fits) the tick uses. */
export interface TickLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What the tick needs; built once per cold start by `functions/tick.ts`. */
export interface TickDeps {
  store: TaskStore;
  invoker: TaskInvoker;
  clock: Clock;
  registry: TaskTypeRegistry;
  newRunId: () => string;
  logger?: TickLogger;
  /** Where notices of failed, timed-out, skipped and missed runs go (EventBridge on AWS). */
  notifier?: RunNotifier;
  /** Called with each run the tick started, skipped, missed or timed out (metrics, events). */
  onRun?: (event: {
    kind: 'started' | 'failed-to-start';
    taskId: string;
    runId: string;
    type: string;
  }) => void;
}

export interface TickOptions {
  /** The tick's instant; the clock's when absent. */
  now?: Date;
  /** Stop taking new tasks after this long (leave room before the Lambda's timeout). */
  budgetMs?: number;
  /** Invokes (and single saves) in flight at once; batches of 25 saves in flight: this ÷ 25, rounded up. */
  concurrency?: number;
  settings?: Partial<PlanSettings>;
  /** Record the tick in the scheduler state (`lastTickAt`). */
  recordTick?: boolean;
  /**
   * The due-index shards this tick reads, when ticks are split over several invocations (one
   * schedule per shard group, each with its own CPU); every shard when absent. Each task lives in
   * exactly one shard, so ticks over disjoint groups never meet on a task.
   */
  shards?: readonly number[];
}

/** The shards a tick reads: `requested` checked against the store's count, or all of them. */
export function tickShards(shardCount: number, requested?: readonly number[]): number[] {
  if (requested === undefined) return Array.from({ length: shardCount }, (_, shard) => shard);
  if (requested.length === 0) throw new RangeError('a tick needs at least one shard');
  for (const shard of requested) {
    if (!Number.isInteger(shard) || shard < 0 || shard >= shardCount) {
      throw new RangeError(`shard ${shard} does not exist: the due index has shards 0 to ${shardCount - 1}`);
    }
  }
  return [...new Set(requested)].sort((a, b) => a - b);
}

/** What a tick did. Counts are of runs (or slots, for skipped and missed). */
export interface TickReport {
  startedAt: Date;
  /** The due-index shards this tick read. */
  shards: number[];
  /** Tasks the due index returned. */
  due: number;
  started: number;
  skipped: number;
  missed: number;
  timedOut: number;
  /** Runs whose invoke failed, and tasks whose plan could not be carried out. */
  failed: number;
  /** Tasks another tick (or the API) changed first: nothing to do, they won. */
  contended: number;
  /** Due tasks left for the next tick because the time budget ran out. */
  deferred: number;
  itemsRead: number;
  writes: number;
  durationMs: number;
  /** How late the runs it started were: invoke accepted minus their slot's instant, in ms. */
  latenessMs: { max: number; mean: number };
  errors: { taskId?: string; message: string }[];
}

/** The outcome of dispatching one task. */
export interface DispatchOutcome {
  status: 'dispatched' | 'unchanged' | 'contended' | 'error';
  startedRunIds: string[];
  counts: {
    started: number;
    skipped: number;
    missed: number;
    timedOut: number;
    failed: number;
    writes: number;
  };
  error?: string;
  /** For each started run: invoke accepted minus the slot's scheduled instant, in ms. */
  latenessMs: number[];
  notices: RunNotice[];
}

/** Notices for the records a plan wrote: every timed-out, skipped and missed run. */
function noticesOf(task: TaskState, writes: RunWrite[]): RunNotice[] {
  return writes.flatMap(({ record }) =>
    record.status === RunStatus.TimedOut ||
    record.status === RunStatus.Skipped ||
    record.status === RunStatus.Missed
      ? [
          {
            taskId: task.id,
            taskName: task.name,
            type: task.type,
            runId: record.runId,
            status: record.status,
            scheduledFor: record.scheduledFor,
            attempt: record.attempt,
            ...(record.slotCount !== undefined ? { slotCount: record.slotCount } : {}),
            ...(record.note !== undefined ? { note: record.note } : {}),
            ...(record.error ? { error: { name: record.error.name, message: record.error.message } } : {}),
          },
        ]
      : [],
  );
}

/**
 * Records that a started run never reached its handler, and folds it back into the task so the
 * lease is released (and a retry planned per policy) at once rather than at lease expiry.
 * When the fold loses a race, the lease stays and the next tick times it out: nothing is lost.
 */
async function recordFailedStart(
  deps: TickDeps,
  saved: TaskState,
  run: ActiveRun,
  now: Date,
  error: { name: string; message: string },
): Promise<number> {
  const failed: RunRecord = {
    ...dispatchedRecord(saved, run, now),
    status: RunStatus.Failed,
    finishedAt: now,
    error,
    note: 'the handler could not be invoked',
  };
  const plan = planTask(saved, {
    now,
    schedule: scheduleFor(saved),
    runs: new Map([[run.runId, failed]]),
    newRunId: deps.newRunId,
    startRuns: false,
  });
  const result = await deps.store.saveTask(plan.task, {
    expectedVersion: saved.version,
    runWrites: [{ kind: 'record', record: failed }],
  });
  return result.saved ? 1 + plan.runWrites.length : 0;
}

/**
 * Plans one task, saves the plan with a compare-and-set on the version that was read, then
 * invokes the runs it started. Shared by the tick and by the API's run-now.
 */
export async function dispatchTask(
  deps: TickDeps,
  task: TaskState,
  runs: ReadonlyMap<string, RunRecord>,
  now: Date,
  settings?: Partial<PlanSettings>,
): Promise<DispatchOutcome> {
  const plan = planDispatch(deps, task, runs, now, settings);
  if (!plan.changed) return newOutcome();
  const saved = await deps.store.saveTask(plan.task, {
    expectedVersion: task.version,
    runWrites: plan.runWrites,
  });
  if (!saved.saved) return { ...newOutcome(), status: 'contended' };
  return afterSave(deps, task, plan, now);
}

function newOutcome(): DispatchOutcome {
  return {
    status: 'unchanged',
    startedRunIds: [],
    counts: { started: 0, skipped: 0, missed: 0, timedOut: 0, failed: 0, writes: 0 },
    latenessMs: [],
    notices: [],
  };
}

/** The plan of one task at `now`: pure, no I/O. */
function planDispatch(
  deps: TickDeps,
  task: TaskState,
  runs: ReadonlyMap<string, RunRecord>,
  now: Date,
  settings?: Partial<PlanSettings>,
): TaskPlan {
  return planTask(task, {
    now,
    schedule: scheduleFor(task),
    runs,
    newRunId: deps.newRunId,
    ...(settings ? { settings } : {}),
  });
}

/**
 * What follows a won compare-and-set: count what the plan wrote, invoke the runs it started
 * (recording those whose invoke failed), and ask the runs it replaced to cancel.
 */
async function afterSave(
  deps: TickDeps,
  task: TaskState,
  plan: TaskPlan,
  now: Date,
): Promise<DispatchOutcome> {
  const outcome = newOutcome();
  outcome.status = 'dispatched';
  outcome.counts.writes += 1 + plan.runWrites.length;
  outcome.counts.skipped += plan.counts.skipped;
  outcome.counts.missed += plan.counts.missed;
  outcome.counts.timedOut += plan.counts.timedOut;
  outcome.notices.push(...noticesOf(task, plan.runWrites));

  let current = plan.task;
  for (const run of plan.starts) {
    const type = await deps.registry.resolve(task.type);
    const result = type
      ? await deps.invoker.invoke(type.functionName, runEventOf(current, run)).catch((error: unknown) => ({
          accepted: false as const,
          error: {
            name: (error as Error).name ?? 'Error',
            message: String((error as Error).message ?? error),
          },
        }))
      : {
          accepted: false as const,
          error: { name: 'UnknownTaskTypeError', message: `task type ${task.type} is not registered` },
        };
    if (result.accepted) {
      outcome.counts.started++;
      outcome.startedRunIds.push(run.runId);
      outcome.latenessMs.push(deps.clock.now().getTime() - run.scheduledFor.getTime());
      deps.onRun?.({ kind: 'started', taskId: task.id, runId: run.runId, type: task.type });
      continue;
    }
    outcome.counts.failed++;
    deps.logger?.error('invoke failed; run recorded as failed', {
      taskId: task.id,
      runId: run.runId,
      ...result.error,
    });
    deps.onRun?.({ kind: 'failed-to-start', taskId: task.id, runId: run.runId, type: task.type });
    outcome.notices.push({
      taskId: task.id,
      taskName: task.name,
      type: task.type,
      runId: run.runId,
      status: 'failed',
      scheduledFor: run.scheduledFor,
      attempt: run.attempt,
      note: 'the handler could not be invoked',
      error: result.error,
    });
    const writes = await recordFailedStart(deps, current, run, now, result.error);
    outcome.counts.writes += writes;
    if (writes > 0) {
      const reread = await deps.store.getTask(task.id);
      if (reread) current = reread;
    }
  }
  for (const run of plan.cancels) {
    const cancel = await deps.store.requestCancel(
      {
        ...dispatchedRecord(current, run, now),
        status: RunStatus.Cancelled,
        note: 'replaced by a newer run',
      },
      now,
    );
    if (cancel.requested) outcome.counts.writes++;
  }
  return outcome;
}

/** Task saves per `saveTasks` call: DynamoDB's limit for one BatchExecuteStatement. */
const SAVE_BATCH = 25;

/** Active runs of these tasks whose records the plan needs. */
function activeKeys(tasks: TaskState[]): { taskId: string; runId: string }[] {
  return tasks.flatMap((t) => t.active.map((a) => ({ taskId: t.id, runId: a.runId })));
}

/**
 * One tick: find due tasks in every shard of the due index (or in `options.shards`) at once, plan each, win its lease
 * with a compare-and-set, record runs, invoke handlers. One task's failure never aborts the tick.
 */
export async function runTick(deps: TickDeps, options: TickOptions = {}): Promise<TickReport> {
  const shards = tickShards(deps.store.shardCount, options.shards);
  const startedAt = deps.clock.now();
  const now = options.now ?? startedAt;
  const budgetMs = options.budgetMs ?? 45_000;
  const report: TickReport = {
    startedAt,
    shards,
    due: 0,
    started: 0,
    skipped: 0,
    missed: 0,
    timedOut: 0,
    failed: 0,
    contended: 0,
    deferred: 0,
    itemsRead: 0,
    writes: 0,
    durationMs: 0,
    latenessMs: { max: 0, mean: 0 },
    errors: [],
  };
  const lateness: number[] = [];
  const notices: RunNotice[] = [];

  const queried = await Promise.allSettled(shards.map((shard) => deps.store.queryDue(shard, now)));
  const tasks: TaskState[] = [];
  for (const q of queried) {
    if (q.status === 'fulfilled') {
      tasks.push(...q.value.tasks);
      report.itemsRead += q.value.usage.itemsRead;
    } else {
      report.errors.push({ message: `due query failed: ${(q.reason as Error).message}` });
    }
  }
  report.due = tasks.length;
  tasks.sort((a, b) => b.priority - a.priority);

  let runs = new Map<string, RunRecord>();
  const keys = activeKeys(tasks);
  if (keys.length > 0) {
    try {
      const got = await deps.store.getRuns(keys);
      runs = got.runs;
      report.itemsRead += got.usage.itemsRead;
    } catch (error) {
      // Without run records nothing can be folded; slots can still start per overlap policy.
      report.errors.push({ message: `reading active runs failed: ${(error as Error).message}` });
    }
  }

  // Plan task by task (pure, ~50 µs each) in priority order. Plans that only change the task
  // item go out in batches of conditional updates as soon as 25 are planned (`saveTasks`: one
  // request per batch on DynamoDB); plans that also write run records (time-outs, skipped or
  // missed slots) need a transaction each. A task's runs are invoked once its own write landed.
  const concurrency = options.concurrency ?? 64;
  const invokes = pLimit(concurrency);
  const writes = pLimit(Math.max(1, Math.ceil(concurrency / SAVE_BATCH)));
  const overBudget = () => deps.clock.now().getTime() - startedAt.getTime() > budgetMs;
  const failed = (task: TaskState, error: unknown) => {
    report.failed++;
    const message = (error as Error)?.message ?? String(error);
    report.errors.push({ taskId: task.id, message });
    deps.logger?.error('task failed in tick', { taskId: task.id, error: message });
  };
  const tally = (outcome: DispatchOutcome) => {
    if (outcome.status === 'contended') report.contended++;
    report.started += outcome.counts.started;
    report.skipped += outcome.counts.skipped;
    report.missed += outcome.counts.missed;
    report.timedOut += outcome.counts.timedOut;
    report.failed += outcome.counts.failed;
    report.writes += outcome.counts.writes;
    lateness.push(...outcome.latenessMs);
    notices.push(...outcome.notices);
  };
  const finish = (task: TaskState, plan: TaskPlan) =>
    invokes(() => afterSave(deps, task, plan, now))
      .then(tally)
      .catch((error: unknown) => failed(task, error));

  const followUps: Promise<void>[] = [];
  const work: Promise<void>[] = [];
  const saveBatch = (batch: { task: TaskState; plan: TaskPlan }[]) =>
    writes(async () => {
      if (overBudget()) {
        report.deferred += batch.length;
        return;
      }
      const results = await deps.store.saveTasks(
        batch.map(({ task, plan }) => ({ task: plan.task, expectedVersion: task.version })),
      );
      results.forEach((result, k) => {
        const { task, plan } = batch[k] as { task: TaskState; plan: TaskPlan };
        if (result.saved) followUps.push(finish(task, plan));
        else report.contended++;
      });
    }).catch((error: unknown) => {
      for (const { task } of batch) failed(task, error);
    });
  let batch: { task: TaskState; plan: TaskPlan }[] = [];
  for (const task of tasks) {
    let plan: TaskPlan;
    try {
      plan = planDispatch(deps, task, runs, now, options.settings);
    } catch (error) {
      failed(task, error);
      continue;
    }
    if (!plan.changed) continue;
    if (plan.runWrites.length === 0) {
      batch.push({ task, plan });
      if (batch.length === SAVE_BATCH) {
        work.push(saveBatch(batch));
        batch = [];
        // Let the batch go out (and earlier ones be invoked) while the rest is planned.
        await new Promise((resolve) => setImmediate(resolve));
      }
      continue;
    }
    work.push(
      invokes(async () => {
        if (overBudget()) {
          report.deferred++;
          return;
        }
        const saved = await deps.store.saveTask(plan.task, {
          expectedVersion: task.version,
          runWrites: plan.runWrites,
        });
        if (!saved.saved) report.contended++;
        else await afterSave(deps, task, plan, now).then(tally);
      }).catch((error: unknown) => failed(task, error)),
    );
  }
  if (batch.length > 0) work.push(saveBatch(batch));
  await Promise.all(work);
  await Promise.all(followUps);

  if (lateness.length > 0) {
    report.latenessMs = {
      max: Math.max(...lateness),
      mean: Math.round(lateness.reduce((a, b) => a + b, 0) / lateness.length),
    };
  }
  if (notices.length > 0 && deps.notifier) {
    try {
      await deps.notifier.notify(notices);
    } catch (error) {
      report.errors.push({ message: `publishing run notices failed: ${(error as Error).message}` });
    }
  }
  report.durationMs = deps.clock.now().getTime() - startedAt.getTime();
  if (options.recordTick !== false) {
    try {
      await deps.store.updateSchedulerState({
        lastTickAt: now,
        lastTickDurationMs: report.durationMs,
        lastTickStarted: report.started,
      });
      report.writes++;
    } catch (error) {
      report.errors.push({ message: `recording the tick failed: ${(error as Error).message}` });
    }
  }
  return report;
}

/** True for a run record that is finished (used by callers folding a single run). */
export function isFinished(record: RunRecord | undefined): boolean {
  return record !== undefined && isTerminal(record.status);
}

/**
 * Dispatches one task now, outside the tick (the API's run-now): a consistent read of the task
 * and its active runs, then the same plan, compare-and-set and invoke as the tick. Retries a
 * lost compare-and-set a few times; if it still loses, the task stays due and the next tick
 * starts it.
 */
export async function dispatchNow(
  deps: TickDeps,
  taskId: string,
  attempts = 3,
): Promise<DispatchOutcome | undefined> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const task = await deps.store.getTask(taskId);
    if (!task) return undefined;
    const { runs } = task.active.length
      ? await deps.store.getRuns(task.active.map((a) => ({ taskId, runId: a.runId })))
      : { runs: new Map<string, RunRecord>() };
    const outcome = await dispatchTask(deps, task, runs, deps.clock.now());
    if (outcome.status !== 'contended') return outcome;
  }
  return undefined;
}
