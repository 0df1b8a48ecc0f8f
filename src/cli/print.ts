/** How the CLI prints what the API answered: JSON with `--json`, else tables and `key: value` lines. */
import type { RunView, TaskView } from './client.js';
import type { Ctx } from './command.js';
import { duration, fields, progressBar, table } from './format.js';

/**
 * Prints `value` as JSON with `--json` (indented unless `compact`), else the text `asText` makes.
 */
export function emit(ctx: Ctx, value: unknown, asText: () => string, options: { compact?: boolean } = {}) {
  if (ctx.json) ctx.io.out(options.compact ? JSON.stringify(value) : JSON.stringify(value, null, 2));
  else ctx.io.out(asText());
}

/** One task, as `key: value` lines. */
export function printTask(ctx: Ctx, task: TaskView): void {
  emit(ctx, task, () => {
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
      ['last error', task.lastError ? `${task.lastError.name}: ${task.lastError.message}` : null],
      ['runs', task.runCount],
      ['current run', run ? `${run.runId} ${progressBar(run.progress, run.status)}` : null],
      ['next slots', task.nextSlots.join(', ')],
      ['parameters', task.parameters],
    ]);
  });
}

/** One run, as `key: value` lines. */
export function printRun(ctx: Ctx, run: RunView): void {
  emit(ctx, run, () =>
    fields([
      ['run', run.runId],
      ['task', run.taskId],
      ['status', run.status],
      ['trigger', `${run.trigger} (attempt ${run.attempt})`],
      ['scheduled for', run.scheduledFor],
      ['started', run.startedAt],
      ['finished', run.finishedAt],
      ['duration', duration(run.durationMs)],
      ['progress', run.progress ? progressBar(run.progress, run.status) : null],
      ['result', run.result],
      ['error', run.error ? `${run.error.name}: ${run.error.message}` : null],
      ['logs', run.logs],
    ]),
  );
}

/** Tasks as a table, one line each. */
export function taskTable(tasks: TaskView[]): string {
  return table(
    ['id', 'name', 'type', 'schedule', 'enabled', 'next run', 'last run', 'status'],
    tasks.map((t) => [
      t.id,
      t.name,
      t.type,
      t.schedule,
      t.enabled ? 'yes' : 'no',
      t.nextRunAt,
      t.lastRunAt,
      t.currentRun?.status ?? t.lastStatus,
    ]),
  );
}

/** Runs as a table, one line each. */
export function runTable(runs: RunView[]): string {
  return table(
    ['run', 'status', 'trigger', 'scheduled for', 'started', 'duration', 'progress', 'result / error'],
    runs.map((r) => [
      r.runId,
      r.status,
      r.trigger,
      r.scheduledFor,
      r.startedAt,
      duration(r.durationMs),
      r.progress?.percent != null ? `${Math.round(r.progress.percent)}%` : null,
      r.error ? `${r.error.name}: ${r.error.message}` : r.result,
    ]),
  );
}
