/**
 * `tickwork tasks apply -f FILE [--dry-run]`: tasks as code against any running admin API
 * (docs/tasks-as-code.md). FILE is JSON or YAML and holds `{ tasks: [...] }` or a bare list of
 * declarations; the API validates them as `POST /tasks` does and answers what it did to each task,
 * which is printed as a diff:
 *
 * ```
 * + nightly-report  created
 * ~ eu-report       schedule: "0 6 * * *" → "0 7 * * *"
 * = cleanup         unchanged
 * ```
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parseDocument } from 'yaml';
import type { ApiClient } from './client.js';

/** What the command prints to (the CLI's io fits). */
export interface ApplyOutput {
  out(text: string): void;
}

export interface ApplyCommandOptions {
  /** Path of the declarations file, or `-` for standard input. */
  file: string;
  dryRun: boolean;
  /** Print the API's change list as JSON instead of the diff. */
  json: boolean;
  /** Reads the file (tests pass their own); default `readFileSync`, `-` being standard input. */
  readFile?: (file: string) => string;
}

/** What the API did (or, in a dry run, would do) to one task. */
export interface AppliedChange {
  id: string;
  action: 'created' | 'updated' | 'unchanged';
  fields?: Record<string, { from: unknown; to: unknown }>;
}

export interface AppliedResult {
  dryRun: boolean;
  changes: AppliedChange[];
}

/** A declarations file that cannot be read or is not declarations; the message names the file (and line). */
export class DeclarationFileError extends Error {
  override readonly name = 'DeclarationFileError';
}

const readDefault = (file: string) => readFileSync(file === '-' ? 0 : file, 'utf8');

/** Where a position in a text is, as `line:column` (both from 1). */
function lineColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = /at position (\d+)/.exec(message)?.[1];
    const where = position === undefined ? '' : `:${lineColumn(text, Number(position))}`;
    throw new DeclarationFileError(`${name}${where}: not valid JSON: ${message}`);
  }
}

function parseYaml(text: string, name: string): unknown {
  const document = parseDocument(text);
  const [error] = document.errors;
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `:${at.line}:${at.col}` : '';
    const message = (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    throw new DeclarationFileError(`${name}${where}: not valid YAML: ${message}`);
  }
  return document.toJS();
}

/**
 * The declarations a file holds: `{ tasks: [...] }` or a bare list. `.json` files are read as
 * JSON; anything else (`.yaml`, `.yml`, standard input) as YAML, which JSON is also valid as.
 */
export function readDeclarations(text: string, name: string): unknown[] {
  const parsed = extname(name).toLowerCase() === '.json' ? parseJson(text, name) : parseYaml(text, name);
  if (Array.isArray(parsed)) return parsed;
  if (typeof parsed === 'object' && parsed !== null && Array.isArray((parsed as { tasks?: unknown }).tasks)) {
    return (parsed as { tasks: unknown[] }).tasks;
  }
  throw new DeclarationFileError(
    `${name}: expected a list of task declarations, or an object with a "tasks" list`,
  );
}

const value = (v: unknown) => JSON.stringify(v ?? null);

/** The change list as a readable diff, one task (and one changed field) a line. */
export function formatChanges(result: AppliedResult): string {
  const width = Math.max(0, ...result.changes.map((c) => c.id.length));
  const lines: string[] = [];
  if (result.dryRun) lines.push('dry run: nothing was written; an apply would do this:');
  const counts = { created: 0, updated: 0, unchanged: 0 };
  for (const change of result.changes) {
    counts[change.action] += 1;
    const head = change.id.padEnd(width);
    if (change.action === 'created') lines.push(`+ ${head}  created`);
    else if (change.action === 'unchanged') lines.push(`= ${head}  unchanged`);
    else {
      const fields = Object.entries(change.fields ?? {}).map(
        ([field, { from, to }]) => `${field}: ${value(from)} → ${value(to)}`,
      );
      lines.push(`~ ${head}  ${fields[0] ?? 'updated'}`);
      for (const field of fields.slice(1)) lines.push(`  ${' '.repeat(width)}  ${field}`);
    }
  }
  if (result.changes.length === 0) lines.push('no tasks declared');
  lines.push(`${counts.created} created, ${counts.updated} updated, ${counts.unchanged} unchanged`);
  return lines.join('\n');
}

/**
 * Runs `tickwork tasks apply`: reads the file, sends it to `POST /tasks/apply` and prints the diff
 * (or, with `json`, the change list). Resolves to the exit code; the API's refusals are thrown as
 * the client's errors, a bad file as {@link DeclarationFileError}.
 */
export async function runApply(
  client: ApiClient,
  options: ApplyCommandOptions,
  io: ApplyOutput,
): Promise<number> {
  const name = options.file === '-' ? '(stdin)' : options.file;
  let text: string;
  try {
    text = (options.readFile ?? readDefault)(options.file);
  } catch (error) {
    throw new DeclarationFileError(`${name}: cannot read it: ${(error as Error).message}`);
  }
  const tasks = readDeclarations(text, name);
  const result = await client.request<AppliedResult>('POST', '/tasks/apply', {
    body: { tasks, dryRun: options.dryRun },
  });
  io.out(options.json ? JSON.stringify(result, null, 2) : formatChanges(result));
  return 0;
}
