/** `tickwork run|cancel|runs`: starting, stopping and reading the runs of a task. */
import { RunStatus, terminalStatuses } from '../../core/model.js';
import { int, parseParams, text, UsageError } from '../args.js';
import { allPages, type RunView } from '../client.js';
import type { CliIo, Command, Ctx } from '../command.js';
import { duration, progressBar } from '../format.js';
import { emit, printRun, runSummaryTable, runTable } from '../print.js';

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Exit code after Ctrl-C, as a shell reports a process ended by SIGINT. */
export const INTERRUPTED = 130;

/** Ctrl-C as a promise (never settles when the io cannot tell); `stop` removes the listener. */
export function ctrlC(io: CliIo): { interrupted: Promise<'interrupted'>; stop: () => void } {
  let stop = () => {};
  const interrupted = new Promise<'interrupted'>((done) => {
    stop = io.onInterrupt?.(() => done('interrupted')) ?? stop;
  });
  return { interrupted, stop };
}

/** `promise`, or 'interrupted' if Ctrl-C comes first (a late rejection of `promise` is ignored). */
export function unlessInterrupted<T>(promise: Promise<T>, interrupted: Promise<'interrupted'>) {
  promise.catch(() => {});
  return Promise.race([promise, interrupted]);
}

/**
 * Draws the progress line: rewritten in place on a TTY with the time waited so far, else printed
 * (without it) each time it changes.
 */
function progressDrawer(ctx: Ctx): { draw(run: RunView): void; end(): void } {
  let last = '';
  const startedAt = Date.now();
  return {
    draw(run) {
      if (ctx.structured) return;
      const line = progressBar(run.progress, run.status);
      if (ctx.io.status) ctx.io.status(`${line}  (${duration(Date.now() - startedAt)})`);
      else if (line !== last) ctx.io.err(line);
      last = line;
    },
    end() {
      if (ctx.io.status && !ctx.structured) ctx.io.err('');
    },
  };
}

/**
 * Polls a run until it ends, drawing a progress bar; exit 0 only when it succeeded. Ctrl-C stops
 * the waiting, not the run, and says how to cancel it.
 */
export async function waitForRun(
  ctx: Ctx,
  taskId: string,
  runId: string,
  timeoutMs?: number,
): Promise<number> {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  const progress = progressDrawer(ctx);
  const { interrupted, stop } = ctrlC(ctx.io);
  try {
    for (;;) {
      const run = await unlessInterrupted(ctx.client().getRun(taskId, runId), interrupted);
      if (run === 'interrupted') break;
      progress.draw(run);
      if (run.status !== 'queued' && terminalStatuses.has(run.status)) {
        progress.end();
        printRun(ctx, run);
        return run.status === 'succeeded' ? 0 : 1;
      }
      if (Date.now() > deadline) {
        progress.end();
        ctx.io.err(`gave up waiting for run ${runId} (still ${run.status})`);
        return 1;
      }
      if ((await unlessInterrupted(sleep(200), interrupted)) === 'interrupted') break;
    }
    progress.end();
    ctx.io.err(`run ${runId} goes on; cancel it with \`tickwork cancel ${taskId}\``);
    return INTERRUPTED;
  } finally {
    stop();
  }
}

const run: Command = {
  name: 'run',
  usage: 'tickwork run <id> [--param k=v ...] [--wait [--timeout <seconds>]]',
  summary: 'Run a task now; --wait follows it with a progress bar and exits 1 unless it succeeds',
  details: `  --param k=v        a parameter for this run (value read as JSON when it parses); repeatable
  --wait, -w         follow the run until it ends; Ctrl-C stops following (exit 130), not the run
  --timeout <s>      with --wait: give up after this many seconds (exit 1)`,
  options: {
    param: { type: 'string', multiple: true },
    wait: { type: 'boolean', short: 'w' },
    timeout: { type: 'string' },
  },
  args: 1,
  async run(ctx, [id], values) {
    const taskId = id as string;
    const timeout = int(values.timeout, 'timeout');
    const accepted = await ctx.client().runNow(taskId, parseParams(values.param as string[] | undefined));
    if (!values.wait) {
      emit(ctx, accepted, () => `run ${accepted.runId} ${accepted.status}`, { compact: true });
      return 0;
    }
    if (!ctx.structured) ctx.io.err(`run ${accepted.runId} ${accepted.status}`);
    return waitForRun(ctx, taskId, accepted.runId, timeout === undefined ? undefined : timeout * 1000);
  },
};

