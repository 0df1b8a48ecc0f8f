/**
 * Domain objects as the API shows them: ISO 8601 UTC times, `null` for what is absent, and the
 * task's finished runs folded in for display (the stored task folds them lazily, see
 * docs/architecture.md).
 */
import { pendingIsBlocked, slotDueAt } from '../core/due.js';
import { successListingOf } from '../core/listing.js';
import {
  isTerminal,
  type PendingRun,
  type Progress,
  type RunRecord,
  type SlotSpan,
  type TaskState,
  type TaskType,
} from '../core/model.js';
import { promiseDeadline } from '../core/overdue.js';
import { dispatchedRecord, planTask } from '../core/plan.js';
import type { TaskStore } from '../core/ports.js';
import { describeSchedule, previewSlots, type Schedule } from '../core/schedule.js';
import { scheduleFor } from '../core/schedule-cache.js';
import type { RunView, TaskView } from './schemas.js';

const iso = (date: Date | undefined): string | null => (date === undefined ? null : date.toISOString());

/** Where a run's logs are: the recorded link (AWS), else this API's log route when it has a log reader. */
export function logsLink(
  record: Pick<RunRecord, 'taskId' | 'runId' | 'logs'>,
  hasLogReader: boolean,
): string | null {
  if (record.logs) return record.logs;
  return hasLogReader
    ? `/tasks/${encodeURIComponent(record.taskId)}/runs/${encodeURIComponent(record.runId)}/logs`
    : null;
}

function progressView(progress: Progress | undefined): RunView['progress'] {
  if (!progress) return null;
  const max = progress.max ?? null;
  const percent =
    max !== null && max > 0
      ? Math.max(0, Math.min(100, Math.round((progress.value / max) * 1000) / 10))
      : null;
  return {
    value: progress.value,
    max,
    percent,
    message: progress.message ?? null,
    updatedAt: iso(progress.updatedAt),
  };
}

/** The slots a run or record stands for, as the API shows them (nulls for a single slot). */
function slotSpanView(span: SlotSpan): Pick<RunView, 'slotCount' | 'firstSlotAt' | 'lastSlotAt'> {
  // A record written before spans had bounds has a count alone: shown as it is.
  return {
    slotCount: span.slotCount ?? null,
    firstSlotAt: iso(span.firstSlotAt),
    lastSlotAt: iso(span.lastSlotAt),
  };
}

/** A stored run record as the API shows it. */
export function runView(record: RunRecord, hasLogReader: boolean): RunView {
  return {
    runId: record.runId,
    taskId: record.taskId,
    type: record.type,
    status: record.status,
    trigger: record.trigger,
    attempt: record.attempt,
    scheduledFor: record.scheduledFor.toISOString(),
    dispatchedAt: iso(record.dispatchedAt),
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    durationMs: record.durationMs ?? null,
    latenessMs: record.startedAt ? record.startedAt.getTime() - record.scheduledFor.getTime() : null,
    parameters: record.parameters,
    result: record.result ?? null,
    error: record.error
      ? { name: record.error.name, message: record.error.message, stack: record.error.stack ?? null }
      : null,
    progress: progressView(record.progress),
    cancelRequested: record.cancelRequested === true,
    note: record.note ?? null,
    ...slotSpanView(record),
    logs: logsLink(record, hasLogReader),
    ranOn: record.requestId
      ? {
          requestId: record.requestId,
          functionName: record.functionName ?? null,
          functionVersion: record.functionVersion ?? null,
          logStream: record.logStream ?? null,
        }
      : null,

    replayOf: record.replayOf ?? null,
  };
}

/** A run the task owes but has not started, shown as `queued`. */
export function queuedView(task: TaskState, run: PendingRun): RunView {
  return {
    runId: run.runId,
    taskId: task.id,
    type: task.type,
    status: 'queued',
    trigger: run.trigger,
    attempt: run.attempt,
    scheduledFor: run.scheduledFor.toISOString(),
    dispatchedAt: null,
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    latenessMs: null,
    parameters: run.parameters,
    result: null,
    error: null,
    progress: null,
    cancelRequested: false,
    note: `not before ${run.notBefore.toISOString()}`,
    ...slotSpanView(run),
    logs: null,
    ranOn: null,

    replayOf: run.replayOf ?? null,
  };
}

/** A task with its active runs' records: what the views and the cancel/delete rules need. */
export interface TaskSnapshot {
  /** The stored task. */
  stored: TaskState;
  /** The task with finished runs folded in (display only, never written). */
  task: TaskState;
  /** Records of the active runs, by run id (missing: dispatched, not yet claimed). */
  runs: Map<string, RunRecord>;
  /** Active runs not finished, newest first, with their record (stored or synthesized `dispatched`). */
  live: RunRecord[];
}

