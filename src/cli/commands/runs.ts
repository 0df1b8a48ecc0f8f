/** `tickwork run|cancel|runs`: starting, stopping and reading the runs of a task. */
import { terminalStatuses } from '../../core/model.js';
import { int, parseParams, UsageError } from '../args.js';
import { allPages, type RunView } from '../client.js';
import type { CliIo, Command, Ctx } from '../command.js';
import { duration, progressBar } from '../format.js';
import { emit, printRun, runTable } from '../print.js';

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
async function waitForRun(ctx: Ctx, taskId: string, runId: string, timeoutMs?: number): Promise<number> {
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

const runs: Command = {
  name: 'runs',
  usage: 'tickwork runs <id> [<runId>] [--limit <n>]',
  summary: "A task's run history, newest first, or one run",
  options: { limit: { type: 'string' } },
  args: [0, 2],
  async run(ctx, [id, runId], values) {
    if (id === undefined) throw new UsageError('give a task id');
    if (runId !== undefined) {
      printRun(ctx, await ctx.client().getRun(id, runId));
      return 0;
    }
    const limit = int(values.limit, 'limit') ?? 20;
    const items = await allPages(
      (nextToken) => ctx.client().listRuns(id, { limit: Math.min(100, limit), nextToken }),
      limit,
    );
    emit(ctx, items, (wide) => runTable(items, wide));
    return 0;
  },
};

/** The commands about runs. */
export const runCommands: Command[] = [run, cancel, runs];
