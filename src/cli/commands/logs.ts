/** `tickwork logs`: a run's log lines, the task's own by default, followed with `-f`. */
import { terminalStatuses } from '../../core/model.js';
import { ApiClientError, type RunLogs } from '../client.js';
import type { Command, Ctx } from '../command.js';
import { formatLogLine, type LogLine } from '../log-lines.js';
import { emit } from '../print.js';
import { ctrlC, INTERRUPTED, sleep, unlessInterrupted } from './runs.js';

/** How often `-f` asks for new lines, in ms. */
const FOLLOW_EVERY_MS = 1_000;

/** The run to read: the one given, else the task's latest (the first of its history). */
async function runToRead(ctx: Ctx, taskId: string, runId: string | undefined): Promise<string> {
  if (runId !== undefined) return runId;
  const latest = (await ctx.client().listRuns(taskId, { limit: 1 })).items[0];
  if (!latest) throw new Error(`task ${taskId} has no runs yet`);
  return latest.runId;
}

/** The sentence for logs the API does not hold (CloudWatch on AWS). */
function urlSentence(runId: string, url: string): string {
  return `the logs of run ${runId} are in CloudWatch Logs; open:\n  ${url}`;
}

/** Prints log lines as text (hidden ones left out) or, for `-o json|yaml`, one value each. */
function printLines(ctx: Ctx, lines: LogLine[], all: boolean): number {
  let shown = 0;
  for (const line of lines) {
    if (ctx.structured) {
      emit(ctx, line, () => '', { compact: true });
      shown++;
      continue;
    }
    const text = formatLogLine(line, all);
    if (text === undefined) continue;
    ctx.io.out(text);
    shown++;
  }
  return shown;
}

/** The logs so far; none yet (rather than an error) while a followed run has written nothing. */
async function logsSoFar(ctx: Ctx, taskId: string, runId: string): Promise<RunLogs> {
  try {
    return await ctx.client().getRunLogs(taskId, runId);
  } catch (error) {
    if (error instanceof ApiClientError && error.code === 'logs_not_found') return { lines: [], url: null };
    throw error;
  }
}

/**
 * Prints new lines every second until the run has ended and its last lines are out (exit 0);
 * Ctrl-C stops following (exit 130).
 */
async function follow(ctx: Ctx, taskId: string, runId: string, all: boolean): Promise<number> {
  const { interrupted, stop } = ctrlC(ctx.io);
  let printed = 0;
  try {
    for (;;) {
      const run = await unlessInterrupted(ctx.client().getRun(taskId, runId), interrupted);
      if (run === 'interrupted') return INTERRUPTED;
      const ended = run.status !== 'queued' && terminalStatuses.has(run.status);
      const logs = await unlessInterrupted(logsSoFar(ctx, taskId, runId), interrupted);
      if (logs === 'interrupted') return INTERRUPTED;
      if (logs.url) {
        ctx.io.out(ctx.structured ? JSON.stringify(logs) : urlSentence(runId, logs.url));
        return 0;
      }
      const lines = logs.lines ?? [];
      printLines(ctx, lines.slice(printed), all);
      printed = Math.max(printed, lines.length);
      if (ended) return 0;
      if ((await unlessInterrupted(sleep(FOLLOW_EVERY_MS), interrupted)) === 'interrupted')
        return INTERRUPTED;
    }
  } finally {
    stop();
  }
}

/** Prints the logs once: the API's answer as it is for `-o json|yaml`, else the lines. */
async function printOnce(ctx: Ctx, taskId: string, runId: string, all: boolean): Promise<number> {
  const logs = await ctx.client().getRunLogs(taskId, runId);
  if (ctx.structured) {
    emit(ctx, logs, () => '');
    return 0;
  }
  if (logs.url) {
    ctx.io.out(urlSentence(runId, logs.url));
    return 0;
  }
  const lines = logs.lines ?? [];
  const shown = printLines(ctx, lines, all);
  if (shown < lines.length) {
    const hidden = lines.length - shown;
    ctx.io.err(`(${hidden} platform line${hidden === 1 ? '' : 's'} hidden; --all shows them)`);
  }
  return 0;
}

const logs: Command = {
  name: 'logs',
  usage: 'tickwork logs <id> [<runId>] [-f|--follow] [--all]',
  summary: "A run's log lines (the task's latest run by default); -f follows them",
  details: `  --follow, -f       print new lines every second until the run ends; Ctrl-C stops (exit 130)
  --all              include Lambda's START/END/REPORT lines (prefixed [platform]) and metrics
                     (folded to one [metrics] line); hidden by default
  Each line prints as HH:MM:SS.mmm (UTC) LEVEL message; -o json prints the raw lines.`,
  options: {
    follow: { type: 'boolean', short: 'f' },
    all: { type: 'boolean' },
  },
  args: [1, 2],
  async run(ctx, [id, given], values) {
    const taskId = id as string;
    const runId = await runToRead(ctx, taskId, given);
    const all = values.all === true;
    return values.follow ? follow(ctx, taskId, runId, all) : printOnce(ctx, taskId, runId, all);
  },
};

/** The command about logs. */
export const logCommands: Command[] = [logs];
