/**
 * The tick's batch: every due task of the due index's shards, planned in priority order, saved in
 * batches where it can be, and handed to dispatch (`dispatch.ts`) for its invokes.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import { dueAtOf } from '../core/due.js';
import { isTerminal, type RunRecord, RunStatus, type TaskState } from '../core/model.js';
import { dispatchedRecord, type PlanSettings, type TaskPlan } from '../core/plan.js';
import type { Notice } from '../core/ports.js';
import { Agenda, clockSleep, InvokePace, type SleepUntil } from './agenda.js';

import { pumpBackfills } from './backfill.js';
import {
  afterSave,
  type DispatchOutcome,
  invokeRun,
  overdueNoticeOf,
  planDispatch,
  type TickDeps,
} from './dispatch.js';
import { reapOrphans } from './reaper.js';

export type { TickDeps, TickLogger } from './dispatch.js';

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
  /**
   * Look-ahead: also plan what falls due in the next `lookAheadMs`, take those leases now (the
   * same compare-and-set and fencing), and invoke each run at its instant; the tick lasts until
   * the last one. 0 (the default here): only what is due now, invoked at once.
   */
  lookAheadMs?: number;
  /**
   * Look-ahead only: a lease whose run has not claimed this long after the instant it was to be
   * invoked is delivered again (same run id and token, so at most one delivery claims it), when a
   * tick reads its task anyway. Covers a tick that died after taking leases ahead. Default 10 s.
   */
  redeliverAfterMs?: number;
  /**
   * Look-ahead only: the end of the window (this long before its horizon) where a run's next slot
   * is left to the next tick instead of being followed by this one. The window's margin past the
   * next tick's interval is there for what is due when that tick may fire too late to plan it;
   * following every every-minute task into it would re-read each one just before its next slot,
   * which the next tick plans anyway. Default 0: follow to the horizon.
   */
  followMarginMs?: number;
  /** Waits until an instant (tests pass their own). Default: timers against the clock. */
  sleepUntil?: SleepUntil;
  /**
   * Look-ahead only: the most an instant's first invokes may go before it, when more runs are
   * due at it than this process sends within {@link SEND_AHEAD_TAIL_MS} at its measured pace
   * (`agenda.ts`, "Sending ahead"); the task SDK holds each such run until its instant before it
   * claims. Default 0: every invoke at its instant.
   */
  sendAheadMs?: number;
  /** The pace of invokes this process learned (keep one per process). Default: a fresh one. */
  invokePace?: InvokePace;
  /**
   * Reap `running` records no lease holds (`reaper.ts`). The tick function asks for it in one
   * minute of five, in the tick that reads shard 0. Default: no.
   */
  reap?: boolean;
  /**
   * Plan only these tasks, read from the table (strongly consistent) rather than found in the due
   * index: the API asks for it when a write makes a task due before the next tick would plan it
   * (`tickPlanner`). No backfills, no reaping. Default: the due index.
   */
  taskIds?: readonly string[];
}

/**
 * How long before its instant a task with a run still going is planned (a fresh read, then the
 * lease): late enough that a run which ends before the slot is folded first, early enough for one
 * write to land before the slot.
 */
export const JUST_IN_TIME_LEAD_MS = 250;

/**
 * A group of tasks planned just before one instant starts earlier by this much per task (about
 * what its batched reads and saves take), so that its leases land before the instant, when the
 * next tick reads the same tasks; at most {@link JUST_IN_TIME_MAX_LEAD_MS} before it.
 */
const JUST_IN_TIME_MS_PER_TASK = 0.5;
export const JUST_IN_TIME_MAX_LEAD_MS = 5_000;

/** How long before its instant a group of `tasks` planned just in time is read and planned. */
export function justInTimeLeadMs(tasks: number): number {
  return Math.min(
    JUST_IN_TIME_MAX_LEAD_MS,
    JUST_IN_TIME_LEAD_MS + Math.ceil(tasks * JUST_IN_TIME_MS_PER_TASK),
  );
}

