/**
 * How the CLI prints what the API answered, by `-o`: `table` (tables and `key: value` lines),
 * `wide` (the same with more columns and fields), `json` or `yaml` (the API's own shapes).
 */
import { stringify } from 'yaml';
import type { RunSummaryView } from '../api/schemas.js';
import type { RunView, TaskView } from './client.js';
import type { Ctx } from './command.js';
import { duration, fields, progressBar, table } from './format.js';

function serialize(ctx: Ctx, value: unknown, compact: boolean): string | undefined {
  if (ctx.output === 'json') return compact ? JSON.stringify(value) : JSON.stringify(value, null, 2);
  if (ctx.output === 'yaml') return stringify(value).trimEnd();
  return undefined;
}

/**
 * Prints `value` as JSON (indented unless `compact`) or YAML, else the text `asText` makes
 * (`wide` true for `-o wide`).
 */
export function emit(
  ctx: Ctx,
  value: unknown,
  asText: (wide: boolean) => string,
  options: { compact?: boolean } = {},
): void {
  ctx.io.out(serialize(ctx, value, options.compact === true) ?? asText(ctx.output === 'wide'));
}

/** A refusal as data on stderr, `{ error: { code, message, details } }`, for `-o json|yaml`. */
export function emitError(
  ctx: Ctx,
  error: { code: string; message: string; details?: { field: string; message: string }[] },
): void {
  const body = { error: { code: error.code, message: error.message, details: error.details ?? [] } };
  ctx.io.err(serialize(ctx, body, true) ?? `error: ${error.message}`);
}

const errorText = (error: { name: string; message: string } | null) =>
  error ? `${error.name}: ${error.message}` : null;

/** One task, as `key: value` lines (`-o wide` adds its policies and timestamps). */
export function printTask(ctx: Ctx, task: TaskView): void {
  emit(ctx, task, (wide) => {
    const run = task.currentRun;
    return fields([
      ['id', task.id],
      ['name', task.name],
      ['type', task.type],
      ['schedule', `${task.schedule} (${task.timezone})`],
      ['description', task.scheduleDescription],
      ['enabled', task.enabled ? 'yes' : `no${task.disabledReason ? ` (${task.disabledReason})` : ''}`],
      ['version', task.version],
      ['next run', task.nextRunAt],
      ['last run', task.lastRunAt ? `${task.lastRunAt} ${task.lastStatus ?? ''}` : null],
      ['last error', errorText(task.lastError)],
      ['runs', task.runCount],
      ['must succeed', promiseText(task)],
      ['current run', run ? `${run.runId} ${progressBar(run.progress, run.status)}` : null],
      ['next slots', task.nextSlots.join(', ')],
      ['parameters', task.parameters],
      ...(wide ? taskPolicies(task) : []),
    ]);
  });
}

/** The dead-man promise: `every 26h, by <deadline>`, or `every 26h: OVERDUE since <deadline>`. */
function promiseText(task: TaskView): string | null {
  if (task.mustSucceedEvery === null) return null;
  const last = `last success ${task.lastSucceededAt ?? 'never'}`;
  if (task.overdue) return `every ${task.mustSucceedEvery}: OVERDUE since ${task.successDeadline} (${last})`;
  return `every ${task.mustSucceedEvery}, next by ${task.successDeadline} (${last})`;
}

/** What `successesListed` means for `tickwork runs list`, in words. */
const successListingText: Record<TaskView['successesListed'], string> = {
  all: 'yes',
  'except-scheduled':
    "run-now, retries and replays; scheduled ones only in this task's history (due every minute)",
  none: "no (successful runs only in this task's history, not in runs list)",
};

function taskPolicies(task: TaskView): [string, unknown][] {
  return [
    ['overlap', task.overlap],
    ['catch-up', `${task.catchUp} (at most ${task.catchUpMaxRuns}, window ${task.catchUpWindowSeconds} s)`],
    ['retry', `${task.retry.maxAttempts} attempt(s), backoff ${task.retry.backoffSeconds} s`],
    ['stop on error', task.stopOnError ? 'yes' : 'no'],
    [
      'idempotent',
      task.idempotent === true ? 'yes (runs skip the claim: a duplicate delivery may run twice)' : 'no',
    ],
    ['list successes', successListingText[task.successesListed]],
    ['timeout', `${task.timeoutSeconds} s`],
    ['priority', task.priority],
    ['window', task.startAt || task.endAt ? `${task.startAt ?? '-'} to ${task.endAt ?? '-'}` : null],
    ['max runs', task.maxRuns],
    ['queued runs', task.queuedRuns],
    ['about', task.description],
    ['hidden', task.hidden ? 'yes' : 'no'],
    ['created', task.createdAt],
    ['updated', task.updatedAt],
  ];
}

/** The API's log route (`/tasks/…/logs`) as a full URL one can open or curl; a link as it is. */
function logsUrl(ctx: Ctx, logs: string | null): string | null {
  if (logs === null || !logs.startsWith('/')) return logs;
  const base = ctx.client().endpoint;
  return `${base.replace(/\/+$/, '')}${logs}`;
}

