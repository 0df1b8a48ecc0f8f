/**
 * Tick planning: given a task's stored state, the records of its active runs and `now`, decide
 * everything the tick does to that task. Pure: the tick only carries the plan out.
 *
 * A run's life, as the task item and the run item see it:
 *
 * ```
 *  tick (plan)            handler (task SDK)                     tick (plan)
 *  ── lease: active[r] ──> claim: run item `running` ── ... ──> complete: run item `succeeded`
 *     token = ++fence        (absent => claim wins)     heartbeat  (fenced by token + request id)
 *     expiresAt = now +      (present => duplicate      extends the
 *       timeout + slack         or reclaimed: dropped)   run's lease
 *                                                                  │
 *  next due instant: ◄───────────────── fold: active[r] removed, summary, retry / disable
 *  if expiresAt passed and the run is not finished and its own lease ended:
 *     time-out write (upsert, conditional) + fold as `timed-out`
 * ```
 *
 * The task item changes only at dispatch and at fold; a fold needs no write of its own when the
 * task is due anyway at its next slot, which is how a run costs three writes in the common case.
 */
import { dueAtOf, jitterMs, pendingIsBlocked } from './due.js';
import {
  type ActiveRun,
  CatchUpPolicy,
  isTerminal,
  OverlapPolicy,
  type Parameters,
  type PendingRun,
  type RunRecord,
  RunStatus,
  type SlotSpan,
  slotSpanOf,
  type TaskState,
  Trigger,
} from './model.js';
import { markOverdue, type OverdueEpisode } from './overdue.js';
import type { RunWrite } from './ports.js';
import { nextSlot, type Schedule } from './schedule.js';

/** Tunables of planning; defaults in {@link defaultPlanSettings}. */
export interface PlanSettings {
  /** Added to a run's timeout to make its lease: time for the async invoke to reach the handler. */
  claimSlackMs: number;
  /** A slot seen later than this after its due instant is a catch-up, not an on-time start. */
  lateToleranceMs: number;
  /** Most slots one plan enumerates for one task; beyond that the count is a lower bound. */
  maxSlotsPerPlan: number;
  /** Longest result or error message kept on the task item's summary: the item stays under 1 KB, one write unit (the run record keeps the whole text). */
  maxSummaryResultChars: number;
}

export const defaultPlanSettings: PlanSettings = {
  claimSlackMs: 60_000,
  lateToleranceMs: 90_000,
  maxSlotsPerPlan: 10_000,
  maxSummaryResultChars: 256,
};

/** What planning needs besides the task. */
export interface PlanInput {
  now: Date;
  /** The task's parsed schedule. */
  schedule: Schedule;
  /** Run records of the task's active runs, by run id (absent: never claimed, or not yet visible). */
  runs: ReadonlyMap<string, RunRecord>;
  /** Makes run ids (ULIDs in production). */
  newRunId: () => string;
  /** False when settling after a completion: fold and re-plan `dueAt`, start nothing. */
  startRuns?: boolean;
  /**
   * Mark the task overdue when its `mustSucceedEvery` deadline has come (`TaskPlan.overdue`). Only
   * the tick asks: it publishes the event, so an episode is never marked without being reported.
   */
  reportOverdue?: boolean;
  settings?: Partial<PlanSettings>;
}

/** Counts of what one plan did, summed into the tick's report. */
export interface PlanCounts {
  started: number;
  skipped: number;
  missed: number;
  timedOut: number;
  folded: number;
}

/** Everything the tick does for one task. */
export interface TaskPlan {
  /** Whether the task item must be written. */
  changed: boolean;
  /** The task's next state (version incremented when changed). */
  task: TaskState;
  /** Run items written atomically with the task. */
  runWrites: RunWrite[];
  /** Runs to invoke once the task is saved. */
  starts: ActiveRun[];
  /** Runs to ask to cancel once the task is saved (overlap `replace`). */
  cancels: ActiveRun[];
  counts: PlanCounts;
  /** The task became overdue (its promise broken) and is now marked so: the tick reports it. */
  overdue?: OverdueEpisode;
}