const cancel: Command = {
  name: 'cancel',
  usage: 'tickwork cancel <id> [--run <runId>]',
  summary: 'Cancel the active run of a task (or the next queued one)',
  options: { run: { type: 'string' } },
  args: 1,
  async run(ctx, [id], values) {
    const result = await ctx.client().cancel(id as string, values.run as string | undefined);
    emit(ctx, result, () => `cancel requested for run ${result.runId} (${result.status})`, { compact: true });
    return 0;
  },
};

const runStatuses = Object.values(RunStatus);

/** `--since 90m|24h|7d` as the instant that long ago. */
export function sinceInstant(value: string, now = new Date()): string {
  const match = /^(\d+)(m|h|d)$/.exec(value);
  if (!match) throw new UsageError(`--since takes a duration like 90m, 24h or 7d, not ${value}`);
  const unitMs = { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd'];
  return new Date(now.getTime() - Number(match[1]) * unitMs).toISOString();
}

/** The `GET /runs` filters a command line gives; undefined when it gives none. */
function runFilters(values: Record<string, unknown>): Record<string, string> | undefined {
  const status = text(values.status);
  for (const s of status?.split(',') ?? []) {
    if (!(runStatuses as string[]).includes(s)) {
      throw new UsageError(`--status takes ${runStatuses.join(', ')} (comma-separated), not ${s}`);
    }
  }
  if (values.since !== undefined && values.from !== undefined)
    throw new UsageError('give --since or --from, not both');
  const since = text(values.since);
  const filters: Record<string, string | undefined> = {
    status,
    type: text(values.type),
    trigger: text(values.trigger),
    from: since === undefined ? text(values.from) : sinceInstant(since),
    to: text(values.to),
  };
  const given = Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined);
  return given.length > 0 ? Object.fromEntries(given) : undefined;
}

const runs: Command = {
  name: 'runs',
  usage:
    'tickwork runs [<id> [<runId>]] [--status s,...] [--type t] [--trigger t] [--since 24h | --from t] [--to t] [--limit n]',
  summary: 'Runs of every task (or of one task), newest first, filtered; or one run',
  details: `  --status s,...     only runs in these states: ${runStatuses.join(', ')}
  --type <type>      only runs of this task type
  --trigger <t>      only runs with this trigger (schedule, manual, retry, catch-up, replay, backfill)
  --since <d>        only runs created in the last 90m, 24h, 7d...
  --from, --to <t>   only runs created in this range (ISO 8601)
  --limit <n>        at most this many runs (default 20)
  Without a task id, lists runs across tasks (GET /runs). With one and no filter, the task's
  history including its queued and unclaimed runs.`,
  options: {
    limit: { type: 'string' },
    status: { type: 'string' },
    type: { type: 'string' },
    trigger: { type: 'string' },
    since: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
  },
  args: [0, 2],
  async run(ctx, [id, runId], values) {
    if (runId !== undefined) {
      printRun(ctx, await ctx.client().getRun(id as string, runId));
      return 0;
    }
    const limit = int(values.limit, 'limit') ?? 20;
    const filters = runFilters(values);
    if (id !== undefined && filters === undefined) {
      const items = await allPages(
        (nextToken) => ctx.client().listRuns(id, { limit: Math.min(100, limit), nextToken }),
        limit,
      );
      emit(ctx, items, (wide) => runTable(items, wide));
      return 0;
    }
    const query = { ...filters, ...(id !== undefined ? { taskId: id } : {}) };
    const items = await allPages(
      (nextToken) => ctx.client().listAllRuns({ ...query, limit: Math.min(100, limit), nextToken }),
      limit,
    );
    emit(ctx, items, (wide) => runSummaryTable(items, wide));
    return 0;
  },
};

/** The commands about runs. */
export const runCommands: Command[] = [run, cancel, runs];
