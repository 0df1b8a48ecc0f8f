#!/usr/bin/env node
/**
 * The `tickwork` command: `dev` starts the local runtime; every other command talks to the admin
 * API (`--endpoint`, default the local runtime) and prints tables, or JSON with `--json`.
 *
 * Exit codes: 0 success, 1 the API refused or the awaited run did not succeed, 2 usage error.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { runApply } from './apply.js';
import { ApiClient, ApiClientError, type RunInfo, type TaskInfo } from './client.js';
import { duration, fields, progressBar, table } from './format.js';

/** Where the CLI writes; tests capture it. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Rewrites the current stderr line (a TTY), or undefined to print progress as lines. */
  status?: (text: string) => void;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
}

const defaultIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  ...(process.stderr.isTTY ? { status: (text: string) => process.stderr.write(`\r\x1b[2K${text}`) } : {}),
  env: process.env,
};

const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed-out', 'skipped', 'missed']);

class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

const globalOptions = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

const taskFieldOptions = {
  file: { type: 'string', short: 'f' },
  name: { type: 'string' },
  type: { type: 'string' },
  schedule: { type: 'string' },
  tz: { type: 'string' },
  param: { type: 'string', multiple: true },
  overlap: { type: 'string' },
  'catch-up': { type: 'string' },
  priority: { type: 'string' },
  timeout: { type: 'string' },
  'max-attempts': { type: 'string' },
  'backoff-seconds': { type: 'string' },
  'stop-on-error': { type: 'boolean' },
  'max-runs': { type: 'string' },
  description: { type: 'string' },
  hidden: { type: 'boolean' },
  disabled: { type: 'boolean' },
} satisfies Options;

const TASK_FIELD_HELP = `  --file, -f <path|->     task JSON (fields as POST /tasks); flags below override it
  --name <text>  --type <Type>  --schedule "<expr>"  --tz <IANA zone>
  --param k=v             a parameter (value read as JSON when it parses, else text); repeatable
  --overlap skip|queue-one|allow|replace   --catch-up run-once|skip|run-all
  --priority <n>  --timeout <seconds>  --max-attempts <n>  --backoff-seconds <n>
  --stop-on-error  --max-runs <n>  --description <text>  --hidden  --disabled`;

const GLOBAL_HELP = `  --endpoint <url>   the admin API (default ${DEFAULT_ENDPOINT}; https endpoints on AWS are signed with SigV4)
  --region <region>  region for signing (default: from the host, else AWS_REGION)
  --json             print JSON instead of tables
  --help, -h         this help`;

interface Command {
  usage: string;
  summary: string;
  options?: Options;
  positionals: number;
  run(ctx: Ctx, args: string[], values: Record<string, unknown>): Promise<number>;
}

interface Ctx {
  io: CliIo;
  json: boolean;
  client(): ApiClient;
}