interface Candidate {
  scheduledFor: Date;
  trigger: Trigger;
  /** Wait for the running run rather than be skipped (catch-up `run-all`). */
  queueIfBusy: boolean;
  /** The slots a `run-once` catch-up run stands for, when more than one. */
  span?: SlotSpan;
}

const dayMs = 86_400_000;

/** The delay before retry number `attempt` (1-based attempt that failed): exponential, capped. */
export function retryDelayMs(task: Pick<TaskState, 'retry'>, failedAttempt: number): number {
  const { backoffSeconds, maxBackoffSeconds } = task.retry;
  const seconds = Math.min(maxBackoffSeconds, backoffSeconds * 2 ** Math.max(0, failedAttempt - 1));
  return Math.max(0, seconds) * 1000;
}

/** When a record of this task's history expires. */
export function historyExpiry(task: Pick<TaskState, 'historyRetentionDays'>, from: Date): Date {
  return new Date(from.getTime() + task.historyRetentionDays * dayMs);
}

function truncate(text: string | undefined, max: number): string | undefined {
  if (text === undefined || text.length <= max) return text;
  return `${text.slice(0, max - 1)}…`;
}

function cloneTask(task: TaskState): TaskState {
  return {
    ...task,
    active: task.active.map((a) => ({ ...a })),
    pending: task.pending.map((p) => ({ ...p })),
    summary: { ...task.summary },
    retry: { ...task.retry },
  };
}

/** The record of a run that was dispatched but has no stored record yet (never claimed). */
export function dispatchedRecord(task: TaskState, run: ActiveRun, now: Date = run.dispatchedAt): RunRecord {
  return {
    taskId: task.id,
    runId: run.runId,
    type: task.type,
    status: RunStatus.Dispatched,
    trigger: run.trigger,
    attempt: run.attempt,
    scheduledFor: run.scheduledFor,
    dispatchedAt: run.dispatchedAt,
    parameters: run.parameters,
    token: run.token,
    ...slotSpanOf(run),
    ...(run.replayOf !== undefined ? { replayOf: run.replayOf } : {}),
    expiresAt: historyExpiry(task, now),
  };
}

/** The span of several slots, `first` through `last`; none for a single slot. */
export function spanOf(first: Date, last: Date, count: number): SlotSpan {
  return count > 1 ? { firstSlotAt: first, lastSlotAt: last, slotCount: count } : {};
}

/** A record for a slot, or a span of slots, that did not run (skipped or missed). */
function gapRecord(
  task: TaskState,
  input: PlanInput,
  status: typeof RunStatus.Skipped | typeof RunStatus.Missed,
  candidate: { scheduledFor: Date; trigger: Trigger; span?: SlotSpan },
  note: string,
): RunRecord {
  return {
    taskId: task.id,
    runId: input.newRunId(),
    type: task.type,
    status,
    trigger: candidate.trigger,
    attempt: 1,
    scheduledFor: candidate.span?.firstSlotAt ?? candidate.scheduledFor,
    finishedAt: input.now,
    parameters: {},
    note,
    ...slotSpanOf(candidate.span ?? {}),
    expiresAt: historyExpiry(task, input.now),
  };
}

/**
 * Folds a finished run back into its task: summary, retry, stopOnError. `record` is terminal.
 */
