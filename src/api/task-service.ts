/**
 * The admin API's use cases, free of HTTP: each takes the deps and validated input, reads and
 * writes through the store's compare-and-set, and returns a view or throws a Tickwork error (the
 * app maps errors to statuses in one place).
 */

import { AuditAction, diffFields, taskChanges } from '../core/audit.js';
import {
  ReadOnlyTaskError,
  RunNotFoundError,
  ScheduleValidationError,
  TaskNotFoundError,
  UnknownTaskTypeError,
  ValidationError,
  VersionConflictError,
} from '../core/errors.js';
import {
  type Parameters,
  type PendingRun,
  type RunRecord,
  RunStatus,
  slotSpanOf,
  type TaskState,
  type TaskType,
  Trigger,
  taskDefaults,
} from '../core/model.js';
import { dispatchedRecord, historyExpiry, unhandledSlotsRecord } from '../core/plan.js';
import type { RunWrite } from '../core/ports.js';
import { describeSchedule, nextSlot, parseSchedule, previewSlots, type Schedule } from '../core/schedule.js';
import { scheduleFor } from '../core/schedule-cache.js';
import { newId } from '../ids.js';
import { dispatchNow } from '../tick/dispatch.js';
import { settleTask } from '../tick/settle.js';
import { type AuditContext, auditEntry } from './audit.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';
import { checkParameters } from './parameters.js';
import { planAllSoon, planSoon } from './plan-soon.js';
import {
  jsonValueIssue,
  RUN_ID_PATTERN,
  TASK_ID_PATTERN,
  type TaskInput,
  type TaskPatch,
  type TaskView,
} from './schemas.js';
import { queuedView, runView, snapshotOf, taskTypeView, taskView } from './views.js';

/** Attempts at a compare-and-set write before giving up with a 409 `conflict`. */
const CAS_ATTEMPTS = 3;
/** Most manual runs a task may have queued at once (keeps the task item well under 400 KB). */
export const MAX_QUEUED_MANUAL_RUNS = 10;
export const DEFAULT_PAGE_SIZE = 25;

/** Reads a task; 404 for ids that cannot exist (never sent to the store) and for absent ones. */
async function loadTask(deps: ApiDeps, taskId: string): Promise<TaskState> {
  if (!TASK_ID_PATTERN.test(taskId)) throw new TaskNotFoundError(taskId.slice(0, 200));
  const task = await deps.store.getTask(taskId);
  if (!task) throw new TaskNotFoundError(taskId);
  return task;
}

async function viewOf(deps: ApiDeps, task: TaskState): Promise<TaskView> {
  const now = deps.clock.now();
  return taskView(await snapshotOf(deps.store, task, now), now, deps.logs !== undefined);
}

function validSchedule(deps: ApiDeps, expression: string, timezone: string): Schedule {
  return parseSchedule(expression, { timezone, minIntervalMs: deps.minIntervalMs });
}

async function checkType(deps: ApiDeps, type: string): Promise<TaskType> {
  const found = await deps.registry.resolve(type);
  if (found) return found;
  const registered = (await deps.registry.list()).map((t) => t.name);
  throw new UnknownTaskTypeError(type, registered);
}

function checkWindow(startAt: Date | undefined, endAt: Date | undefined): void {
  if (startAt && endAt && endAt.getTime() <= startAt.getTime()) {
    throw new ScheduleValidationError([{ field: 'endAt', message: 'must be after startAt' }]);
  }
}

const noFutureSlot = () =>
  new ScheduleValidationError([
    { field: 'schedule', message: 'has no slot after now within startAt/endAt: it would never run' },
  ]);

