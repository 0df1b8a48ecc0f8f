/**
 * `tickwork dev`: the whole scheduler on this machine. This file parses and checks the flags
 * into the runtime's {@link LocalRuntimeOptions}; `../dev.ts` runs the runtime in the foreground
 * (loaded only when `dev` runs, so other commands never load the runtime).
 */
import { resolve } from 'node:path';
import { parseDuration } from '../../local/duration.js';
import type { LocalRuntimeOptions } from '../../local/runtime.js';
import { type Options, parseFlags, text, UsageError, type Values } from '../args.js';
import type { Command } from '../command.js';

const devOptions = {
  port: { type: 'string' },
  host: { type: 'string' },
  'tick-every': { type: 'string' },
  'data-dir': { type: 'string' },
  'in-memory': { type: 'boolean' },
  'dynamodb-endpoint': { type: 'string' },
  table: { type: 'string' },
  config: { type: 'string' },
  'no-demo': { type: 'boolean' },
  grace: { type: 'string' },
  verbose: { type: 'boolean' },
  'exit-with-parent': { type: 'boolean' },
} satisfies Options;

const DEV_HELP = `  --port N                 API port (default 3000; 0 picks a free one)
  --host ADDR              API address (default 127.0.0.1: loopback only; beyond loopback, every
                           API request needs the token printed at start)
  --tick-every DURATION    tick interval, on wall-clock boundaries: 500ms, 1s, 2m (default 1m);
                           each tick leases what is due in its interval ahead and starts every
                           run on its second; schedules as frequent as 1s are accepted
  --data-dir DIR           where DynamoDB Local keeps its files (default .tickwork)
  --in-memory              DynamoDB Local in memory: nothing is kept
  --dynamodb-endpoint URL  use this DynamoDB (e.g. one shared by several runtimes) instead of
                           starting one; with --table
  --table NAME             table name (default tickwork); created when missing
  --config FILE            task types (default ./tickwork.config.ts if present, else the demo types)
  --no-demo                do not seed the demo tasks into an empty table
  --grace DURATION         on Ctrl-C, how long running tasks may finish before being stopped (default 5s)
  --verbose                echo every line handlers write
  --exit-with-parent       stop at once when the process that started this one dies (npm start
                           passes it: a kill -9 of npm's shell then takes the runtime with it)
  -h, --help               show this help

Environment: every AWS SDK client (the tick, the API, your handlers) reaches the local services
through AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_LAMBDA, with dummy credentials.
Other commands find this runtime at http://127.0.0.1:3000; with another --port or --host, set
TICKWORK_ENDPOINT (or pass --endpoint) to the API address the runtime prints. With --host beyond
loopback (e.g. 0.0.0.0) the runtime prints a token every API request must carry
(Authorization: Bearer; set TICKWORK_TOKEN for the CLI, or open the dashboard link it prints).`;

/** What `tickwork dev` was asked to do. */
export type DevCommand = { help: true } | ({ help: false } & LocalRuntimeOptions);

function durationFlag(values: Values, name: string, fallback: string): number {
  try {
    return parseDuration(text(values[name]) ?? fallback);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

/** Where the table lives: an engine someone else runs, in memory, or files under `--data-dir`. */
function storageOf(values: Values, cwd: string): LocalRuntimeOptions['storage'] {
  const endpoint = text(values['dynamodb-endpoint']);
  const dataDir = text(values['data-dir']);
  if (endpoint !== undefined) {
    if (values['in-memory'] || dataDir !== undefined) {
      throw new UsageError(
        '--dynamodb-endpoint uses an engine someone else runs: drop --in-memory and --data-dir',
      );
    }
    try {
      new URL(endpoint);
    } catch {
      throw new UsageError(`--dynamodb-endpoint: not a URL: ${endpoint}`);
    }
    return { kind: 'endpoint', endpoint };
  }
  if (values['in-memory']) {
    if (dataDir !== undefined) throw new UsageError('--in-memory keeps nothing: drop --data-dir');
    return { kind: 'in-memory' };
  }
  return { kind: 'persistent', dataDir: resolve(cwd, dataDir ?? '.tickwork') };
}

/** Checks `tickwork dev`'s flag values and turns them into the runtime's options. */
export function devRuntimeOptions(values: Values, cwd: string = process.cwd()): LocalRuntimeOptions {
  const port = Number(text(values.port) ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: not a port: ${text(values.port)}`);
  const tickEveryMs = durationFlag(values, 'tick-every', '1m');
  if (tickEveryMs < 100) throw new UsageError('--tick-every: at least 100ms');
  const graceMs = durationFlag(values, 'grace', '5s');
  if (graceMs > 8_000) throw new UsageError('--grace: at most 8s (the runtime stops within 10 s)');
  const storage = storageOf(values, cwd);
  const table = text(values.table) ?? 'tickwork';
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table))
    throw new UsageError(`--table: not a DynamoDB table name: ${table}`);
  const configPath = text(values.config);
  return {
    storage,
    table,
    port,
    host: text(values.host) ?? '127.0.0.1',
    tickEveryMs,
    demo: !values['no-demo'],
    graceMs,
    ...(configPath ? { configPath } : {}),
    cwd,
    verbose: Boolean(values.verbose),
  };
}

/** Parses `tickwork dev` flags (without the `dev` itself); throws {@link UsageError}. */
export function parseDevArgs(argv: string[], cwd: string = process.cwd()): DevCommand {
  const { values, positionals } = parseFlags(argv, { ...devOptions, help: { type: 'boolean', short: 'h' } });
  if (values.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return { help: false, ...devRuntimeOptions(values, cwd) };
}

const dev: Command = {
  name: 'dev',
  usage: 'tickwork dev [options]',
  summary: 'Run the scheduler on this machine (DynamoDB Local, your handlers, tick, API, dashboard)',
  details: DEV_HELP,
  options: devOptions,
  args: 0,
  global: false,
  async run(ctx, _args, values) {
    const options = devRuntimeOptions(values);
    const { runDev } = await import('../dev.js');
    return runDev(options, ctx.io, { exitWithParent: Boolean(values['exit-with-parent']) });
  },
};

/** The local runtime's command. */
export const devCommands: Command[] = [dev];