function fold(
  task: TaskState,
  active: ActiveRun,
  record: RunRecord,
  input: PlanInput,
  settings: PlanSettings,
  plan: TaskPlan,
): void {
  task.active = task.active.filter((a) => a.runId !== active.runId);
  const finishedAt = record.finishedAt ?? input.now;
  task.summary = {
    lastRunAt: record.startedAt ?? active.dispatchedAt,
    lastStatus: record.status,
    runCount: task.summary.runCount + 1,
    ...(record.result !== undefined
      ? { lastResult: truncate(record.result, settings.maxSummaryResultChars) as string }
      : {}),
    ...(record.error !== undefined
      ? {
          lastError: {
            name: record.error.name,
            message: truncate(record.error.message, settings.maxSummaryResultChars) as string,
          },
        }
      : {}),
    ...(record.durationMs !== undefined ? { lastDurationMs: record.durationMs } : {}),
  };
  if (record.status === RunStatus.Succeeded) {
    if (!task.lastSucceededAt || task.lastSucceededAt < finishedAt) task.lastSucceededAt = finishedAt;
    delete task.overdueReportedAt; // the episode is over: the promise counts from this success
  }
  const failed = record.status === RunStatus.Failed || record.status === RunStatus.TimedOut;
  if (!failed) return;
  if (active.attempt < task.retry.maxAttempts) {
    task.pending.push({
      runId: input.newRunId(),
      trigger: Trigger.Retry,
      scheduledFor: active.scheduledFor,
      notBefore: new Date(finishedAt.getTime() + retryDelayMs(task, active.attempt)),
      attempt: active.attempt + 1,
      parameters: active.parameters,
    });
  } else if (task.stopOnError && task.enabled) {
    task.enabled = false;
    const why = record.error?.message ?? record.status;
    task.disabledReason =
      `Disabled by stopOnError: run ${record.runId} ended ${record.status} on attempt ` +
      `${active.attempt} of ${task.retry.maxAttempts} (${truncate(why, 300)})`;
    // Scheduled work queued behind the failed run goes with it, each slot on a `skipped`
    // record; manual requests stay.
    for (const dropped of task.pending.filter((p) => p.trigger !== Trigger.Manual)) {
      if (dropped.trigger === Trigger.Retry) continue; // its slot has its failed run's record
      plan.runWrites.push({
        kind: 'record',
        record: gapRecord(
          task,
          input,
          RunStatus.Skipped,
          { ...dropped, span: slotSpanOf(dropped) },
          `queued behind run ${record.runId}, which disabled the task (stopOnError)`,
        ),
      });
      plan.counts.skipped += dropped.slotCount ?? 1;
    }
    task.pending = task.pending.filter((p) => p.trigger === Trigger.Manual);
  }
}

/** Step 1: fold finished runs, reclaim expired leases, follow heartbeat-extended ones. */
function settleActive(task: TaskState, input: PlanInput, settings: PlanSettings, plan: TaskPlan): void {
  const nowMs = input.now.getTime();
  for (const active of [...task.active]) {
    const record = input.runs.get(active.runId);
    if (record && isTerminal(record.status)) {
      fold(task, active, record, input, settings, plan);
      plan.counts.folded++;
      continue;
    }
    // Settling after a completion knows only that run's record: leave the others to the tick.
    if (!record && input.startRuns === false) continue;
    if (active.expiresAt.getTime() > nowMs) continue;
    const runLease = record?.leaseExpiresAt?.getTime();
    if (record?.status === RunStatus.Running && runLease !== undefined && runLease > nowMs) {
      // A heartbeat extended the run's own lease: look again when that one ends.
      const entry = task.active.find((a) => a.runId === active.runId);
      if (entry) entry.expiresAt = new Date(runLease);
      continue;
    }
    const timedOut: RunRecord = {
      ...(record ?? dispatchedRecord(task, active, input.now)),
      dispatchedAt: active.dispatchedAt,
      status: RunStatus.TimedOut,
      finishedAt: input.now,
      note: record
        ? 'lease expired while running: the handler stopped heartbeating (timeout, crash or out of memory)'
        : 'lease expired before the handler claimed the run',
      error: { name: 'TimeoutError', message: 'the run did not finish before its lease expired' },
    };
    if (timedOut.startedAt !== undefined) timedOut.durationMs = nowMs - timedOut.startedAt.getTime();
    plan.runWrites.push({ kind: 'time-out', record: timedOut, now: input.now });
    fold(task, active, timedOut, input, settings, plan);
    plan.counts.timedOut++;
    plan.counts.folded++;
  }
}