/** `If-Match` (`3`, `"3"` or `W/"3"`) as a version number. */
export function parseIfMatch(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  return Number(header.replace(/^W\//, '').replaceAll('"', ''));
}

// --- task types and tasks -------------------------------------------------------------------

export async function listTaskTypes(deps: ApiDeps) {
  return { items: (await deps.registry.list()).map(taskTypeView) };
}

export async function listTasks(
  deps: ApiDeps,
  query: { limit?: number; nextToken?: string; includeHidden?: boolean },
): Promise<{ items: TaskView[]; nextToken: string | null }> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const items: TaskView[] = [];
  let token = query.nextToken;
  // Hidden tasks are filtered after the read; read on (a few pages at most) rather than answer empty.
  for (let pages = 0; pages < 5; pages++) {
    const page = await deps.store.listTasks({ limit, ...(token !== undefined ? { nextToken: token } : {}) });
    const shown = query.includeHidden ? page.items : page.items.filter((t) => !t.hidden);
    for (const task of shown) items.push(await viewOf(deps, task));
    token = page.nextToken;
    if (items.length > 0 || token === undefined) break;
  }
  return { items, nextToken: token ?? null };
}

export async function getTask(deps: ApiDeps, taskId: string): Promise<TaskView> {
  return viewOf(deps, await loadTask(deps, taskId));
}

/**
 * How a create, update or delete is made. The HTTP API makes them with the defaults; the deploy
 * path (tasks as code, `src/api/apply.ts`) alone may write system tasks and set `system`.
 */
export interface WriteOptions extends AuditContext {
  /** A deploy's declaration: may set or clear `system` and change or delete system tasks. */
  deploy?: boolean;
  /** Validate and compute the result, write nothing. */
  dryRun?: boolean;
}

const systemOnlyByDeploy = () =>
  new ApiError(
    'task_read_only',
    'system tasks are declared by a deploy; `system` cannot be set or cleared through the API',
  );

export async function createTask(
  deps: ApiDeps,
  input: TaskInput,
  options: WriteOptions = {},
): Promise<TaskView> {
  if (input.system === true && !options.deploy) throw systemOnlyByDeploy();
  const timezone = input.timezone ?? taskDefaults.timezone;
  const schedule = validSchedule(deps, input.schedule, timezone);
  const startAt = input.startAt === undefined ? undefined : new Date(input.startAt);
  const endAt = input.endAt === undefined ? undefined : new Date(input.endAt);
  checkWindow(startAt, endAt);
  const type = await checkType(deps, input.type);
  checkParameters(type, input.parameters ?? {});
  const now = deps.clock.now();
  const nextSlotAt = nextSlot(schedule, now, { startAt, endAt });
  if (nextSlotAt === undefined) throw noFutureSlot();
  const task: TaskState = {
    ...taskDefaults,
    id: input.id ?? (deps.newTaskId ?? newId)(),
    name: input.name,
    type: input.type,
    schedule: input.schedule.trim(),
    timezone: schedule.timezone,
    enabled: input.enabled ?? taskDefaults.enabled,
    priority: input.priority ?? taskDefaults.priority,
    parameters: (input.parameters ?? {}) as Parameters,
    overlap: input.overlap ?? taskDefaults.overlap,
    catchUp: input.catchUp ?? taskDefaults.catchUp,
    catchUpMaxRuns: input.catchUpMaxRuns ?? taskDefaults.catchUpMaxRuns,
    catchUpWindowSeconds: input.catchUpWindowSeconds ?? taskDefaults.catchUpWindowSeconds,
    retry: { ...taskDefaults.retry, ...input.retry },
    stopOnError: input.stopOnError ?? taskDefaults.stopOnError,
    ...(input.idempotent === true ? { idempotent: true } : {}),
    ...(input.listSucceeded !== undefined ? { listSucceeded: input.listSucceeded } : {}),
    timeoutSeconds: input.timeoutSeconds ?? taskDefaults.timeoutSeconds,
    hidden: input.hidden ?? taskDefaults.hidden,
    system: input.system ?? false,
    ...(startAt ? { startAt } : {}),
    ...(endAt ? { endAt } : {}),
    ...(input.maxRuns !== undefined ? { maxRuns: input.maxRuns } : {}),
    jitterSeconds: input.jitterSeconds ?? taskDefaults.jitterSeconds,
    historyRetentionDays: input.historyRetentionDays ?? taskDefaults.historyRetentionDays,
    ...(input.description !== undefined ? { description: input.description } : {}),
    // The promise counts from `createdAt` until the first success.
    ...(input.mustSucceedEvery !== undefined ? { mustSucceedEvery: input.mustSucceedEvery } : {}),
    version: 1,
    createdAt: now,
    updatedAt: now,
    nextSlotAt,
    scheduledStarts: 0,
    fence: 0,
    active: [],
    pending: [],
    summary: { runCount: 0 },
  };
  if (options.dryRun) return viewOf(deps, task);
  const audit = auditEntry(deps, options, {
    action: AuditAction.Create,
    taskId: task.id,
    changes: taskChanges(undefined, task),
  });
  const { created } = await deps.store.createTask(task, { audit });
  if (!created) throw new ApiError('conflict', `a task with id ${task.id} exists`);
  await planSoon(deps, task);
  return viewOf(deps, task);
}

/**
 * A patch of the dead-man promise: `null` removes it; a new value starts its clock from now (a
 * task does not turn overdue the instant its promise is tightened) and ends a reported episode.
 */
function setPromise(next: TaskState, every: string | null | undefined, now: Date): void {
  if (every === undefined || every === next.mustSucceedEvery) return;
  delete next.overdueReportedAt;
  if (every === null) {
    delete next.mustSucceedEvery;
    delete next.mustSucceedSetAt;
    return;
  }
  next.mustSucceedEvery = every;
  next.mustSucceedSetAt = now;
}

/** The task after a patch, or `undefined` when the patch changes nothing. */
function applyPatch(deps: ApiDeps, current: TaskState, patch: SystemPatch, now: Date): TaskState | undefined {
  const next: TaskState = { ...current, retry: { ...current.retry } };
  const set = <K extends keyof TaskState>(key: K, value: TaskState[K] | undefined | null) => {
    if (value === undefined) return;
    if (value === null) delete next[key];
    else next[key] = value;
  };
  set('name', patch.name);
  set('type', patch.type);
  set('schedule', patch.schedule?.trim());
  set('timezone', patch.timezone);
  set('enabled', patch.enabled);
  set('priority', patch.priority);
  set('parameters', patch.parameters as Parameters | undefined);
  set('overlap', patch.overlap);
  set('catchUp', patch.catchUp);
  set('catchUpMaxRuns', patch.catchUpMaxRuns);
  set('catchUpWindowSeconds', patch.catchUpWindowSeconds);
  if (patch.retry) next.retry = { ...taskDefaults.retry, ...patch.retry };
  set('stopOnError', patch.stopOnError);
  // `false` is the absent field: a task item stores the flag only when set.
  set('idempotent', patch.idempotent === false ? null : patch.idempotent);
  // `null` is the absent field: the default listing (src/core/listing.ts).
  set('listSucceeded', patch.listSucceeded);
  set('timeoutSeconds', patch.timeoutSeconds);
  set('hidden', patch.hidden);
  set(
    'startAt',
    patch.startAt === undefined || patch.startAt === null ? patch.startAt : new Date(patch.startAt),
  );
  set('endAt', patch.endAt === undefined || patch.endAt === null ? patch.endAt : new Date(patch.endAt));
  set('maxRuns', patch.maxRuns);
  set('jitterSeconds', patch.jitterSeconds);
  set('historyRetentionDays', patch.historyRetentionDays);
  set('description', patch.description);
  set('system', patch.system);
  setPromise(next, patch.mustSucceedEvery, now);

  const scheduleChanged =
    next.schedule !== current.schedule ||
    next.timezone !== current.timezone ||
    next.startAt?.getTime() !== current.startAt?.getTime() ||
    next.endAt?.getTime() !== current.endAt?.getTime();
  const enabling = next.enabled && !current.enabled;
  if (scheduleChanged) {
    const schedule = validSchedule(deps, next.schedule, next.timezone);
    next.timezone = schedule.timezone;
    checkWindow(next.startAt, next.endAt);
  }
  if (scheduleChanged || enabling || next.maxRuns !== current.maxRuns) {
    const schedule = validSchedule(deps, next.schedule, next.timezone);
    const exhausted = next.maxRuns !== undefined && next.scheduledStarts >= next.maxRuns;
    const slot = exhausted
      ? undefined
      : nextSlot(schedule, now, { startAt: next.startAt, endAt: next.endAt });
    if (scheduleChanged && slot === undefined && !exhausted) throw noFutureSlot();
    // Re-aim the cursor from now: slots that passed while disabled (or under the old schedule) are not owed.
    if (scheduleChanged || enabling || slot === undefined || next.nextSlotAt === undefined) {
      if (slot === undefined) delete next.nextSlotAt;
      else next.nextSlotAt = slot;
    }
  }
  if (enabling) delete next.disabledReason;

  const comparable = (t: TaskState) => JSON.stringify({ ...t, version: 0, updatedAt: 0 });
  if (comparable(next) === comparable(current)) return undefined;
  next.version = current.version + 1;
  next.updatedAt = now;
  return next;
}

/**
 * Scheduled runs whose leases a look-ahead tick took before their instant, when an edit changes
 * whether or when they are due (disabled, a new schedule, zone, window, jitter or type): taken out
 * of `next` and recorded `cancelled` in the same write, so the tick's invoke at the instant is
 * dropped by the claim. A new schedule's next slot is aimed from now as for any edit. Parameters
 * need no withdrawal: a scheduled run takes its task's parameters when it is claimed.
 */
function withdrawLeasesAhead(current: TaskState, next: TaskState, now: Date): RunWrite[] {
  const changesSlots =
    !next.enabled ||
    next.schedule !== current.schedule ||
    next.timezone !== current.timezone ||
    next.startAt?.getTime() !== current.startAt?.getTime() ||
    next.endAt?.getTime() !== current.endAt?.getTime() ||
    next.jitterSeconds !== current.jitterSeconds ||
    next.type !== current.type;
  if (!changesSlots) return [];
  const ahead = next.active.filter(
    (a) => a.dispatchedAt > now && (a.trigger === Trigger.Schedule || a.trigger === Trigger.CatchUp),
  );
  if (ahead.length === 0) return [];
  next.active = next.active.filter((a) => !ahead.includes(a));
  const why = next.enabled ? 'the task was edited before its slot' : 'the task was disabled before its slot';
  return ahead.map((a) => ({
    kind: 'record',
    record: { ...dispatchedRecord(current, a, now), status: RunStatus.Cancelled, finishedAt: now, note: why },
  }));
}

/**
 * The record of the slots a patch drops: disabling a task, or changing its schedule (the cursor
 * is re-aimed from now), while slots it came due for wait for the next tick. Every slot of an
 * enabled task ends in a record (`docs/scheduling.md`).
 */
function droppedSlots(deps: ApiDeps, current: TaskState, next: TaskState, now: Date): RunRecord | undefined {
  const scheduleChanged =
    next.schedule !== current.schedule ||
    next.timezone !== current.timezone ||
    next.startAt?.getTime() !== current.startAt?.getTime() ||
    next.endAt?.getTime() !== current.endAt?.getTime();
  if (!current.enabled || (next.enabled && !scheduleChanged)) return undefined;
  const record = unhandledSlotsRecord(
    current,
    { now, schedule: scheduleFor(current), newRunId: deps.newRunId },
    next.enabled
      ? 'the schedule changed before the tick handled these slots'
      : 'the task was disabled before the tick handled these slots',
  );
  // A disabled task's cursor is never walked, and enabling re-aims it from then: no slot twice.
  return record;
}

/** A patch as the deploy path makes it: the API's fields and `system`. */
export type SystemPatch = TaskPatch & { system?: boolean };

/** A task before and after a patch; `after` is `before` when the patch changed nothing. */
export interface PatchOutcome {
  before: TaskState;
  after: TaskState;
  changed: boolean;
}

/**
 * Patches a task by compare-and-set, retried from a fresh read when another writer got there
 * first (never with `ifMatch`: then the caller's version is the condition, 409 when it moved).
 * System tasks are refused unless `deploy`; a dry run validates and computes, writing nothing.
 */
export async function patchTask(
  deps: ApiDeps,
  taskId: string,
  patch: SystemPatch,
  options: WriteOptions & { ifMatch?: number | undefined } = {},
): Promise<PatchOutcome> {
  const patchedType = patch.type === undefined ? undefined : await checkType(deps, patch.type);
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const current = await loadTask(deps, taskId);
    if (!options.deploy) {
      if (current.system) throw new ReadOnlyTaskError(taskId);
      if (patch.system !== undefined && patch.system !== current.system) throw systemOnlyByDeploy();
    }
    if (options.ifMatch !== undefined && current.version !== options.ifMatch) {
      throw new VersionConflictError(taskId, options.ifMatch, current.version);
    }
    const now = deps.clock.now();
    const next = applyPatch(deps, current, patch, now);
    if (!next) return { before: current, after: current, changed: false };
    // A new type or new parameters: the parameters must fit the (new) type's schema.
    if (patch.type !== undefined || patch.parameters !== undefined) {
      const type = patchedType ?? (await deps.registry.resolve(next.type));
      if (type) checkParameters(type, next.parameters);
    }
    if (options.dryRun) return { before: current, after: next, changed: true };
    const withdrawn = withdrawLeasesAhead(current, next, now);
    const dropped = droppedSlots(deps, current, next, now);
    const audit = auditEntry(deps, options, {
      action: AuditAction.Update,
      taskId,
      changes: taskChanges(current, next),
    });
    const result = await deps.store.saveTask(next, {
      expectedVersion: current.version,
      runWrites: [...withdrawn, ...(dropped ? [{ kind: 'record' as const, record: dropped }] : [])],
      audit,
    });
    if (result.saved) {
      await planSoon(deps, result.task);
      return { before: current, after: result.task, changed: true };
    }
    if (options.ifMatch !== undefined) {
      const now = await deps.store.getTask(taskId);
      throw new VersionConflictError(taskId, options.ifMatch, now?.version);
    }
  }
  throw new ApiError('conflict', `task ${taskId} kept changing while updating it; try again`);
}

