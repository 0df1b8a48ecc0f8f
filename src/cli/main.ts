#!/usr/bin/env node
/**
 * The `tickwork` command: `dev` starts the local runtime; every other command talks to the admin
 * API (`--endpoint`, else `TICKWORK_ENDPOINT`, else the local runtime) and prints tables, or
 * JSON or YAML with `-o json|yaml` (`--json`).
 * The commands live in `commands/`, one file per group; this file finds the command, parses its
 * flags, prints help and maps errors to exit codes.
 *
 * Exit codes: 0 success, 1 the API refused or the awaited run did not succeed, 2 usage error.
 */
import { pathToFileURL } from 'node:url';
import {
  DEFAULT_ENDPOINT,
  ENDPOINT_VARIABLE,
  GLOBAL_HELP,
  globalOptions,
  globalsLast,
  outputFormat,
  parseFlags,
  TOKEN_VARIABLE,
  text,
  UsageError,
  type Values,
} from './args.js';
import { ApiClient, ApiClientError, ApiUnreachableError } from './client.js';
import type { CliIo, Command, Ctx } from './command.js';
import { commands } from './commands/index.js';
import { emitError } from './print.js';

export type { CliIo } from './command.js';

const defaultIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  ...(process.stderr.isTTY ? { status: (line: string) => process.stderr.write(`\r\x1b[2K${line}`) } : {}),
  env: process.env,
  onInterrupt: (handler) => {
    process.once('SIGINT', handler);
    return () => process.off('SIGINT', handler);
  },
};

const UNREACHABLE_HINT = `  Is it running? Start one with \`tickwork dev\`, or point --endpoint or ${ENDPOINT_VARIABLE} at it.`;

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 3);
  return [
    'usage: tickwork <command> [options]',
    '',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'global options:',
    GLOBAL_HELP,
    '',
    "Run 'tickwork <command> --help' for a command's options.",
  ].join('\n');
}

function usageOf(command: Command): string {
  return `usage: ${command.usage}${command.details ? `\n${command.details}` : ''}`;
}

function commandHelp(command: Command): string {
  const options = command.details ? `\n\noptions:\n${command.details}` : '';
  const global = command.global === false ? '' : `\n\nglobal options:\n${GLOBAL_HELP}`;
  return `usage: ${command.usage}\n\n${command.summary}.${options}${global}`;
}

/** The command `argv` starts with (two words before one), and the arguments after its name. */
function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = commands.find((c) => c.name === name);
    if (command) return { command, rest: argv.slice(words) };
  }
  return undefined;
}

/** Parses the flags and checks the argument count; throws {@link UsageError}. */
function parseCommandLine(command: Command, rest: string[]): { values: Values; positionals: string[] } {
  const options = command.global === false ? { help: globalOptions.help } : globalOptions;
  const parsed = parseFlags(rest, { ...options, ...command.options });
  if (parsed.values.help) return parsed;
  const [least, most] = typeof command.args === 'number' ? [command.args, command.args] : command.args;
  const count = parsed.positionals.length;
  if (count < least || count > most) {
    const expected = least === most ? `${least}` : `${least} to ${most}`;
    throw new UsageError(`expected ${expected} argument(s), got ${count}`);
  }
  return parsed;
}

function contextOf(io: CliIo, values: Values): Ctx {
  let client: ApiClient | undefined;
  const output = outputFormat(values);
  return {
    io,
    output,
    structured: output === 'json' || output === 'yaml',
    client: () => {
      client ??= new ApiClient({
        endpoint: text(values.endpoint) ?? io.env[ENDPOINT_VARIABLE] ?? DEFAULT_ENDPOINT,
        ...(typeof values.region === 'string' ? { region: values.region } : {}),
        ...(io.fetch ? { fetch: io.fetch } : {}),
        ...(io.env[TOKEN_VARIABLE] ? { token: io.env[TOKEN_VARIABLE] } : {}),
      });
      return client;
    },
  };
}

/** Prints what went wrong; resolves to the exit code. */
function report(io: CliIo, ctx: Ctx, command: Command, error: unknown): number {
  if (error instanceof UsageError) {
    io.err(`tickwork ${command.name}: ${error.message}\n\n${usageOf(command)}`);
    return 2;
  }
  if (error instanceof ApiClientError) {
    if (ctx.structured) emitError(ctx, { code: error.code, message: error.message, details: error.details });
    else {
      io.err(`error: ${error.message} (${error.code}, HTTP ${error.status})`);
      for (const d of error.details) io.err(`  ${d.field}: ${d.message}`);
    }
    return 1;
  }
  if (error instanceof ApiUnreachableError) {
    if (ctx.structured) emitError(ctx, { code: 'unreachable', message: error.message });
    else io.err(`error: ${error.message}\n${UNREACHABLE_HINT}`);
    return 1;
  }
  io.err(`error: ${(error as Error).message}`);
  return 1;
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(rawArgv: string[], io: CliIo = defaultIo): Promise<number> {
  const argv = globalsLast(rawArgv);
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.out(help());
    return first === undefined ? 2 : 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = commands.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.split(' ')[1]);
    const hint = group.length > 0 ? `: give one of ${group.join(', ')}` : '';
    io.err(`tickwork: unknown command "${argv.slice(0, 2).join(' ')}"${hint}\n\n${help()}`);
    return 2;
  }
  const { command, rest } = found;
  let ctx = contextOf(io, {});
  try {
    const { values, positionals } = parseCommandLine(command, rest);
    if (values.help) {
      io.out(commandHelp(command));
      return 0;
    }
    ctx = contextOf(io, values);
    return await command.run(ctx, positionals, values);
  } catch (error) {
    return report(io, ctx, command, error);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