/**
 * Step 2: the scheduled slots that came due, after catch-up and the catch-up window.
 *
 * Long because: the catch-up policies share one walk over the due slots and its bounds; split,
 * each policy would repeat the walk.
 */
function dueSlots(task: TaskState, input: PlanInput, settings: PlanSettings, plan: TaskPlan): Candidate[] {
  if (!task.enabled || task.nextSlotAt === undefined) return [];
  const jitter = jitterMs(task.id, task.jitterSeconds);
  const nowMs = input.now.getTime();
  const lastDueNominal = new Date(nowMs - jitter);
  if (task.nextSlotAt.getTime() > lastDueNominal.getTime()) return [];

  const window = { startAt: task.startAt, endAt: task.endAt };
  const windowStartMs = nowMs - task.catchUpWindowSeconds * 1000;
  const slots: Date[] = [];
  let missedCount = 0;
  let firstMissed: Date | undefined;
  let lastMissed: Date | undefined;
  let cursor: Date | undefined = task.nextSlotAt;
  let enumerated = 0;
  while (cursor !== undefined && cursor.getTime() <= lastDueNominal.getTime()) {
    if (task.maxRuns !== undefined && task.scheduledStarts + slots.length >= task.maxRuns) break;
    if (cursor.getTime() + jitter < windowStartMs) {
      missedCount++;
      firstMissed ??= cursor;
      lastMissed = cursor;
      if (++enumerated >= settings.maxSlotsPerPlan) {
        // A long outage: jump to the first slot inside the window instead of walking every one.
        // The record's span then ends at the window's edge, and its count is a lower bound.
        lastMissed = new Date(windowStartMs - jitter - 1);
        cursor = nextSlot(input.schedule, lastMissed, window);
        continue;
      }
    } else {
      slots.push(cursor);
      if (++enumerated >= settings.maxSlotsPerPlan + task.catchUpMaxRuns) {
        cursor = nextSlot(input.schedule, lastDueNominal, window);
        break;
      }
    }
    cursor = nextSlot(input.schedule, cursor, window);
  }
  const exhaustedByMaxRuns =
    task.maxRuns !== undefined && task.scheduledStarts + slots.length >= task.maxRuns;
  task.nextSlotAt = exhaustedByMaxRuns ? undefined : cursor;

  if (missedCount > 0 && firstMissed && lastMissed) {
    plan.runWrites.push({
      kind: 'record',
      record: gapRecord(
        task,
        input,
        RunStatus.Missed,
        {
          scheduledFor: firstMissed,
          trigger: Trigger.Schedule,
          span: spanOf(firstMissed, lastMissed, missedCount),
        },
        `${missedCount}${enumerated >= settings.maxSlotsPerPlan ? '+' : ''} slot(s) older than the catch-up window ` +
          `of ${task.catchUpWindowSeconds}s were not run`,
      ),
    });
    plan.counts.missed += missedCount;
  }
  if (slots.length === 0) return [];

  const latest = slots[slots.length - 1] as Date;
  const latestOnTime = nowMs - (latest.getTime() + jitter) <= settings.lateToleranceMs;
  if (slots.length === 1 && latestOnTime)
    return [{ scheduledFor: latest, trigger: Trigger.Schedule, queueIfBusy: false }];

  const skip = (from: Date[], note: string) => {
    if (from.length === 0) return;
    plan.runWrites.push({
      kind: 'record',
      record: gapRecord(
        task,
        input,
        RunStatus.Skipped,
        {
          scheduledFor: from[0] as Date,
          trigger: Trigger.CatchUp,
          span: spanOf(from[0] as Date, from[from.length - 1] as Date, from.length),
        },
        note,
      ),
    });
    plan.counts.skipped += from.length;
  };
  switch (task.catchUp) {
    case CatchUpPolicy.Skip:
      if (latestOnTime) {
        skip(slots.slice(0, -1), 'catch-up policy skip: slots passed while the scheduler was not running');
        return [{ scheduledFor: latest, trigger: Trigger.Schedule, queueIfBusy: false }];
      }
      skip(slots, 'catch-up policy skip: slots passed while the scheduler was not running');
      return [];
    case CatchUpPolicy.RunAll: {
      const kept = slots.slice(-task.catchUpMaxRuns);
      skip(
        slots.slice(0, slots.length - kept.length),
        `over the catch-up cap of ${task.catchUpMaxRuns} runs`,
      );
      return kept.map((s, i) => ({ scheduledFor: s, trigger: Trigger.CatchUp, queueIfBusy: i > 0 }));
    }
    default:
      // One run for the latest slot stands for all of them: its record names the span.
      return [
        {
          scheduledFor: latest,
          trigger: Trigger.CatchUp,
          queueIfBusy: false,
          span: spanOf(slots[0] as Date, latest, slots.length),
        },
      ];
  }
}