export async function updateTask(
  deps: ApiDeps,
  taskId: string,
  patch: TaskPatch,
  ifMatch: number | undefined,
  context: AuditContext = {},
): Promise<TaskView> {
  return viewOf(deps, (await patchTask(deps, taskId, patch, { ifMatch, ...context })).after);
}

export async function deleteTask(
  deps: ApiDeps,
  taskId: string,
  options: { force: boolean; ifMatch: number | undefined; deploy?: boolean } & AuditContext,
): Promise<void> {
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const current = await loadTask(deps, taskId);
    if (current.system && !options.deploy) throw new ReadOnlyTaskError(taskId);
    if (options.ifMatch !== undefined && current.version !== options.ifMatch) {
      throw new VersionConflictError(taskId, options.ifMatch, current.version);
    }
    const now = deps.clock.now();
    const { live } = await snapshotOf(deps.store, current, now);
    if (live.length > 0 && !options.force) {
      throw new ApiError(
        'run_active',
        `task ${taskId} has an active run (${live[0]?.runId}); cancel it first or delete with ?force=true`,
      );
    }
    for (const record of live) await deps.store.requestCancel(record, now);
    const audit = auditEntry(deps, options, {
      action: AuditAction.Delete,
      taskId,
      changes: taskChanges(current, undefined),
    });
    const { deleted } = await deps.store.deleteTask(taskId, { expectedVersion: current.version, audit });
    if (deleted) return;
    if (options.ifMatch !== undefined) {
      const moved = await deps.store.getTask(taskId);
      if (!moved) throw new TaskNotFoundError(taskId);
      throw new VersionConflictError(taskId, options.ifMatch, moved.version);
    }
  }
  throw new ApiError('conflict', `task ${taskId} kept changing while deleting it; try again`);
}