/** The slots a record stands for when more than one: `N slots, FIRST to LAST`. */
function slotSpanText(run: RunView): string | null {
  if (run.slotCount === null) return null;
  return `${run.slotCount} slots, ${run.firstSlotAt ?? '?'} to ${run.lastSlotAt ?? '?'}`;
}

/** One run, as `key: value` lines (`-o wide` adds its parameters and timestamps). */
export function printRun(ctx: Ctx, run: RunView): void {
  emit(ctx, run, (wide) =>
    fields([
      ['run', run.runId],
      ['task', run.taskId],
      ['status', run.status],
      ['trigger', `${run.trigger} (attempt ${run.attempt})`],
      ['scheduled for', run.scheduledFor],
      ...(run.slotCount !== null ? ([['slots', slotSpanText(run)]] as [string, unknown][]) : []),
      ['started', run.startedAt],
      ['lateness', run.latenessMs === null ? null : duration(run.latenessMs)],
      ['finished', run.finishedAt],
      ['duration', duration(run.durationMs)],
      ['progress', run.progress ? progressBar(run.progress, run.status) : null],
      ['result', run.result],
      ['error', errorText(run.error)],
      ['replay of', run.replayOf ?? null],
      ['logs', logsUrl(ctx, run.logs)],
      ['ran on', ranOnText(run.ranOn)],
      ...(wide
        ? ([
            ['type', run.type],
            ['parameters', run.parameters],
            ['dispatched', run.dispatchedAt],
            ['cancel requested', run.cancelRequested ? 'yes' : 'no'],
            ['note', run.note],
          ] as [string, unknown][])
        : []),
    ]),
  );
}

/** Where a run ran: `function:version  log stream  (request id)`. */
function ranOnText(ranOn: RunView['ranOn']): string | null {
  if (!ranOn) return null;
  const fn = ranOn.functionName
    ? `${ranOn.functionName}${ranOn.functionVersion ? `:${ranOn.functionVersion}` : ''}`
    : null;
  return [fn, ranOn.logStream, ranOn.requestId ? `(request ${ranOn.requestId})` : null]
    .filter(Boolean)
    .join('  ');
}

/** Tasks as a table, one line each; `wide` adds zone, policies, counts and the run's progress. */
export function taskTable(tasks: TaskView[], wide = false): string {
  const headers = ['id', 'name', 'type', 'schedule', 'enabled', 'next run', 'last run', 'status'];
  const row = (t: TaskView) => [
    t.id,
    t.name,
    t.type,
    t.schedule,
    t.enabled ? 'yes' : 'no',
    t.nextRunAt,
    t.lastRunAt,
    t.currentRun?.status ?? t.lastStatus,
  ];
  if (!wide) return table(headers, tasks.map(row));
  return table(
    [...headers, 'zone', 'overlap', 'priority', 'runs', 'queued', 'progress'],
    tasks.map((t) => [
      ...row(t),
      t.timezone,
      t.overlap,
      t.priority,
      t.runCount,
      t.queuedRuns,
      percent(t.currentRun),
    ]),
  );
}

const percent = (run: RunView | null) =>
  run?.progress?.percent != null ? `${Math.round(run.progress.percent)}%` : null;

/** Runs as a table, one line each; `wide` adds attempt, finish time and parameters. */
export function runTable(runs: RunView[], wide = false): string {
  const headers = ['run', 'status', 'trigger', 'scheduled for', 'started', 'duration', 'progress'];
  const row = (r: RunView) => [
    r.runId,
    r.status,
    r.trigger,
    r.slotCount === null ? r.scheduledFor : `${r.scheduledFor} (${r.slotCount} slots)`,
    r.startedAt,
    duration(r.durationMs),
    percent(r),
  ];
  const outcome = (r: RunView) => errorText(r.error) ?? r.result;
  if (!wide)
    return table(
      [...headers, 'result / error'],
      runs.map((r) => [...row(r), outcome(r)]),
    );
  return table(
    [...headers, 'attempt', 'finished', 'parameters', 'result / error'],
    runs.map((r) => [...row(r), r.attempt, r.finishedAt, JSON.stringify(r.parameters), outcome(r)]),
  );
}

/** How late a run started: its start minus its slot (scheduled and catch-up runs only). */
export function lateness(run: Pick<RunView, 'trigger' | 'scheduledFor' | 'startedAt'>): string | null {
  if (run.startedAt === null || (run.trigger !== 'schedule' && run.trigger !== 'catch-up')) return null;
  return duration(Date.parse(run.startedAt) - Date.parse(run.scheduledFor));
}

/** Runs across tasks as a table; `wide` adds type, attempt, finish time, lateness and replays. */
export function runSummaryTable(runs: RunSummaryView[], wide = false): string {
  const headers = ['run', 'task', 'status', 'trigger', 'scheduled for', 'started', 'duration'];
  const row = (r: RunSummaryView) => [
    r.runId,
    r.taskId,
    r.status,
    r.trigger,
    r.scheduledFor,
    r.startedAt,
    duration(r.durationMs),
  ];
  if (!wide) return table(headers, runs.map(row));
  return table(
    [...headers, 'type', 'attempt', 'finished', 'late', 'replay of'],
    runs.map((r) => [...row(r), r.type, r.attempt, r.finishedAt, lateness(r), r.replayOf]),
  );
}