function startRun(
  task: TaskState,
  input: PlanInput,
  settings: PlanSettings,
  plan: TaskPlan,
  run: {
    runId: string;
    scheduledFor: Date;
    trigger: Trigger;
    attempt: number;
    parameters: Parameters;
    replayOf?: string;
  } & SlotSpan,
): void {
  task.fence += 1;
  const active: ActiveRun = {
    runId: run.runId,
    token: task.fence,
    scheduledFor: run.scheduledFor,
    dispatchedAt: input.now,
    expiresAt: new Date(input.now.getTime() + task.timeoutSeconds * 1000 + settings.claimSlackMs),
    attempt: run.attempt,
    trigger: run.trigger,
    parameters: run.parameters,
    ...slotSpanOf(run),
  };
  if (run.replayOf !== undefined) active.replayOf = run.replayOf;
  task.active.push(active);
  plan.starts.push(active);
  plan.counts.started++;
  if (run.trigger === Trigger.Schedule || run.trigger === Trigger.CatchUp) task.scheduledStarts++;
}

function replaceRunning(task: TaskState, plan: TaskPlan): void {
  for (const a of task.active)
    if (!plan.cancels.includes(a) && !plan.starts.includes(a)) plan.cancels.push(a);
}

/** Step 3: start what may start, queue or skip the rest, per the overlap policy. */
function applyOverlap(
  task: TaskState,
  candidates: Candidate[],
  input: PlanInput,
  settings: PlanSettings,
  plan: TaskPlan,
) {
  const nowMs = input.now.getTime();
  // Pending runs first: they were owed before any new slot.
  const ready = task.pending
    .filter((p) => p.notBefore.getTime() <= nowMs)
    .sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime());
  for (const p of ready) {
    if (pendingIsBlocked(task)) break;
    if (task.overlap === OverlapPolicy.Replace) replaceRunning(task, plan);
    task.pending = task.pending.filter((q) => q.runId !== p.runId);
    startRun(task, input, settings, plan, p);
  }
  for (const c of candidates) {
    const base = {
      scheduledFor: c.scheduledFor,
      trigger: c.trigger,
      attempt: 1,
      parameters: task.parameters,
      ...slotSpanOf(c.span ?? {}),
    };
    const busy = task.active.length > 0;
    if (!busy || task.overlap === OverlapPolicy.Allow) {
      startRun(task, input, settings, plan, { ...base, runId: input.newRunId() });
      continue;
    }
    if (task.overlap === OverlapPolicy.Replace) {
      replaceRunning(task, plan);
      startRun(task, input, settings, plan, { ...base, runId: input.newRunId() });
      continue;
    }
    const queued = task.pending.some((p) => p.trigger === Trigger.Schedule || p.trigger === Trigger.CatchUp);
    if (c.queueIfBusy || (task.overlap === OverlapPolicy.QueueOne && !queued)) {
      const entry: PendingRun = { ...base, runId: input.newRunId(), notBefore: input.now };
      task.pending.push(entry);
      continue;
    }
    const holder = task.active[0]?.runId;
    plan.runWrites.push({
      kind: 'record',
      record: gapRecord(
        task,
        input,
        RunStatus.Skipped,
        c,
        task.overlap === OverlapPolicy.QueueOne
          ? `overlap policy queue-one: a run is already queued behind ${holder}`
          : `overlap policy skip: run ${holder} was still going`,
      ),
    });
    plan.counts.skipped += c.span?.slotCount ?? 1;
  }
}