// --- runs -----------------------------------------------------------------------------------

/** How long a run-now idempotency key stands for its first run. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

/**
 * Run now, at most once per idempotency key within {@link IDEMPOTENCY_WINDOW_MS}: the key is tied
 * to the new run id before anything is recorded; a key already tied answers with its run (and
 * starts nothing); a run-now that fails unties its key, so the client's retry starts the run.
 */
export async function runNow(
  deps: ApiDeps,
  taskId: string,
  parameters: Record<string, unknown> | undefined,
  options: { idempotencyKey?: string | undefined } & AuditContext = {},
): Promise<{ runId: string; status: RunRecord['status'] | 'queued'; replayed?: boolean }> {
  const key = options.idempotencyKey;
  if (key === undefined) return startManualRun(deps, taskId, parameters, deps.newRunId(), options);
  await loadTask(deps, taskId); // 404 for an unknown task, before a key is tied to it
  const now = deps.clock.now();
  const runId = deps.newRunId();
  const expiresAt = new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS);
  const tied = await deps.store.putIdempotencyKey({ taskId, key, runId, expiresAt }, now);
  if (!tied.created) return { ...(await acceptedRun(deps, taskId, tied.runId)), replayed: true };
  try {
    return await startManualRun(deps, taskId, parameters, runId, options);
  } catch (error) {
    await deps.store.deleteIdempotencyKey(taskId, key).catch(() => {});
    throw error;
  }
}

