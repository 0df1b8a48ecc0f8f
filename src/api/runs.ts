/**
 * Runs across tasks (`GET /runs`, from the run index) and replay (`POST
 * /tasks/{id}/runs/{runId}/replay`: a new run with the original's parameters and slot).
 */
import { AuditAction, type AuditEntry } from '../core/audit.js';
import { RunNotFoundError, TaskNotFoundError, ValidationError } from '../core/errors.js';
import { type PendingRun, type RunStatus, type TaskState, Trigger } from '../core/model.js';
import type { RunSummary } from '../core/ports.js';
import { dispatchNow } from '../tick/dispatch.js';
import { type AuditContext, auditEntry } from './audit.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';
import { checkParameters } from './parameters.js';
import {
  type ListAllRunsQuery,
  type ReplayAccepted,
  RUN_ID_PATTERN,
  type RunSummaryView,
} from './schemas.js';

const DEFAULT_PAGE_SIZE = 25;
const CAS_ATTEMPTS = 3;

const iso = (date: Date | undefined): string | null => (date === undefined ? null : date.toISOString());

export function runSummaryView(run: RunSummary): RunSummaryView {
  return {
    runId: run.runId,
    taskId: run.taskId,
    type: run.type,
    status: run.status,
    trigger: run.trigger,
    attempt: run.attempt,
    scheduledFor: run.scheduledFor.toISOString(),
    dispatchedAt: iso(run.dispatchedAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.durationMs ?? null,
    slotCount: run.slotCount ?? null,
    replayOf: run.replayOf ?? null,
  };
}

/** Runs of every task, newest first, filtered; each page's reads follow the page, not the history. */
export async function listRunsAcross(deps: ApiDeps, query: ListAllRunsQuery) {
  const from = query.from === undefined ? undefined : new Date(query.from);
  const to = query.to === undefined ? undefined : new Date(query.to);
  if (from && to && from.getTime() > to.getTime()) {
    throw new ValidationError([{ field: 'query.from', message: 'must not be after `to`' }]);
  }
  const page = await deps.store.listRunsAcross({
    limit: query.limit ?? DEFAULT_PAGE_SIZE,
    ...(query.status !== undefined ? { statuses: query.status.split(',') as RunStatus[] } : {}),
    ...(query.type !== undefined ? { type: query.type } : {}),
    ...(query.trigger !== undefined ? { trigger: query.trigger } : {}),
    ...(query.taskId !== undefined ? { taskId: query.taskId } : {}),
    ...(from ? { from } : {}),
    ...(to ? { to } : {}),
    ...(query.nextToken !== undefined ? { nextToken: query.nextToken } : {}),
  });
  return { items: page.items.map(runSummaryView), nextToken: page.nextToken ?? null };
}

/**
 * Adds pending runs to a task by compare-and-set, then dispatches them through the tick's lease
 * path at once (as run-now does). A failed dispatch is logged: the next tick starts them.
 * `audit`: the entry written in the same transaction as the queueing (none when it loses).
 */
export async function queueAndDispatch(
  deps: ApiDeps,
  taskId: string,
  make: (task: TaskState, now: Date) => PendingRun[],
  audit?: (runs: PendingRun[]) => AuditEntry,
): Promise<{ runIds: string[]; started: string[] }> {
  let runIds: string[] | undefined;
  for (let attempt = 0; attempt < CAS_ATTEMPTS && runIds === undefined; attempt++) {
    const task = await deps.store.getTask(taskId);
    if (!task) throw new TaskNotFoundError(taskId);
    const now = deps.clock.now();
    const runs = make(task, now);
    const next: TaskState = {
      ...task,
      pending: [...task.pending, ...runs],
      version: task.version + 1,
      updatedAt: now,
    };
    const entry = audit?.(runs);
    if (
      (await deps.store.saveTask(next, { expectedVersion: task.version, ...(entry ? { audit: entry } : {}) }))
        .saved
    )
      runIds = runs.map((r) => r.runId);
  }
  if (runIds === undefined)
    throw new ApiError('conflict', `task ${taskId} kept changing while queueing; try again`);
  try {
    const outcome = await dispatchNow(deps, taskId);
    return { runIds, started: outcome?.startedRunIds.filter((id) => runIds.includes(id)) ?? [] };
  } catch (error) {
    deps.logger?.warn('dispatch failed; the next tick starts the runs', {
      taskId,
      error: error instanceof Error ? error.message : String(error),
    });
    return { runIds, started: [] };
  }
}

/**
 * Replays a recorded run: a new run (`trigger: replay`, `replayOf` the original) with the
 * original's parameters and slot, so the same idempotency key. A skipped or missed slot, which
 * never had parameters, runs with the task's. The parameters are checked against the type's
 * schema as it is now (400 when they no longer fit).
 */
export async function replayRun(
  deps: ApiDeps,
  taskId: string,
  runId: string,
  context: AuditContext = {},
): Promise<ReplayAccepted> {
  const task = await deps.store.getTask(taskId);
  if (!task) throw new TaskNotFoundError(taskId);
  const original = RUN_ID_PATTERN.test(runId) ? await deps.store.getRun(taskId, runId) : undefined;
  if (!original) throw new RunNotFoundError(taskId, runId.slice(0, 200));
  const gap = original.status === 'skipped' || original.status === 'missed';
  const type = await deps.registry.resolve(task.type);
  if (type) checkParameters(type, gap ? task.parameters : original.parameters);
  const newRunId = deps.newRunId();
  const { started } = await queueAndDispatch(
    deps,
    taskId,
    (current, now) => [
      {
        runId: newRunId,
        trigger: Trigger.Replay,
        scheduledFor: original.scheduledFor,
        notBefore: now,
        attempt: 1,
        parameters: gap ? current.parameters : original.parameters,
        replayOf: original.runId,
      },
    ],
    () =>
      auditEntry(deps, context, {
        action: AuditAction.Replay,
        taskId,
        runId: newRunId,
        changes: [{ field: 'replayOf', before: null, after: original.runId }],
      }),
  );
  return {
    runId: newRunId,
    status: started.includes(newRunId) ? 'dispatched' : 'queued',
    replayOf: original.runId,
  };
}