/**
 * Plans one task for a tick at `input.now`. The returned task has `version + 1` when changed;
 * the caller saves it with a compare-and-set on the version it read.
 */
export function planTask(stored: TaskState, input: PlanInput): TaskPlan {
  const settings = { ...defaultPlanSettings, ...input.settings };
  const task = cloneTask(stored);
  const plan: TaskPlan = {
    changed: false,
    task,
    runWrites: [],
    starts: [],
    cancels: [],
    counts: { started: 0, skipped: 0, missed: 0, timedOut: 0, folded: 0 },
  };
  const before = JSON.stringify(stored);
  settleActive(task, input, settings, plan);
  if (input.startRuns !== false)
    applyOverlap(task, dueSlots(task, input, settings, plan), input, settings, plan);
  if (input.reportOverdue) {
    const overdue = markOverdue(task, input.now);
    if (overdue) plan.overdue = overdue;
  }
  plan.changed = plan.runWrites.length > 0 || JSON.stringify(task) !== before;
  if (plan.changed) {
    task.version = stored.version + 1;
    task.updatedAt = input.now;
  }
  return plan;
}

/**
 * The slots an enabled task came due for by `now` that no tick has handled yet (a tick runs every
 * minute, so at most a minute's worth, more after an outage): one `skipped` record naming them,
 * for a change that drops them (disabling the task, a new schedule, which re-aims the cursor from
 * now). Undefined when none are owed.
 */
export function unhandledSlotsRecord(
  task: TaskState,
  input: Pick<PlanInput, 'now' | 'schedule' | 'newRunId'>,
  note: string,
): RunRecord | undefined {
  if (!task.enabled || task.nextSlotAt === undefined) return undefined;
  const lastDueMs = input.now.getTime() - jitterMs(task.id, task.jitterSeconds);
  const window = { startAt: task.startAt, endAt: task.endAt };
  const first = task.nextSlotAt;
  let last: Date | undefined;
  let count = 0;
  for (
    let s: Date | undefined = first;
    s && s.getTime() <= lastDueMs;
    s = nextSlot(input.schedule, s, window)
  ) {
    if (task.maxRuns !== undefined && task.scheduledStarts + count >= task.maxRuns) break;
    last = s;
    count++;
    if (count >= defaultPlanSettings.maxSlotsPerPlan) {
      last = new Date(lastDueMs); // the span ends at now; its count is a lower bound
      break;
    }
  }
  if (last === undefined) return undefined;
  const full: PlanInput = { ...input, runs: new Map() };
  return gapRecord(
    task,
    full,
    RunStatus.Skipped,
    { scheduledFor: first, trigger: Trigger.Schedule, span: spanOf(first, last, count) },
    note,
  );
}

/**
 * What a completing handler does to its task: fold its own finished run, and say whether the
 * task item must be written now. It must when the fold brings the task's due instant earlier
 * (a retry, a queued run that may now start), disables it (stopOnError), or schedules a retry;
 * otherwise the fold waits for the task's next due instant, where the tick does it in the write
 * it makes anyway.
 */
export function settleAfterCompletion(
  stored: TaskState,
  record: RunRecord,
  input: Omit<PlanInput, 'runs' | 'startRuns'>,
): { write: boolean; plan: TaskPlan } {
  const plan = planTask(stored, { ...input, runs: new Map([[record.runId, record]]), startRuns: false });
  if (!plan.changed) return { write: false, plan };
  const before = dueAtOf(stored)?.getTime() ?? Number.POSITIVE_INFINITY;
  const after = dueAtOf(plan.task)?.getTime() ?? Number.POSITIVE_INFINITY;
  const write =
    plan.runWrites.length > 0 ||
    after < before ||
    plan.task.enabled !== stored.enabled ||
    plan.task.pending.length !== stored.pending.length;
  return { write, plan };
}
