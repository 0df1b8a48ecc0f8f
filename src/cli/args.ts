/**
 * Flags of the `tickwork` CLI: the global options every API command takes, parsing a command's
 * arguments against its options, and the one {@link UsageError}.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A bad command line; the message is for the user, and the CLI exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The option table of `node:util`'s `parseArgs`. */
export type Options = NonNullable<ParseArgsConfig['options']>;
/** Parsed flag values, by long name. */
export type Values = Record<string, unknown>;

/** Where the CLI looks for the admin API when neither `--endpoint` nor the variable is set. */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:3000';
/** The environment variable naming the admin API. */
export const ENDPOINT_VARIABLE = 'TICKWORK_ENDPOINT';
/** The bearer token the CLI sends: the one `tickwork dev --host` (beyond loopback) prints. */
export const TOKEN_VARIABLE = 'TICKWORK_TOKEN';

/** Options every command that talks to the API accepts, before or after the command. */
export const globalOptions = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  output: { type: 'string', short: 'o' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies Options;

/** What `-o` accepts: `table` (the default), `wide` (more columns), `json`, `yaml`. */
export const outputFormats = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof outputFormats)[number];

/** The output format of `-o`/`--output`, or `--json` (an alias of `-o json`). */
export function outputFormat(values: Values): OutputFormat {
  const given = text(values.output);
  if (given === undefined) return values.json === true ? 'json' : 'table';
  const format = outputFormats.find((f) => f === given);
  if (!format) throw new UsageError(`-o: one of ${outputFormats.join(', ')}, got "${given}"`);
  if (values.json === true && format !== 'json') throw new UsageError(`--json contradicts -o ${format}`);
  return format;
}

export const GLOBAL_HELP = `  --endpoint <url>   the admin API (default: $${ENDPOINT_VARIABLE}, else ${DEFAULT_ENDPOINT});
                     https endpoints on AWS are signed with SigV4
  --region <region>  region for signing (default: from the host, else AWS_REGION)
  -o, --output <fmt> table (default), wide (more columns), json or yaml
  --json             the same as -o json
  --help, -h         this help`;

/** Global options given before the command take one argument (`--endpoint URL`) or none. */
const LEADING_WITH_VALUE = new Set(['--endpoint', '--region', '--output', '-o']);
const LEADING_FLAGS = new Set(['--json']);

/** Moves global options given before the command (`tickwork --endpoint URL tasks list`) after it. */
export function globalsLast(argv: string[]): string[] {
  const leading: string[] = [];
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i] as string;
    const [flag] = arg.split('=', 1) as [string];
    if (LEADING_FLAGS.has(arg)) {
      leading.push(arg);
      i += 1;
    } else if (LEADING_WITH_VALUE.has(arg) && i + 1 < argv.length) {
      leading.push(arg, argv[i + 1] as string);
      i += 2;
    } else if ((arg.includes('=') && LEADING_WITH_VALUE.has(flag)) || /^-o[a-z]+$/.test(arg)) {
      leading.push(arg);
      i += 1;
    } else break;
  }
  return [...argv.slice(i), ...leading];
}

/** Parses `argv` strictly against `options`; unknown flags and missing values are usage errors. */
export function parseFlags(argv: string[], options: Options): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { values, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A whole-number flag, or undefined when not given. */
export function int(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new UsageError(`--${flag} must be a whole number, got "${String(value)}"`);
  return n;
}

/** A string flag, or undefined when not given. */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
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