/** Reads the records of a task's active runs and folds the finished ones, for display. */
export async function snapshotOf(store: TaskStore, stored: TaskState, now: Date): Promise<TaskSnapshot> {
  const runs =
    stored.active.length === 0
      ? new Map<string, RunRecord>()
      : (await store.getRuns(stored.active.map((a) => ({ taskId: stored.id, runId: a.runId })))).runs;
  let task = stored;
  let schedule: Schedule | undefined;
  try {
    schedule = scheduleFor(stored);
  } catch {
    schedule = undefined; // a stored schedule that no longer parses: show the task unfolded
  }
  if (
    schedule &&
    stored.active.some((a) => runs.get(a.runId) && isTerminal((runs.get(a.runId) as RunRecord).status))
  ) {
    let n = 0;
    task = planTask(stored, {
      now,
      schedule,
      runs,
      newRunId: () => `display-${n++}`,
      startRuns: false,
    }).task;
  }
  const live = stored.active
    .map((a) => runs.get(a.runId) ?? dispatchedRecord(stored, a))
    .filter((r) => !isTerminal(r.status))
    .sort((a, b) => (b.dispatchedAt?.getTime() ?? 0) - (a.dispatchedAt?.getTime() ?? 0));
  return { stored, task, runs, live };
}

/** How many upcoming slots a task view lists. */
export const NEXT_SLOT_COUNT = 5;

/** The task view: configuration, scheduling state, the current run and the next slots. */
export function taskView(snapshot: TaskSnapshot, now: Date, hasLogReader: boolean): TaskView {
  const { task, live } = snapshot;
  let schedule: Schedule | undefined;
  try {
    schedule = scheduleFor(task);
  } catch {
    schedule = undefined;
  }
  let nextSlots: string[] = [];
  if (schedule && task.enabled && task.nextSlotAt !== undefined) {
    const left =
      task.maxRuns === undefined ? NEXT_SLOT_COUNT : Math.max(0, task.maxRuns - task.scheduledStarts);
    const window = { startAt: task.startAt, endAt: task.endAt };
    nextSlots = previewSlots(schedule, now, Math.min(NEXT_SLOT_COUNT, left), window).map((d) =>
      d.toISOString(),
    );
  }
  let nextRun = slotDueAt(task)?.getTime();
  if (!pendingIsBlocked(task)) {
    for (const p of task.pending)
      if (nextRun === undefined || p.notBefore.getTime() < nextRun) nextRun = p.notBefore.getTime();
  }
  const current = live[0];
  const { summary } = task;
  return {
    id: task.id,
    name: task.name,
    type: task.type,
    schedule: task.schedule,
    scheduleDescription: schedule ? describeSchedule(schedule) : null,
    timezone: task.timezone,
    enabled: task.enabled,
    priority: task.priority,
    parameters: task.parameters,
    overlap: task.overlap,
    catchUp: task.catchUp,
    catchUpMaxRuns: task.catchUpMaxRuns,
    catchUpWindowSeconds: task.catchUpWindowSeconds,
    retry: { ...task.retry },
    stopOnError: task.stopOnError,
    ...(task.idempotent === true ? { idempotent: true } : {}),
    ...(task.listSucceeded !== undefined ? { listSucceeded: task.listSucceeded } : {}),
    successesListed: successListingOf(task, now),
    timeoutSeconds: task.timeoutSeconds,
    hidden: task.hidden,
    system: task.system,
    startAt: iso(task.startAt),
    endAt: iso(task.endAt),
    maxRuns: task.maxRuns ?? null,
    jitterSeconds: task.jitterSeconds,
    historyRetentionDays: task.historyRetentionDays,
    ...promiseView(task, now),
    description: task.description ?? null,
    version: snapshot.stored.version,
    createdAt: task.createdAt.toISOString(),
    updatedAt: task.updatedAt.toISOString(),
    nextRunAt: nextRun === undefined ? null : new Date(nextRun).toISOString(),
    lastRunAt: iso(summary.lastRunAt),
    lastStatus: summary.lastStatus ?? null,
    lastResult: summary.lastResult ?? null,
    lastError: summary.lastError
      ? { name: summary.lastError.name, message: summary.lastError.message }
      : null,
    lastDurationMs: summary.lastDurationMs ?? null,
    runCount: summary.runCount,
    disabledReason: task.disabledReason ?? null,
    currentRun: current ? runView(current, hasLogReader) : null,
    queuedRuns: task.pending.length,
    nextSlots,
  };
}

/** A task's dead-man promise as its view shows it: the promise, last success, deadline, overdue. */
function promiseView(task: TaskState, now: Date) {
  const deadline = promiseDeadline(task);
  return {
    mustSucceedEvery: task.mustSucceedEvery ?? null,
    lastSucceededAt: iso(task.lastSucceededAt),
    successDeadline: iso(deadline),
    overdue: deadline !== undefined && deadline.getTime() <= now.getTime(),
  };
}

/** A registered task type as the API shows it. */
export function taskTypeView(type: TaskType) {
  return {
    name: type.name,
    functionName: type.functionName,
    description: type.description ?? null,
    timeoutSeconds: type.timeoutSeconds ?? null,
    parametersSchema: type.parametersSchema ?? null,
  };
}
