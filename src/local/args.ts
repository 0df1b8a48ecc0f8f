/** The flags of `tickwork dev`, parsed and checked. */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from './duration.js';
import type { LocalRuntimeOptions } from './runtime.js';

export const devUsage = `Usage: tickwork dev [options]

Runs the whole scheduler on this machine: DynamoDB Local, a local Lambda endpoint running your
handlers in worker processes, the tick on a timer, and the API and dashboard.

Options:
  --port N                 API port (default 3000; 0 picks a free one)
  --host ADDR              API address (default 127.0.0.1: loopback only)
  --tick-every DURATION    tick interval, on wall-clock boundaries: 500ms, 1s, 2m (default 1m);
                           also the shortest schedule interval the API accepts (at most 1m)
  --data-dir DIR           where DynamoDB Local keeps its files (default .tickwork)
  --in-memory              DynamoDB Local in memory: nothing is kept
  --dynamodb-endpoint URL  use this DynamoDB (e.g. one shared by several runtimes) instead of
                           starting one; with --table
  --table NAME             table name (default tickwork); created when missing
  --config FILE            task types (default ./tickwork.config.ts if present, else the demo types)
  --no-demo                do not seed the demo tasks into an empty table
  --grace DURATION         on Ctrl-C, how long running tasks may finish before being stopped (default 5s)
  --verbose                echo every line handlers write
  -h, --help               show this help

Environment: every AWS SDK client (the tick, the API, your handlers) reaches the local services
through AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_LAMBDA, with dummy credentials.`;

/** Thrown for bad flags; the message is for the user. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** What `tickwork dev` was asked to do. */
export type DevCommand = { help: true } | ({ help: false } & LocalRuntimeOptions);

/** Parses `tickwork dev` flags (without the `dev` itself). */
export function parseDevArgs(argv: string[], cwd: string = process.cwd()): DevCommand {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
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
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true };
  const str = (name: string) => values[name] as string | undefined;

  const port = Number(str('port') ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port: not a port: ${str('port')}`);
  const duration = (name: string, fallback: string) => {
    try {
      return parseDuration(str(name) ?? fallback);
    } catch (error) {
      throw new UsageError(`--${name}: ${(error as Error).message}`);
    }
  };
  const tickEveryMs = duration('tick-every', '1m');
  if (tickEveryMs < 100) throw new UsageError('--tick-every: at least 100ms');
  const graceMs = duration('grace', '5s');
  if (graceMs > 8_000) throw new UsageError('--grace: at most 8s (the runtime stops within 10 s)');

  const endpoint = str('dynamodb-endpoint');
  if (endpoint !== undefined) {
    if (values['in-memory'] || str('data-dir')) {
      throw new UsageError(
        '--dynamodb-endpoint uses an engine someone else runs: drop --in-memory and --data-dir',
      );
    }
    try {
      new URL(endpoint);
    } catch {
      throw new UsageError(`--dynamodb-endpoint: not a URL: ${endpoint}`);
    }
  }
  if (values['in-memory'] && str('data-dir'))
    throw new UsageError('--in-memory keeps nothing: drop --data-dir');
  const table = str('table') ?? 'tickwork';
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table))
    throw new UsageError(`--table: not a DynamoDB table name: ${table}`);

  return {
    help: false,
    storage: endpoint
      ? { kind: 'endpoint', endpoint }
      : values['in-memory']
        ? { kind: 'in-memory' }
        : { kind: 'persistent', dataDir: resolve(cwd, str('data-dir') ?? '.tickwork') },
    table,
    port,
    host: str('host') ?? '127.0.0.1',
    tickEveryMs,
    demo: !values['no-demo'],
    graceMs,
    ...(str('config') ? { configPath: str('config') as string } : {}),
    cwd,
    verbose: Boolean(values.verbose),
  };
}
