/**
 * Dispatch: one task's read-plan-write. Plans the task with the pure planner, wins its lease with
 * a compare-and-set on the version that was read, then invokes the runs the plan started. The
 * tick's batch (`run-tick.ts`) and the API's run-now (`dispatchNow`) both go through here.
 */
import type { ActiveRun, RunRecord, TaskState } from '../core/model.js';
import { RunStatus } from '../core/model.js';
import { dispatchedRecord, type PlanSettings, planTask, type TaskPlan } from '../core/plan.js';
import type {
  Clock,
  InvokeResult,
  Logger,
  Notice,
  RunNotice,
  RunNotifier,
  RunWrite,
  TaskInvoker,
  TaskOverdueNotice,
  TaskStore,
} from '../core/ports.js';
import { runEventOf } from '../core/run-event.js';
import { scheduleFor } from '../core/schedule-cache.js';
import type { TaskTypeRegistry } from './registry.js';

/** The tick's logger: the one `Logger` port (the name stays for existing callers). */
export type TickLogger = Logger;

/** What dispatch and the tick need; built once per cold start (`makeTickDeps` in `src/deps.ts`). */
export interface TickDeps {
  store: TaskStore;
  invoker: TaskInvoker;
  clock: Clock;
  registry: TaskTypeRegistry;
  newRunId: () => string;
  logger?: Logger;
  /** Where notices of failed, timed-out, skipped and missed runs and overdue tasks go (EventBridge on AWS). */
  notifier?: RunNotifier;
  /** Called with each run the tick started, skipped, missed or timed out (metrics, events). */
  onRun?: (event: {
    kind: 'started' | 'failed-to-start';
    taskId: string;
    runId: string;
    type: string;
  }) => void;
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
  notices: Notice[];
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

/**
 * The plan of one task at `now`: pure, no I/O. `reportOverdue`: the tick's plans also mark a
 * broken `mustSucceedEvery` promise (the tick publishes the event); run-now's do not.
 */
export function planDispatch(
  deps: TickDeps,
  task: TaskState,
  runs: ReadonlyMap<string, RunRecord>,
  now: Date,
  settings?: Partial<PlanSettings>,
  reportOverdue = false,
): TaskPlan {
  return planTask(task, {
    now,
    schedule: scheduleFor(task),
    runs,
    newRunId: deps.newRunId,
    ...(settings ? { settings } : {}),
    ...(reportOverdue ? { reportOverdue } : {}),
  });
}

/** The `Tickwork Task Overdue` notice of a plan that marked its task overdue; none otherwise. */
export function overdueNoticeOf(plan: TaskPlan, detectedAt: Date): TaskOverdueNotice | undefined {
  const { task, overdue } = plan;
  if (!overdue || task.mustSucceedEvery === undefined) return undefined;
  const { summary } = task;
  return {
    status: 'overdue',
    taskId: task.id,
    taskName: task.name,
    type: task.type,
    mustSucceedEvery: task.mustSucceedEvery,
    overdueSince: overdue.overdueSince,
    countedFrom: overdue.countedFrom,
    ...(task.lastSucceededAt ? { lastSucceededAt: task.lastSucceededAt } : {}),
    ...(summary.lastRunAt ? { lastRunAt: summary.lastRunAt } : {}),
    ...(summary.lastStatus ? { lastStatus: summary.lastStatus } : {}),
    enabled: task.enabled,
    detectedAt,
  };
}

/**
 * What follows a won compare-and-set: count what the plan wrote, invoke the runs it started
 * (recording those whose invoke failed), and ask the runs it replaced to cancel.
 */
export async function afterSave(
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
    const result = await invokeRun(deps, current, run);
    if (result.accepted) {
      outcome.counts.started++;
      outcome.startedRunIds.push(run.runId);
      // A run sent ahead of its instant is held by its handler until then: it starts no earlier.
      const startsAt = Math.max(deps.clock.now().getTime(), run.dispatchedAt.getTime());
      outcome.latenessMs.push(startsAt - run.scheduledFor.getTime());
      deps.onRun?.({ kind: 'started', taskId: task.id, runId: run.runId, type: task.type });
    } else {
      current = await failedStart(deps, outcome, { task, current }, run, now, result.error);
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

/** Sends a started run to its type's function; a failed invoke (or an unknown type) is a value. */
export async function invokeRun(deps: TickDeps, task: TaskState, run: ActiveRun): Promise<InvokeResult> {
  const type = await deps.registry.resolve(task.type);
  if (!type) {
    return {
      accepted: false,
      error: { name: 'UnknownTaskTypeError', message: `task type ${task.type} is not registered` },
    };
  }
  return deps.invoker.invoke(type.functionName, runEventOf(task, run)).catch((error: unknown) => ({
    accepted: false as const,
    error: {
      name: (error as Error).name ?? 'Error',
      message: String((error as Error).message ?? error),
    },
  }));
}

/**
 * A run whose invoke failed: count it, log it, announce it and record it as failed (see
 * `recordFailedStart`). Returns `current` as it now stands, for the plan's next run.
 */
async function failedStart(
  deps: TickDeps,
  outcome: DispatchOutcome,
  { task, current }: { task: TaskState; current: TaskState },
  run: ActiveRun,
  now: Date,
  error: { name: string; message: string },
): Promise<TaskState> {
  outcome.counts.failed++;
  deps.logger?.error('invoke failed; run recorded as failed', {
    taskId: task.id,
    runId: run.runId,
    ...error,
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
    error,
  });
  const writes = await recordFailedStart(deps, current, run, now, error);
  outcome.counts.writes += writes;
  if (writes === 0) return current;
  return (await deps.store.getTask(task.id)) ?? current;
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