/** With send-ahead, how much of a burst of one instant may still be sent after the instant. */
export const SEND_AHEAD_TAIL_MS = 250;

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
  /**
   * Each started run's lateness, in ms, in start order: invoke accepted minus its slot, or, for a
   * run sent ahead and held by its handler, its instant minus its slot.
   */
  lateness: number[];
  /** Runs whose leases were taken ahead of their instant (look-ahead). */
  leasedAhead: number;
  /** Runs sent before their instant, to be held by their handlers (a burst: `sendAheadMs`). */
  sentAhead: number;
  /** Leases withdrawn at their instant because the scheduler had been paused. */
  withdrawn: number;
  /** Unclaimed leases delivered again (look-ahead). */
  redelivered: number;
  /** `running` records no lease held, timed out by the reaper. */
  reaped: number;
  /** Ids of the tasks found overdue (a broken `mustSucceedEvery`), each reported once per episode. */
  overdueTasks: string[];
  errors: { taskId?: string; message: string }[];
}

/** Task saves per `saveTasks` call: DynamoDB's limit for one BatchExecuteStatement. */
const SAVE_BATCH = 25;

/** A planned task whose plan writes only its task item, waiting for a batch save. */
interface Planned {
  task: TaskState;
  plan: TaskPlan;
  /** The instant it was planned at: now, or (look-ahead) its due instant, when its runs are invoked. */
  at: Date;
  /** Saved even past the tick's time budget (a just-in-time plan: its lease is this tick's). */
  pastBudget?: boolean;
}

/** One tick in progress: what its steps share. */
interface Tick {
  deps: TickDeps;
  options: TickOptions;
  startedAt: Date;
  /** The instant the tick plans at. */
  now: Date;
  /** The end of its look-ahead: `now` when it has none. */
  horizon: Date;
  budgetMs: number;
  agenda: Agenda;
  sleepUntil: SleepUntil;
  report: TickReport;
  lateness: number[];
  notices: Notice[];
  /** Invokes and single saves in flight. */
  invokes: LimitFunction;
  /** Batch saves in flight. */
  writes: LimitFunction;
  /** The invokes of tasks whose batch save landed. */
  followUps: Promise<void>[];
  /** Tasks waiting to be planned just before an instant (epoch ms), by instant. */
  justInTime: Map<number, Set<string>>;
}

/**
 * One tick: find due tasks in every shard of the due index (or in `options.shards`) at once, plan each, win its lease
 * with a compare-and-set, record runs, invoke handlers. One task's failure never aborts the tick.
 */
export async function runTick(deps: TickDeps, options: TickOptions = {}): Promise<TickReport> {
  const tick = beginTick(deps, options);
  if (options.taskIds === undefined) await pumpBackfills(deps, tick.now, tick.report.shards);
  const tasks = options.taskIds ? await readNamedTasks(tick, options.taskIds) : await queryDueTasks(tick);
  const runs = await readActiveRuns(tick, tasks);
  redeliver(tick, tasks, runs);
  await planAndSave(tick, tasks, runs);
  await reap(tick);
  summariseLateness(tick);
  await publishNotices(tick);
  tick.report.durationMs = deps.clock.now().getTime() - tick.startedAt.getTime();
  if (options.recordTick !== false) await recordTick(tick);
  return tick.report;
}

function beginTick(deps: TickDeps, options: TickOptions): Tick {
  const shards = tickShards(deps.store.shardCount, options.shards);
  const startedAt = deps.clock.now();
  const concurrency = options.concurrency ?? 64;
  const now = options.now ?? startedAt;
  const lookAheadMs = options.lookAheadMs ?? 0;
  if (!Number.isFinite(lookAheadMs) || lookAheadMs < 0) {
    throw new RangeError(`lookAheadMs must be 0 or more, not ${lookAheadMs}`);
  }
  const sendAheadMs = options.sendAheadMs ?? 0;
  if (!Number.isFinite(sendAheadMs) || sendAheadMs < 0) {
    throw new RangeError(`sendAheadMs must be 0 or more, not ${sendAheadMs}`);
  }
  const invokes = pLimit(concurrency);
  const sleepUntil = options.sleepUntil ?? clockSleep(deps.clock);
  const report = newReport(startedAt, shards);
  return {
    deps,
    options,
    startedAt,
    now,
    horizon: new Date(now.getTime() + lookAheadMs),
    agenda: new Agenda(deps, invokes, sleepUntil, (message) => report.errors.push({ message }), {
      maxMs: sendAheadMs,
      tailMs: SEND_AHEAD_TAIL_MS,
      pace: options.invokePace ?? new InvokePace(),
      onSentAhead: (count) => {
        report.sentAhead += count;
      },
    }),
    sleepUntil,
    budgetMs: options.budgetMs ?? 45_000,
    report,
    lateness: report.lateness,
    notices: [],
    invokes,
    writes: pLimit(Math.max(1, Math.ceil(concurrency / SAVE_BATCH))),
    followUps: [],
    justInTime: new Map(),
  };
}