/** `k=v` pairs as parameters; values that parse as JSON are taken as JSON. */
export function parseParams(pairs: string[] | undefined): Record<string, unknown> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param needs key=value, got "${pair}"`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    out[pair.slice(0, eq)] = value;
  }
  return out;
}

function int(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`--${flag} must be a whole number, got "${String(value)}"`);
  return n;
}

/** The task fields given by `--file` and flags (only those given). */
function taskBody(values: Record<string, unknown>): Record<string, unknown> {
  let body: Record<string, unknown> = {};
  if (typeof values.file === 'string') {
    const text = readFileSync(values.file === '-' ? 0 : values.file, 'utf8');
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
      throw new UsageError(`${values.file} is not JSON: ${(error as Error).message}`);
    }
  }
  const set = (key: string, value: unknown) => {
    if (value !== undefined) body[key] = value;
  };
  set('name', values.name);
  set('type', values.type);
  set('schedule', values.schedule);
  set('timezone', values.tz);
  set('overlap', values.overlap);
  set('catchUp', values['catch-up']);
  set('priority', int(values.priority, 'priority'));
  set('timeoutSeconds', int(values.timeout, 'timeout'));
  set('maxRuns', int(values['max-runs'], 'max-runs'));
  set('description', values.description);
  set('hidden', values.hidden);
  set('stopOnError', values['stop-on-error']);
  if (values.disabled) body.enabled = false;
  const params = parseParams(values.param as string[] | undefined);
  if (params) body.parameters = { ...(body.parameters as object | undefined), ...params };
  const attempts = int(values['max-attempts'], 'max-attempts');
  const backoff = int(values['backoff-seconds'], 'backoff-seconds');
  if (attempts !== undefined || backoff !== undefined) {
    body.retry = { maxAttempts: attempts ?? 1, backoffSeconds: backoff ?? 30 };
  }
  return body;
}

function printTask(ctx: Ctx, task: TaskInfo): void {
  if (ctx.json) {
    ctx.io.out(JSON.stringify(task, null, 2));
    return;
  }
  const run = task.currentRun;
  ctx.io.out(
    fields([
      ['id', task.id],
      ['name', task.name],
      ['type', task.type],
      ['schedule', `${task.schedule} (${task.timezone})`],
      ['description', task.scheduleDescription],
      ['enabled', task.enabled ? 'yes' : `no${task.disabledReason ? ` (${task.disabledReason})` : ''}`],
      ['version', task.version],
      ['next run', task.nextRunAt],
      ['last run', task.lastRunAt ? `${task.lastRunAt} ${task.lastStatus ?? ''}` : null],
      ['last error', (task.lastError as { message?: string } | null)?.message],
      ['runs', task.runCount],
      ['current run', run ? `${run.runId} ${progressBar(run.progress, run.status)}` : null],
      ['next slots', (task.nextSlots as string[] | undefined)?.join(', ')],
      ['parameters', task.parameters],
    ]),
  );
}

function printRun(ctx: Ctx, run: RunInfo): void {
  if (ctx.json) {
    ctx.io.out(JSON.stringify(run, null, 2));
    return;
  }
  ctx.io.out(
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

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Polls a run until it ends, drawing a progress bar; exit 0 only when it succeeded. */
async function waitForRun(
  ctx: Ctx,
  taskId: string,
  runId: string,
  timeoutMs: number | undefined,
): Promise<number> {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  let last = '';
  let run: RunInfo;
  for (;;) {
    run = await ctx.client().getRun(taskId, runId);
    if (!ctx.json) {
      const line = progressBar(run.progress, run.status);
      if (ctx.io.status) ctx.io.status(line);
      else if (line !== last) ctx.io.err(line);
      last = line;
    }
    if (TERMINAL.has(run.status)) break;
    if (Date.now() > deadline) {
      if (ctx.io.status) ctx.io.err('');
      ctx.io.err(`gave up waiting for run ${runId} (still ${run.status})`);
      return 1;
    }
    await sleep(200);
  }
  if (ctx.io.status && !ctx.json) ctx.io.err('');
  printRun(ctx, run);
  return run.status === 'succeeded' ? 0 : 1;
}

async function allPages<T>(
  fetchPage: (token?: string) => Promise<{ items: T[]; nextToken: string | null }>,
  limit?: number,
) {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    items.push(...page.items);
    token = page.nextToken ?? undefined;
  } while (token !== undefined && (limit === undefined || items.length < limit));
  return limit === undefined ? items : items.slice(0, limit);
}

const commands: Record<string, Command> = {
  'tasks list': {
    usage: 'tickwork tasks list [--all] [--limit <n>]',
    summary: 'List tasks (--all includes hidden ones)',
    options: { all: { type: 'boolean' }, limit: { type: 'string' } },
    positionals: 0,
    async run(ctx, _args, values) {
      const limit = int(values.limit, 'limit');
      const items = await allPages(
        (nextToken) =>
          ctx.client().listTasks({
            limit: 100,
            includeHidden: values.all === true,
            ...(nextToken ? { nextToken } : {}),
          }),
        limit,
      );
      if (ctx.json) ctx.io.out(JSON.stringify(items, null, 2));
      else
        ctx.io.out(
          table(
            ['id', 'name', 'type', 'schedule', 'enabled', 'next run', 'last run', 'status'],
            items.map((t) => [
              t.id,
              t.name,
              t.type,
              t.schedule,
              t.enabled ? 'yes' : 'no',
              t.nextRunAt,
              t.lastRunAt,
              t.currentRun?.status ?? t.lastStatus,
            ]),
          ),
        );
      return 0;
    },
  },
  'tasks get': {
    usage: 'tickwork tasks get <id>',
    summary: 'Show one task with its current run and next slots',
    positionals: 1,
    async run(ctx, [id]) {
      printTask(ctx, await ctx.client().getTask(id as string));
      return 0;
    },
  },
  'tasks create': {
    usage: `tickwork tasks create [--id <id>] --name <text> --type <Type> --schedule "<expr>" [options]\n${TASK_FIELD_HELP}`,
    summary: 'Create a task',
    options: { id: { type: 'string' }, ...taskFieldOptions },
    positionals: 0,
    async run(ctx, _args, values) {
      const body = taskBody(values);
      if (typeof values.id === 'string') body.id = values.id;
      printTask(ctx, await ctx.client().createTask(body));
      return 0;
    },
  },
  'tasks update': {
    usage: `tickwork tasks update <id> [--if-match <version>] [options]\n${TASK_FIELD_HELP}\n  --enabled               enable the task`,
    summary: 'Change some fields of a task',
    options: { 'if-match': { type: 'string' }, enabled: { type: 'boolean' }, ...taskFieldOptions },
    positionals: 1,
    async run(ctx, [id], values) {
      const body = taskBody(values);
      if (values.enabled) body.enabled = true;
      if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one field');
      printTask(ctx, await ctx.client().updateTask(id as string, body, int(values['if-match'], 'if-match')));
      return 0;
    },
  },
  'tasks delete': {
    usage: 'tickwork tasks delete <id> [--force]',
    summary: 'Delete a task and its history (--force cancels an active run first)',
    options: { force: { type: 'boolean' } },
    positionals: 1,
    async run(ctx, [id], values) {
      await ctx.client().deleteTask(id as string, { force: values.force === true });
      if (ctx.json) ctx.io.out(JSON.stringify({ deleted: id }));
      else ctx.io.out(`deleted ${id}`);
      return 0;
    },
  },
  'tasks apply': {
    usage: 'tickwork tasks apply -f <file|-> [--dry-run]   (JSON or YAML: {"tasks": [...]} or a list)',
    summary: 'Apply task declarations (tasks as code): create absent tasks, set the declared fields',
    options: { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' } },
    positionals: 0,
    async run(ctx, _args, values) {
      if (typeof values.file !== 'string') throw new UsageError('give the declarations file: -f <file>');
      const options = { file: values.file, dryRun: values['dry-run'] === true, json: ctx.json };
      return runApply(ctx.client(), options, ctx.io);
    },
  },
  'tasks enable': {
    usage: 'tickwork tasks enable <id>',
    summary: 'Enable a task (its schedule restarts from now)',
    positionals: 1,
    async run(ctx, [id]) {
      printTask(ctx, await ctx.client().updateTask(id as string, { enabled: true }));
      return 0;
    },
  },
  'tasks disable': {
    usage: 'tickwork tasks disable <id>',
    summary: 'Disable a task (no scheduled runs; manual runs still work)',
    positionals: 1,
    async run(ctx, [id]) {
      printTask(ctx, await ctx.client().updateTask(id as string, { enabled: false }));
      return 0;
    },
  },
  run: {
    usage: 'tickwork run <id> [--param k=v ...] [--wait [--timeout <seconds>]]',
    summary: 'Run a task now; --wait follows it with a progress bar and exits 1 unless it succeeds',
    options: {
      param: { type: 'string', multiple: true },
      wait: { type: 'boolean', short: 'w' },
      timeout: { type: 'string' },
    },
    positionals: 1,
    async run(ctx, [id], values) {
      const accepted = await ctx
        .client()
        .runNow(id as string, parseParams(values.param as string[] | undefined));
      if (!values.wait) {
        ctx.io.out(ctx.json ? JSON.stringify(accepted) : `run ${accepted.runId} ${accepted.status}`);
        return 0;
      }
      if (!ctx.json) ctx.io.err(`run ${accepted.runId} ${accepted.status}`);
      const timeout = int(values.timeout, 'timeout');
      return waitForRun(
        ctx,
        id as string,
        accepted.runId,
        timeout === undefined ? undefined : timeout * 1000,
      );
    },
  },
  cancel: {
    usage: 'tickwork cancel <id> [--run <runId>]',
    summary: 'Cancel the active run of a task (or the next queued one)',
    options: { run: { type: 'string' } },
    positionals: 1,
    async run(ctx, [id], values) {
      const result = await ctx.client().cancel(id as string, values.run as string | undefined);
      ctx.io.out(
        ctx.json ? JSON.stringify(result) : `cancel requested for run ${result.runId} (${result.status})`,
      );
      return 0;
    },
  },
  runs: {
    usage: 'tickwork runs <id> [<runId>] [--limit <n>]',
    summary: "A task's run history, newest first, or one run",
    options: { limit: { type: 'string' } },
    positionals: -1,
    async run(ctx, [id, runId], values) {
      if (id === undefined) throw new UsageError('give a task id');
      if (runId !== undefined) {
        printRun(ctx, await ctx.client().getRun(id, runId));
        return 0;
      }
      const limit = int(values.limit, 'limit') ?? 20;
      const items = await allPages(
        (nextToken) =>
          ctx.client().listRuns(id, { limit: Math.min(100, limit), ...(nextToken ? { nextToken } : {}) }),
        limit,
      );
      if (ctx.json) ctx.io.out(JSON.stringify(items, null, 2));
      else
        ctx.io.out(
          table(
            [
              'run',
              'status',
              'trigger',
              'scheduled for',
              'started',
              'duration',
              'progress',
              'result / error',
            ],
            items.map((r) => [
              r.runId,
              r.status,
              r.trigger,
              r.scheduledFor,
              r.startedAt,
              duration(r.durationMs),
              r.progress?.percent != null ? `${Math.round(r.progress.percent)}%` : null,
              r.error ? `${r.error.name}: ${r.error.message}` : r.result,
            ]),
          ),
        );
      return 0;
    },
  },
  pause: {
    usage: 'tickwork pause',
    summary: 'Pause the whole scheduler',
    positionals: 0,
    async run(ctx) {
      const state = await ctx.client().pause();
      ctx.io.out(ctx.json ? JSON.stringify(state) : `scheduler ${state.state}`);
      return 0;
    },
  },
  resume: {
    usage: 'tickwork resume',
    summary: 'Resume the scheduler',
    positionals: 0,
    async run(ctx) {
      const state = await ctx.client().resume();
      ctx.io.out(ctx.json ? JSON.stringify(state) : `scheduler ${state.state}`);
      return 0;
    },
  },
  status: {
    usage: 'tickwork status',
    summary: "The scheduler's state and last tick",
    positionals: 0,
    async run(ctx) {
      const state = await ctx.client().scheduler();
      ctx.io.out(ctx.json ? JSON.stringify(state) : fields(Object.entries(state)));
      return 0;
    },
  },
  types: {
    usage: 'tickwork types',
    summary: 'Registered task types',
    positionals: 0,
    async run(ctx) {
      const { items } = await ctx.client().taskTypes();
      ctx.io.out(
        ctx.json
          ? JSON.stringify(items, null, 2)
          : table(
              ['type', 'function', 'description'],
              items.map((t) => [t.name, t.functionName, t.description]),
            ),
      );
      return 0;
    },
  },
  preview: {
    usage: 'tickwork preview "<schedule>" [--tz <zone>] [--count <n>] [--from <ISO instant>]',
    summary: 'The next slots of a schedule and what it means',
    options: { tz: { type: 'string' }, count: { type: 'string' }, from: { type: 'string' } },
    positionals: 1,
    async run(ctx, [schedule], values) {
      const count = int(values.count, 'count');
      const preview = await ctx.client().preview({
        schedule: schedule as string,
        ...(typeof values.tz === 'string' ? { timezone: values.tz } : {}),
        ...(count !== undefined ? { count } : {}),
        ...(typeof values.from === 'string' ? { from: values.from } : {}),
      });
      ctx.io.out(
        ctx.json
          ? JSON.stringify(preview, null, 2)
          : [preview.description, ...preview.next.map((n) => `  ${n}`)].join('\n'),
      );
      return 0;
    },
  },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length), 3);
  return [
    'usage: tickwork <command> [options]',
    '',
    `  ${'dev'.padEnd(width)}  start the local runtime (see tickwork dev --help)`,
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    GLOBAL_HELP,
    '',
    "Run 'tickwork <command> --help' for a command's options.",
  ].join('\n');
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
/** Moves global options given before the command (`tickwork --endpoint URL tasks list`) after it. */
function globalsLast(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    if (arg === '--json') {
      leading.push(arg);
      i += 1;
    } else if ((arg === '--endpoint' || arg === '--region') && i + 1 < argv.length) {
      leading.push(arg, argv[i + 1] as string);
      i += 2;
    } else if (arg.startsWith('--endpoint=') || arg.startsWith('--region=')) {
      leading.push(arg);
      i += 1;
    } else break;
  }
  return [...argv.slice(i), ...leading];
}

export async function main(rawArgv: string[], io: CliIo = defaultIo): Promise<number> {
  const argv = globalsLast(rawArgv);
  if (argv[0] === 'dev') {
    const { runDev } = await import('./dev.js');
    return runDev(argv.slice(1));
  }
  const name =
    argv[0] === 'tasks' && argv[1] !== undefined && !argv[1].startsWith('-') ? `tasks ${argv[1]}` : argv[0];
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`tickwork: unknown command "${argv.slice(0, 2).join(' ')}"\n\n${help()}`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...globalOptions, ...command.options },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (error) {
    io.err(`tickwork ${name}: ${(error as Error).message}\n\nusage: ${command.usage}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(`usage: ${command.usage}\n\n${command.summary}.\n\nglobal options:\n${GLOBAL_HELP}`);
    return 0;
  }
  if (command.positionals >= 0 && positionals.length !== command.positionals) {
    io.err(
      `tickwork ${name}: expected ${command.positionals} argument(s), got ${positionals.length}\n\nusage: ${command.usage}`,
    );
    return 2;
  }
  let client: ApiClient | undefined;
  const ctx: Ctx = {
    io,
    json: values.json === true,
    client: () => {
      client ??= new ApiClient({
        endpoint: (values.endpoint as string | undefined) ?? io.env.TICKWORK_ENDPOINT ?? DEFAULT_ENDPOINT,
        ...(typeof values.region === 'string' ? { region: values.region } : {}),
        ...(io.fetch ? { fetch: io.fetch } : {}),
      });
      return client;
    },
  };
  try {
    return await command.run(ctx, positionals, values);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`tickwork ${name}: ${error.message}\n\nusage: ${command.usage}`);
      return 2;
    }
    if (error instanceof ApiClientError) {
      if (ctx.json)
        io.err(
          JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } }),
        );
      else {
        io.err(`error: ${error.message} (${error.code}, HTTP ${error.status})`);
        for (const d of error.details) io.err(`  ${d.field}: ${d.message}`);
      }
      return 1;
    }
    const e = error as Error & { cause?: { code?: string } };
    const why = e.cause?.code === 'ECONNREFUSED' ? ' (is the API running? start it with `tickwork dev`)' : '';
    io.err(`error: ${e.message}${why}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