/** Where a run started earlier stands now: its record's status, or queued while it has none. */
async function acceptedRun(
  deps: ApiDeps,
  taskId: string,
  runId: string,
): Promise<{ runId: string; status: RunRecord['status'] | 'queued' }> {
  const record = await deps.store.getRun(taskId, runId);
  if (record) return { runId, status: record.status };
  const task = await deps.store.getTask(taskId);
  const active = task?.active.some((run) => run.runId === runId);
  return { runId, status: active ? RunStatus.Dispatched : 'queued' };
}

/**
 * Records a manual pending run (parameters merged over the task's), then dispatches it through
 * the tick's lease path at once. A failed dispatch is logged, not returned: the task is due now,
 * so the next tick starts the run.
 */
async function startManualRun(
  deps: ApiDeps,
  taskId: string,
  parameters: Record<string, unknown> | undefined,
  runId: string,
  context: AuditContext,
): Promise<{ runId: string; status: RunRecord['status'] | 'queued' }> {
  let saved = false;
  for (let attempt = 0; attempt < CAS_ATTEMPTS && !saved; attempt++) {
    const current = await loadTask(deps, taskId);
    const merged = { ...current.parameters, ...(parameters as Parameters | undefined) };
    const issue = jsonValueIssue(merged);
    if (issue)
      throw new ValidationError([{ field: 'parameters', message: `merged with the task's: ${issue}` }]);
    // What the run would start with, checked now rather than failing when the handler parses it.
    const type = await deps.registry.resolve(current.type);
    if (type) checkParameters(type, merged);
    const queued = current.pending.filter((p) => p.trigger === Trigger.Manual).length;
    if (queued >= MAX_QUEUED_MANUAL_RUNS) {
      throw new ApiError('conflict', `task ${taskId} already has ${queued} manual runs queued`);
    }
    const now = deps.clock.now();
    const pending: PendingRun = {
      runId,
      trigger: Trigger.Manual,
      scheduledFor: now,
      notBefore: now,
      attempt: 1,
      parameters: merged,
    };
    const next: TaskState = {
      ...current,
      pending: [...current.pending, pending],
      version: current.version + 1,
      updatedAt: now,
    };
    const audit = auditEntry(deps, context, {
      action: AuditAction.Run,
      taskId,
      runId,
      changes: diffFields(current.parameters, merged).map((c) => ({ ...c, field: `parameters.${c.field}` })),
    });
    saved = (await deps.store.saveTask(next, { expectedVersion: current.version, audit })).saved;
  }
  if (!saved)
    throw new ApiError('conflict', `task ${taskId} kept changing while queueing the run; try again`);
  try {
    const outcome = await dispatchNow(deps, taskId);
    if (outcome?.startedRunIds.includes(runId)) return { runId, status: RunStatus.Dispatched };
  } catch (error) {
    deps.logger?.warn('run-now: dispatch failed; the next tick starts the run', {
      taskId,
      runId,
      error: error instanceof Error ? error.message : String(error),
    });
    return { runId, status: 'queued' };
  }
  // Not started: blocked by the overlap policy, contended, or its invoke failed (then it is recorded).
  const record = await deps.store.getRun(taskId, runId).catch(() => undefined);
  return { runId, status: record?.status ?? 'queued' };
}