function newReport(startedAt: Date, shards: number[]): TickReport {
  return {
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
    lateness: [],
    leasedAhead: 0,
    sentAhead: 0,
    withdrawn: 0,
    redelivered: 0,
    reaped: 0,
    overdueTasks: [],
    errors: [],
  };
}

/** The due tasks of every shard read at once, highest priority first; a failed shard is reported. */
async function queryDueTasks({ deps, report, horizon }: Tick): Promise<TaskState[]> {
  const queried = await Promise.allSettled(report.shards.map((shard) => deps.store.queryDue(shard, horizon)));
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
  return tasks.sort((a, b) => b.priority - a.priority);
}

/**
 * The named tasks that are due within the tick's window, highest priority first; a failed read is
 * reported. None while the scheduler is paused: a scheduled tick would not run either.
 */
async function readNamedTasks(
  { deps, report, horizon }: Tick,
  taskIds: readonly string[],
): Promise<TaskState[]> {
  if ((await deps.store.getSchedulerState()).paused) return [];
  const read = await Promise.allSettled([...new Set(taskIds)].map((id) => deps.store.getTask(id)));
  const tasks: TaskState[] = [];
  for (const r of read) {
    if (r.status === 'rejected') {
      report.errors.push({ message: `reading a task to plan failed: ${(r.reason as Error).message}` });
      continue;
    }
    report.itemsRead++;
    const due = r.value ? dueAtOf(r.value) : undefined;
    if (r.value && due && due <= horizon) tasks.push(r.value);
  }
  report.due = tasks.length;
  return tasks.sort((a, b) => b.priority - a.priority);
}

/** The records of the due tasks' active runs, which the plans fold. */
async function readActiveRuns({ deps, report }: Tick, tasks: TaskState[]): Promise<Map<string, RunRecord>> {
  const keys = tasks.flatMap((t) => t.active.map((a) => ({ taskId: t.id, runId: a.runId })));
  if (keys.length === 0) return new Map();
  try {
    const got = await deps.store.getRuns(keys);
    report.itemsRead += got.usage.itemsRead;
    return got.runs;
  } catch (error) {
    // Without run records nothing can be folded; slots can still start per overlap policy.
    report.errors.push({ message: `reading active runs failed: ${(error as Error).message}` });
    return new Map();
  }
}

/**
 * Plans task by task (pure, ~50 µs each) in priority order. Plans that only change the task item
 * go out in batches of conditional updates as soon as 25 are planned (`saveTasks`: one request
 * per batch on DynamoDB); plans that also write run records (time-outs, skipped or missed slots)
 * need a transaction each. A task's runs are invoked once its own write landed, and (look-ahead)
 * not before their instant.
 *
 * With look-ahead, a task due later in the window is planned at its due instant now, so its lease
 * is written ahead, unless a run of it may still be going (`plansJustInTime`): that one is read
 * and planned again just before its instant.
 */
async function planAndSave(tick: Tick, tasks: TaskState[], runs: ReadonlyMap<string, RunRecord>) {
  const saves = new SaveQueue(tick);
  for (const task of tasks) {
    const at = planInstant(tick, task);
    if (at > tick.now && plansJustInTime(task, runs)) {
      justInTime(tick, task.id, at);
      continue;
    }
    // Let a full batch go out (and earlier ones be invoked) while the rest is planned.
    if (saves.plan(task, runs, at)) await new Promise((resolve) => setImmediate(resolve));
  }
  await saves.flush();
  // Follow-ups add follow-ups (a sub-minute task's next slot in the window): wait for all of them.
  while (tick.followUps.length > 0) await Promise.all(tick.followUps.splice(0));
}

/** When to plan a task: now, or (look-ahead) its due instant when that is still to come in the window. */
function planInstant({ now, horizon }: Tick, task: TaskState): Date {
  const due = dueAtOf(task);
  if (!due || due <= now || due > horizon) return now;
  return due;
}

