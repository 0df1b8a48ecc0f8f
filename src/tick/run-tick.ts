/**
 * The tick's batch: every due task of the due index's shards, planned in priority order, saved in
 * batches where it can be, and handed to dispatch (`dispatch.ts`) for its invokes.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { RunRecord, TaskState } from '../core/model.js';
import type { PlanSettings, TaskPlan } from '../core/plan.js';
import type { RunNotice } from '../core/ports.js';
import { pumpBackfills } from './backfill.js';
import { afterSave, type DispatchOutcome, planDispatch, type TickDeps } from './dispatch.js';

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

/** Task saves per `saveTasks` call: DynamoDB's limit for one BatchExecuteStatement. */
const SAVE_BATCH = 25;

/** A planned task whose plan writes only its task item, waiting for a batch save. */
interface Planned {
  task: TaskState;
  plan: TaskPlan;
}

/** One tick in progress: what its steps share. */
interface Tick {
  deps: TickDeps;
  options: TickOptions;
  startedAt: Date;
  /** The instant the tick plans at. */
  now: Date;
  budgetMs: number;
  report: TickReport;
  lateness: number[];
  notices: RunNotice[];
  /** Invokes and single saves in flight. */
  invokes: LimitFunction;
  /** Batch saves in flight. */
  writes: LimitFunction;
  /** The invokes of tasks whose batch save landed. */
  followUps: Promise<void>[];
}

/**
 * One tick: find due tasks in every shard of the due index (or in `options.shards`) at once, plan each, win its lease
 * with a compare-and-set, record runs, invoke handlers. One task's failure never aborts the tick.
 */
export async function runTick(deps: TickDeps, options: TickOptions = {}): Promise<TickReport> {
  const tick = beginTick(deps, options);
  await pumpBackfills(deps, tick.now, tick.report.shards);
  const tasks = await queryDueTasks(tick);
  const runs = await readActiveRuns(tick, tasks);
  await planAndSave(tick, tasks, runs);
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
  return {
    deps,
    options,
    startedAt,
    now: options.now ?? startedAt,
    budgetMs: options.budgetMs ?? 45_000,
    report: {
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
    },
    lateness: [],
    notices: [],
    invokes: pLimit(concurrency),
    writes: pLimit(Math.max(1, Math.ceil(concurrency / SAVE_BATCH))),
    followUps: [],
  };
}

/** The due tasks of every shard read at once, highest priority first; a failed shard is reported. */
async function queryDueTasks({ deps, report, now }: Tick): Promise<TaskState[]> {
  const queried = await Promise.allSettled(report.shards.map((shard) => deps.store.queryDue(shard, now)));
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
 * need a transaction each. A task's runs are invoked once its own write landed.
 */
async function planAndSave(tick: Tick, tasks: TaskState[], runs: ReadonlyMap<string, RunRecord>) {
  const work: Promise<void>[] = [];
  let batch: Planned[] = [];
  for (const task of tasks) {
    let plan: TaskPlan;
    try {
      plan = planDispatch(tick.deps, task, runs, tick.now, tick.options.settings);
    } catch (error) {
      taskFailed(tick, task, error);
      continue;
    }
    if (!plan.changed) continue;
    if (plan.runWrites.length > 0) {
      work.push(saveOne(tick, { task, plan }));
      continue;
    }
    batch.push({ task, plan });
    if (batch.length === SAVE_BATCH) {
      work.push(saveBatch(tick, batch));
      batch = [];
      // Let the batch go out (and earlier ones be invoked) while the rest is planned.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  if (batch.length > 0) work.push(saveBatch(tick, batch));
  await Promise.all(work);
  await Promise.all(tick.followUps);
}

function overBudget({ deps, startedAt, budgetMs }: Tick): boolean {
  return deps.clock.now().getTime() - startedAt.getTime() > budgetMs;
}

/** Saves up to 25 task-only plans in one request; each won save's invokes follow. */
function saveBatch(tick: Tick, batch: Planned[]): Promise<void> {
  return tick
    .writes(async () => {
      if (overBudget(tick)) {
        tick.report.deferred += batch.length;
        return;
      }
      const results = await tick.deps.store.saveTasks(
        batch.map(({ task, plan }) => ({ task: plan.task, expectedVersion: task.version })),
      );
      results.forEach((result, k) => {
        const planned = batch[k] as Planned;
        if (result.saved) tick.followUps.push(invokeStarted(tick, planned));
        else tick.report.contended++;
      });
    })
    .catch((error: unknown) => {
      for (const { task } of batch) taskFailed(tick, task, error);
    });
}

/** Saves a plan that also writes run records (one transaction), then invokes its runs. */
function saveOne(tick: Tick, { task, plan }: Planned): Promise<void> {
  return tick
    .invokes(async () => {
      if (overBudget(tick)) {
        tick.report.deferred++;
        return;
      }
      const saved = await tick.deps.store.saveTask(plan.task, {
        expectedVersion: task.version,
        runWrites: plan.runWrites,
      });
      if (!saved.saved) tick.report.contended++;
      else await afterSave(tick.deps, task, plan, tick.now).then((outcome) => tally(tick, outcome));
    })
    .catch((error: unknown) => taskFailed(tick, task, error));
}

/** The invokes (and their bookkeeping) of a task whose batch save landed. */
function invokeStarted(tick: Tick, { task, plan }: Planned): Promise<void> {
  return tick
    .invokes(() => afterSave(tick.deps, task, plan, tick.now))
    .then((outcome) => tally(tick, outcome))
    .catch((error: unknown) => taskFailed(tick, task, error));
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

/** Sends the notices of every failed, timed-out, skipped and missed run at once. */
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