/**
 * Cancel: the newest active run that has not finished gets its cancel flag (or, never claimed,
 * is recorded `cancelled`); with none, the next queued run is taken out of the queue and recorded
 * `cancelled`. 409 `nothing_running` when there is neither.
 */
export async function cancelRun(
  deps: ApiDeps,
  taskId: string,
  runId: string | undefined,
  context: AuditContext = {},
): Promise<{ runId: string; status: RunRecord['status'] }> {
  const entry = (cancelled: string) =>
    auditEntry(deps, context, { action: AuditAction.Cancel, taskId, runId: cancelled });
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    const current = await loadTask(deps, taskId);
    const now = deps.clock.now();
    const { live } = await snapshotOf(deps.store, current, now);
    for (const record of live.filter((r) => runId === undefined || r.runId === runId)) {
      const result = await deps.store.requestCancel(record, now, { audit: entry(record.runId) });
      if (result.requested && result.status === 'cancelled') {
        // Never claimed, so no handler will complete it: fold it now, so that a run queued
        // behind it starts without waiting for the lease to end.
        await settleTask(deps.store, { ...record, status: RunStatus.Cancelled, finishedAt: now }, deps);
      }
      if (result.requested) return { runId: record.runId, status: result.status };
    }
    const queued = current.pending
      .filter((p) => runId === undefined || p.runId === runId)
      .sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime())[0];
    if (!queued) break;
    const record: RunRecord = {
      taskId,
      runId: queued.runId,
      type: current.type,
      status: RunStatus.Cancelled,
      trigger: queued.trigger,
      attempt: queued.attempt,
      scheduledFor: queued.scheduledFor,
      finishedAt: now,
      parameters: queued.parameters,
      ...slotSpanOf(queued),
      note: 'cancelled before it started',
      expiresAt: historyExpiry(current, now),
    };
    const next: TaskState = {
      ...current,
      pending: current.pending.filter((p) => p.runId !== queued.runId),
      version: current.version + 1,
      updatedAt: now,
    };
    const result = await deps.store.saveTask(next, {
      expectedVersion: current.version,
      runWrites: [{ kind: 'record', record }],
      audit: entry(queued.runId),
    });
    if (result.saved) return { runId: queued.runId, status: RunStatus.Cancelled };
  }
  if (runId !== undefined) {
    const record = RUN_ID_PATTERN.test(runId) ? await deps.store.getRun(taskId, runId) : undefined;
    if (!record) throw new RunNotFoundError(taskId, runId.slice(0, 200));
    throw new ApiError('nothing_running', `run ${runId} already ended (${record.status})`);
  }
  throw new ApiError('nothing_running', `task ${taskId} has no active or queued run to cancel`);
}