/**
 * Whether a task due later in the window must be planned just before its instant rather than
 * now: a run of it that may still be going at the instant decides what its overlap policy does
 * (skip, queue, replace), which a plan made now cannot know.
 */
function plansJustInTime(task: TaskState, runs: ReadonlyMap<string, RunRecord>): boolean {
  // A promise's deadline too: a run that succeeds before it keeps the task from being overdue.
  if (task.overlap === 'allow' && task.mustSucceedEvery === undefined) return false;
  return task.active.some((a) => {
    const status = runs.get(a.runId)?.status;
    return status === undefined || !isTerminal(status);
  });
}

/**
 * A task planned just before its instant: a strongly consistent read of it and its active runs,
 * the plan at the instant, the compare-and-set, then its runs at the instant. Tasks planned
 * before the same instant are read and saved together (`planGroup`): every every-minute task
 * whose previous run is still going comes here, so at 10,000 of them one request each would be
 * three requests a run.
 */
function justInTime(tick: Tick, taskId: string, at: Date): void {
  const key = at.getTime();
  const waiting = tick.justInTime.get(key);
  if (waiting) {
    waiting.add(taskId);
    return;
  }
  const group = new Set([taskId]);
  tick.justInTime.set(key, group);
  // The group fills while this tick plans; its size is known by its longest lead before the instant.
  const work = tick
    .sleepUntil(new Date(key - JUST_IN_TIME_MAX_LEAD_MS))
    .then(() => tick.sleepUntil(new Date(key - justInTimeLeadMs(group.size))))
    .then(() => {
      // A task that joins after this point (a lost compare-and-set) starts a group of its own.
      tick.justInTime.delete(key);
      return planGroup(tick, [...group], at);
    });
  tick.followUps.push(
    work.catch((error: unknown) => {
      for (const id of group) taskFailed(tick, { id } as TaskState, error);
    }),
  );
}

/** The tasks of one just-in-time instant: one read of them, one of their runs, batched saves. */
async function planGroup(tick: Tick, taskIds: string[], at: Date): Promise<void> {
  const { deps } = tick;
  const ready: TaskState[] = [];
  for (const task of await deps.store.getTasks(taskIds)) {
    const due = dueAtOf(task);
    if (!due || due > tick.horizon) continue;
    if (due > at) justInTime(tick, task.id, due);
    else ready.push(task);
  }
  if (ready.length === 0) return;
  const keys = ready.flatMap((task) => task.active.map((a) => ({ taskId: task.id, runId: a.runId })));
  const { runs } = keys.length ? await deps.store.getRuns(keys) : { runs: new Map<string, RunRecord>() };
  redeliver(tick, ready, runs, deps.clock.now());
  const planAt = new Date(Math.max(at.getTime(), deps.clock.now().getTime()));
  // Past the tick's budget too: these were leased to this tick's window, not deferred.
  const saves = new SaveQueue(tick, { pastBudget: true });
  for (const task of ready.sort((a, b) => b.priority - a.priority)) saves.plan(task, runs, planAt);
  await saves.flush();
}

/**
 * Plans tasks one by one and sends their saves: a plan that also writes run records as a
 * transaction of its own (`saveOne`), the others 25 to a request (`saveBatch`).
 */
class SaveQueue {
  private batch: Planned[] = [];
  private readonly work: Promise<void>[] = [];

  constructor(
    private readonly tick: Tick,
    private readonly extra: Pick<Planned, 'pastBudget'> = {},
  ) {}

  /** Plans `task` at `at` and queues its save; true when that filled a batch and sent it. */
  plan(task: TaskState, runs: ReadonlyMap<string, RunRecord>, at: Date): boolean {
    const { tick } = this;
    let plan: TaskPlan;
    try {
      plan = planDispatch(tick.deps, task, runs, at, tick.options.settings, true);
    } catch (error) {
      taskFailed(tick, task, error);
      return false;
    }
    if (!plan.changed) return false;
    const planned: Planned = { task, plan, at, ...this.extra };
    if (plan.runWrites.length > 0) {
      this.work.push(saveOne(tick, planned));
      return false;
    }
    if (this.batch.push(planned) < SAVE_BATCH) return false;
    this.work.push(saveBatch(tick, this.batch));
    this.batch = [];
    return true;
  }

