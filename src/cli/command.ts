/**
 * The shape of a `tickwork` command. Each command group (`commands/tasks.ts`, `commands/runs.ts`,
 * …) exports a list of these, and `commands/index.ts` lists the groups: a new group is one file
 * plus one line there. `main.ts` parses the flags, prints `--help` and usage errors, and maps
 * errors to exit codes, so a command's `run` holds only what the command does.
 */
import type { Options, OutputFormat, Values } from './args.js';
import type { ApiClient } from './client.js';

/** Where the CLI writes; tests capture it. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Rewrites the current stderr line (a TTY), or undefined to print progress as lines. */
  status?: (text: string) => void;
  env: NodeJS.ProcessEnv;
  fetch?: typeof fetch;
  /** Calls `handler` on Ctrl-C (SIGINT) until the returned function is called. */
  onInterrupt?: (handler: () => void) => () => void;
}

/** What a command's `run` gets besides its arguments. */
export interface Ctx {
  io: CliIo;
  /** `-o`: `table`, `wide`, `json` or `yaml` (`--json` is `json`). */
  output: OutputFormat;
  /** The output is for programs (`json` or `yaml`): no progress lines, errors as data. */
  structured: boolean;
  /** The admin API's client, made on first use (commands that never call it need no endpoint). */
  client(): ApiClient;
}

/** One command: `run`, `tasks list`, `dev`. */
export interface Command {
  /** What the user types, one or two words (`tasks list`). */
  name: string;
  /** One line for the command list; `--help` prints it as a sentence. */
  summary: string;
  /** The synopsis after `usage: `, starting with `tickwork `. */
  usage: string;
  /** More `--help` text (flag descriptions), also printed under a usage error. */
  details?: string;
  /** Flags beyond the global ones. */
  options?: Options;
  /** How many positional arguments: exactly n, or [least, most]. */
  args: number | readonly [number, number];
  /** False for a command that does not take the global API options (`dev`). Default true. */
  global?: boolean;
  /** Does the work; resolves to the exit code. Throws `UsageError` for a bad command line. */
  run(ctx: Ctx, args: string[], values: Values): Promise<number>;
}