/** History, newest first; the first page also lists runs not yet claimed (dispatched, queued). */
export async function listRuns(deps: ApiDeps, taskId: string, query: { limit?: number; nextToken?: string }) {
  const task = await loadTask(deps, taskId);
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const page = await deps.store.listRuns(taskId, {
    limit,
    ...(query.nextToken !== undefined ? { nextToken: query.nextToken } : {}),
  });
  const hasLogs = deps.logs !== undefined;
  const items = page.items.map((r) => runView(r, hasLogs));
  if (query.nextToken === undefined) {
    const recorded = new Set(page.items.map((r) => r.runId));
    const unclaimed = task.active.filter((a) => !recorded.has(a.runId));
    const { runs } = unclaimed.length
      ? await deps.store.getRuns(unclaimed.map((a) => ({ taskId, runId: a.runId })))
      : { runs: new Map<string, RunRecord>() };
    const early = [
      ...task.pending.map((p) => queuedView(task, p)),
      ...unclaimed.filter((a) => !runs.has(a.runId)).map((a) => runView(dispatchedRecord(task, a), hasLogs)),
    ];
    items.unshift(...early);
  }
  return { items, nextToken: page.nextToken ?? null };
}

export async function getRun(deps: ApiDeps, taskId: string, runId: string) {
  const task = await loadTask(deps, taskId);
  if (!RUN_ID_PATTERN.test(runId)) throw new RunNotFoundError(taskId, runId.slice(0, 200));
  const hasLogs = deps.logs !== undefined;
  const record = await deps.store.getRun(taskId, runId);
  if (record) return runView(record, hasLogs);
  const active = task.active.find((a) => a.runId === runId);
  if (active) return runView(dispatchedRecord(task, active), hasLogs);
  const pending = task.pending.find((p) => p.runId === runId);
  if (pending) return queuedView(task, pending);
  throw new RunNotFoundError(taskId, runId);
}