  /** Sends the last batch; resolves when every save (and what follows a failed one) is done. */
  async flush(): Promise<void> {
    if (this.batch.length > 0) this.work.push(saveBatch(this.tick, this.batch));
    this.batch = [];
    await Promise.all(this.work);
  }
}

/**
 * A saved plan's runs, sent at its instant (at once when it has come), then the task's next due
 * instant if it falls in the window (a sub-minute schedule). Paused meanwhile: withdrawn.
 */
async function onInstant(tick: Tick, planned: Planned): Promise<void> {
  const { task, plan, at } = planned;
  noteOverdue(tick, plan, at);
  const run = async () => tally(tick, await afterSave(tick.deps, task, plan, at));
  if (at <= tick.now) {
    await tick.invokes(run);
  } else {
    if (plan.starts.length > 0) tick.report.leasedAhead += plan.starts.length;
    await tick.agenda.at(at, { priority: task.priority, run, withdraw: () => withdrawRuns(tick, planned) });
  }
  // A sub-minute task's next slot in the window, whether this one was due at the tick's start or
  // planned ahead (without look-ahead the window ends now: nothing to follow).
  const next = dueAtOf(plan.task);
  if (next && next > at && followed(tick, next)) justInTime(tick, task.id, next);
}

/** Whether this tick plans a run's next slot itself (see `followMarginMs`). */
function followed({ horizon, options }: Tick, next: Date): boolean {
  const margin = options.followMarginMs ?? 0;
  return margin > 0 ? next.getTime() < horizon.getTime() - margin : next <= horizon;
}

/**
 * The scheduler was paused between the lease and its instant: each run of the plan is recorded
 * `cancelled` before it starts (the same write as a cancel-before-start), so its claim, should an
 * event still arrive, finds the record and drops it; the next tick after resume folds it.
 */
async function withdrawRuns(tick: Tick, { plan, at }: Planned): Promise<void> {
  for (const run of plan.starts) {
    const result = await tick.deps.store.requestCancel(
      {
        ...dispatchedRecord(plan.task, run, at),
        status: RunStatus.Cancelled,
        finishedAt: tick.deps.clock.now(),
        note: 'the scheduler was paused before its slot',
      },
      tick.deps.clock.now(),
    );
    if (result.requested) {
      tick.report.withdrawn++;
      tick.report.writes++;
    }
  }
}

/**
 * Look-ahead: unclaimed leases of the tasks this tick read whose instant passed more than
 * `redeliverAfterMs` ago are sent again, unchanged. A tick that died after taking leases ahead
 * left them; the claim's put-if-absent keeps a second delivery from running the body twice.
 */
function redeliver(
  tick: Tick,
  tasks: TaskState[],
  runs: ReadonlyMap<string, RunRecord>,
  at = tick.now,
): void {
  if (tick.horizon.getTime() === tick.now.getTime()) return;
  const after = tick.options.redeliverAfterMs ?? 10_000;
  const now = at.getTime();
  for (const task of tasks) {
    for (const run of task.active) {
      if (runs.has(run.runId)) continue;
      if (run.dispatchedAt.getTime() + after > now || run.expiresAt.getTime() <= now) continue;
      const sent = tick.invokes(async () => {
        if ((await invokeRun(tick.deps, task, run)).accepted) tick.report.redelivered++;
      });
      tick.followUps.push(sent.catch((error: unknown) => taskFailed(tick, task, error)));
    }
  }
}

/** The reaper's pass, when this tick is the one that reaps; a failure is reported, never thrown. */
async function reap(tick: Tick): Promise<void> {
  if (!tick.options.reap) return;
  try {
    const result = await reapOrphans(tick.deps, tick.now);
    tick.report.reaped += result.reaped.length;
    tick.report.itemsRead += result.usage.itemsRead;
    tick.report.writes += result.usage.writes;
  } catch (error) {
    tick.report.errors.push({ message: `reaping orphaned runs failed: ${(error as Error).message}` });
  }
}

function overBudget({ deps, startedAt, budgetMs }: Tick): boolean {
  return deps.clock.now().getTime() - startedAt.getTime() > budgetMs;
}

