/**
 * The backfill pump: tops up each backfill in progress with pending runs (trigger `backfill`, the
 * slot as `scheduledFor`, so the slot's idempotency key) as room frees up, and removes a job once
 * every slot is queued. The tick runs it once per tick for the jobs of its shards; the API runs it
 * once when a backfill starts. From then on the queued runs are ordinary pending runs: the tick's
 * plan starts them.
 *
 * A job's slots are claimed first (compare-and-set of its `queued` count), then queued on the task
 * (compare-and-set of its version); if the task cannot be written the slots are handed back, so two
 * pumps at once never queue a slot twice.
 */
import { backfillRoom, backfillSlots } from '../core/backfill.js';
import { shardOf } from '../core/due.js';
import { isTerminal, type PendingRun, type TaskState, Trigger } from '../core/model.js';
import type { BackfillJob } from '../core/ports.js';
import type { TickDeps } from './dispatch.js';

const ATTEMPTS = 3;

/** Queues the next slots of one job that fit; returns the runs queued. */
export async function pumpBackfill(deps: TickDeps, job: BackfillJob, now: Date): Promise<PendingRun[]> {
  const task = await deps.store.getTask(job.taskId);
  if (!task) {
    await deps.store.deleteBackfill(job.taskId, job.backfillId);
    return [];
  }
  const room = backfillRoom(task, job.concurrency, await finishedRuns(deps, task));
  if (room === 0) return [];
  // One more than fits tells whether slots remain after these.
  const slots = backfillSlots(task, job.nextSlotAt, job.to, room + 1);
  const take = slots.slice(0, room);
  const after = slots[room];
  if (take.length > 0) {
    const moved: BackfillJob = { ...job, queued: job.queued + take.length, nextSlotAt: after ?? job.to };
    if (!(await deps.store.saveBackfill(moved, job.queued))) return [];
    const runs = take.map(
      (slot): PendingRun => ({
        runId: deps.newRunId(),
        trigger: Trigger.Backfill,
        scheduledFor: slot,
        notBefore: now,
        attempt: 1,
        parameters: task.parameters,
      }),
    );
    if (!(await queueRuns(deps, task, runs, now))) {
      await deps.store.saveBackfill(job, moved.queued);
      return [];
    }
    if (after === undefined) await deps.store.deleteBackfill(job.taskId, job.backfillId);
    return runs;
  }
  await deps.store.deleteBackfill(job.taskId, job.backfillId);
  return [];
}

/** Active runs of the task whose record already ended (not folded back yet). */
async function finishedRuns(deps: TickDeps, task: TaskState): Promise<Set<string>> {
  if (task.active.length === 0) return new Set();
  const { runs } = await deps.store.getRuns(task.active.map((a) => ({ taskId: task.id, runId: a.runId })));
  return new Set([...runs.values()].filter((run) => isTerminal(run.status)).map((run) => run.runId));
}

/** Adds pending runs to a task by compare-and-set, reading it again after a lost race. */
async function queueRuns(deps: TickDeps, first: TaskState, runs: PendingRun[], now: Date): Promise<boolean> {
  let task: TaskState | undefined = first;
  for (let attempt = 0; attempt < ATTEMPTS && task; attempt++) {
    const next: TaskState = {
      ...task,
      pending: [...task.pending, ...runs],
      version: task.version + 1,
      updatedAt: now,
    };
    if ((await deps.store.saveTask(next, { expectedVersion: task.version })).saved) return true;
    task = await deps.store.getTask(first.id);
  }
  return false;
}

/**
 * Pumps every backfill in progress whose task lives in one of `shards` (so split ticks never
 * pump the same job). Never throws: a failure is logged and the next tick tries again.
 */
export async function pumpBackfills(deps: TickDeps, now: Date, shards: readonly number[]): Promise<number> {
  try {
    const jobs = await deps.store.listBackfills();
    let queued = 0;
    for (const job of jobs) {
      if (!shards.includes(shardOf(job.taskId, deps.store.shardCount))) continue;
      queued += (await pumpBackfill(deps, job, now)).length;
    }
    return queued;
  } catch (error) {
    deps.logger?.warn('backfill pump failed; the next tick tries again', {
      error: error instanceof Error ? error.message : String(error),
    });
    return 0;
  }
}