export async function getRunLogs(deps: ApiDeps, taskId: string, runId: string) {
  await getRun(deps, taskId, runId);
  const logs = await deps.logs?.read(taskId, runId);
  if (!logs) throw new ApiError('logs_not_found', `no logs are available for run ${runId}`);
  if ('url' in logs) return { lines: null, url: logs.url };
  return {
    lines: logs.lines.map((l) => ({ at: l.at, level: l.level ?? null, message: l.message })),
    url: null,
  };
}

// --- scheduler and preview --------------------------------------------------------------------

export async function schedulerView(deps: ApiDeps) {
  const [state, stored] = await Promise.all([deps.scheduler.state(), deps.store.getSchedulerState()]);
  return {
    state,
    lastTickAt: stored.lastTickAt?.toISOString() ?? null,
    lastTickDurationMs: stored.lastTickDurationMs ?? null,
    lastTickStarted: stored.lastTickStarted ?? null,
  };
}

/**
 * Writes the paused flag with its audit entry (one transaction), then pauses or resumes the
 * tick's schedules: the schedules never change without an entry. Should changing them fail, the
 * answer is an error and the entry stands for the attempt; pausing again is harmless.
 */
export async function setPaused(deps: ApiDeps, paused: boolean, context: AuditContext = {}) {
  const audit = auditEntry(deps, context, { action: paused ? AuditAction.Pause : AuditAction.Resume });
  await deps.store.updateSchedulerState({ paused }, { audit });
  if (paused) await deps.scheduler.pause();
  else {
    await deps.scheduler.resume();
    await planAllSoon(deps);
  }
  return schedulerView(deps);
}

export function previewSchedule(
  deps: ApiDeps,
  query: { schedule: string; timezone?: string; count?: number; from?: string },
) {
  const schedule = validSchedule(deps, query.schedule, query.timezone ?? 'UTC');
  const from = query.from === undefined ? deps.clock.now() : new Date(query.from);
  return {
    schedule: schedule.expression,
    timezone: schedule.timezone,
    description: describeSchedule(schedule),
    next: previewSlots(schedule, from, query.count ?? 5).map((d) => d.toISOString()),
  };
}