/** Saves up to 25 task-only plans in one request; each won save's invokes follow. */
function saveBatch(tick: Tick, batch: Planned[]): Promise<void> {
  return tick
    .writes(async () => {
      if (!batch[0]?.pastBudget && overBudget(tick)) {
        tick.report.deferred += batch.length;
        return;
      }
      const results = await tick.deps.store.saveTasks(
        batch.map(({ task, plan }) => ({ task: plan.task, expectedVersion: task.version })),
      );
      results.forEach((result, k) => {
        const planned = batch[k] as Planned;
        if (result.saved) tick.followUps.push(invokeStarted(tick, planned));
        else if (result.reason === 'unavailable') taskFailed(tick, planned.task, new Error(result.message));
        else lostTo(tick, planned.task, planned.at);
      });
    })
    .catch((error: unknown) => {
      for (const { task } of batch) taskFailed(tick, task, error);
    });
}

/** Saves a plan that also writes run records (one transaction), then invokes its runs at their instant. */
function saveOne(tick: Tick, planned: Planned): Promise<void> {
  const { task, plan } = planned;
  return tick
    .invokes(async () => {
      if (!planned.pastBudget && overBudget(tick)) {
        tick.report.deferred++;
        return false;
      }
      const saved = await tick.deps.store.saveTask(plan.task, {
        expectedVersion: task.version,
        runWrites: plan.runWrites,
      });
      if (!saved.saved) lostTo(tick, task, planned.at);
      return saved.saved;
    })
    .then((saved) => (saved ? onInstant(tick, planned) : undefined))
    .catch((error: unknown) => taskFailed(tick, task, error));
}

/**
 * Another writer (a tick with an overlapping window, the API) changed the task first. Without
 * look-ahead that is all. With it, the task is read again and planned from where the winner left
 * it: ticks overlap, and each must still cover its whole window (a sub-minute task's later slots)
 * whoever took the earlier ones. Each loss means the task moved on, so this ends.
 */
function lostTo(tick: Tick, task: TaskState, at: Date): void {
  tick.report.contended++;
  if (tick.horizon > tick.now) justInTime(tick, task.id, at);
}

/** The invokes (and their bookkeeping) of a task whose batch save landed, at their instant. */
function invokeStarted(tick: Tick, planned: Planned): Promise<void> {
  return onInstant(tick, planned).catch((error: unknown) => taskFailed(tick, planned.task, error));
}

/** Adds one task's dispatch to the report. */
function tally({ report, lateness, notices }: Tick, outcome: DispatchOutcome): void {
  if (outcome.status === 'contended') report.contended++;
  report.started += outcome.counts.started;
  report.skipped += outcome.counts.skipped;
  report.missed += outcome.counts.missed;
  report.timedOut += outcome.counts.timedOut;
  report.failed += outcome.counts.failed;
  report.writes += outcome.counts.writes;
  lateness.push(...outcome.latenessMs);
  notices.push(...outcome.notices);
}

/** A saved plan that marked its task overdue: its notice goes out with the tick's others. */
function noteOverdue({ report, notices }: Tick, plan: TaskPlan, at: Date): void {
  const notice = overdueNoticeOf(plan, at);
  if (!notice) return;
  report.overdueTasks.push(notice.taskId);
  notices.push(notice);
}

/** A task whose plan or save threw: reported, and the tick goes on. */
function taskFailed({ deps, report }: Tick, task: TaskState, error: unknown): void {
  report.failed++;
  const message = (error as Error)?.message ?? String(error);
  report.errors.push({ taskId: task.id, message });
  deps.logger?.error('task failed in tick', { taskId: task.id, error: message });
}

function summariseLateness({ report, lateness }: Tick): void {
  if (lateness.length === 0) return;
  report.latenessMs = {
    max: Math.max(...lateness),
    mean: Math.round(lateness.reduce((a, b) => a + b, 0) / lateness.length),
  };
}

/** Sends the notices of every failed, timed-out, skipped and missed run and overdue task at once. */
async function publishNotices({ deps, report, notices }: Tick): Promise<void> {
  if (notices.length === 0 || !deps.notifier) return;
  try {
    await deps.notifier.notify(notices);
  } catch (error) {
    report.errors.push({ message: `publishing run notices failed: ${(error as Error).message}` });
  }
}

/** Records the tick in the scheduler state (`lastTickAt`), for the API's health view. */
async function recordTick({ deps, report, now }: Tick): Promise<void> {
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
