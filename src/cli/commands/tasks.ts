/** `tickwork tasks list|get|create|update|delete|enable|disable|apply`: the task's own fields. */
import { readFileSync } from 'node:fs';
import { runApply } from '../apply.js';
import { int, type Options, parseParams, text, UsageError, type Values } from '../args.js';
import { allPages } from '../client.js';
import type { Command } from '../command.js';
import { emit, printTask, taskTable } from '../print.js';

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
  idempotent: { type: 'boolean' },
  'list-succeeded': { type: 'string' },
  'max-runs': { type: 'string' },
  'must-succeed-every': { type: 'string' },
  description: { type: 'string' },
  hidden: { type: 'boolean' },
  disabled: { type: 'boolean' },
} satisfies Options;

const TASK_FIELD_HELP = `  --file, -f <path|->     task JSON (fields as POST /tasks); flags below override it
  --name <text>  --type <Type>  --schedule "<expr>"  --tz <IANA zone>
  --param k=v             a parameter (value read as JSON when it parses, else text); repeatable
  --overlap skip|queue-one|allow|replace   --catch-up run-once|skip|run-all
  --priority <n>  --timeout <seconds>  --max-attempts <n>  --backoff-seconds <n>
  --stop-on-error  --max-runs <n>  --description <text>  --hidden  --disabled
  --must-succeed-every <duration|none>   a dead-man promise (26h, 90m, 2d; at least 1m): the
                          tick emits Tickwork Task Overdue when no run succeeded within it; none removes it
  --idempotent            the body may run twice for a slot: one write a run fewer, no exactly-once start
  --list-succeeded yes|no|default   list successful runs in runs across tasks (tickwork runs list);
                          every run stays in the task's history. default: all but the scheduled
                          slots of a task due every minute or more often; yes costs one write a run more`;

/** The task JSON of `--file` (a path, or `-` for stdin), or an empty object. */
function fileBody(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  const source = readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    return JSON.parse(source) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`);
  }
}

/** `--list-succeeded yes|no|default`: true, false, or null (back to the default listing). */
function listSucceededOf(values: Values): boolean | null | undefined {
  const given = text(values['list-succeeded']);
  if (given === undefined) return undefined;
  if (given === 'yes') return true;
  if (given === 'no') return false;
  if (given === 'default') return null;
  throw new UsageError(`--list-succeeded takes yes, no or default, not "${given}"`);
}

/** The task fields given by `--file` and flags (only those given), as the API names them. */
export function taskBody(values: Values): Record<string, unknown> {
  const body = fileBody(text(values.file));
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
  const every = text(values['must-succeed-every']);
  set('mustSucceedEvery', every === 'none' ? null : every);
  set('description', values.description);
  set('hidden', values.hidden);
  set('stopOnError', values['stop-on-error']);
  set('idempotent', values.idempotent);
  set('listSucceeded', listSucceededOf(values));
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

const list: Command = {
  name: 'tasks list',
  usage: 'tickwork tasks list [--all] [--limit <n>]',
  summary: 'List tasks (--all includes hidden ones)',
  options: { all: { type: 'boolean' }, limit: { type: 'string' } },
  args: 0,
  async run(ctx, _args, values) {
    const items = await allPages(
      (nextToken) => ctx.client().listTasks({ limit: 100, includeHidden: values.all === true, nextToken }),
      int(values.limit, 'limit'),
    );
    emit(ctx, items, (wide) => taskTable(items, wide));
    return 0;
  },
};

const get: Command = {
  name: 'tasks get',
  usage: 'tickwork tasks get <id>',
  summary: 'Show one task with its current run and next slots',
  args: 1,
  async run(ctx, [id]) {
    printTask(ctx, await ctx.client().getTask(id as string));
    return 0;
  },
};

const create: Command = {
  name: 'tasks create',
  usage: 'tickwork tasks create [--id <id>] --name <text> --type <Type> --schedule "<expr>" [options]',
  details: TASK_FIELD_HELP,
  summary: 'Create a task',
  options: { id: { type: 'string' }, ...taskFieldOptions },
  args: 0,
  async run(ctx, _args, values) {
    const body = taskBody(values);
    if (typeof values.id === 'string') body.id = values.id;
    // `--list-succeeded default` on a new task is the default: nothing to send.
    if (body.listSucceeded === null) delete body.listSucceeded;
    printTask(ctx, await ctx.client().createTask(body));
    return 0;
  },
};

const update: Command = {
  name: 'tasks update',
  usage: 'tickwork tasks update <id> [--if-match <version>] [options]',
  details: `${TASK_FIELD_HELP}\n  --enabled               enable the task`,
  summary: 'Change some fields of a task',
  options: { 'if-match': { type: 'string' }, enabled: { type: 'boolean' }, ...taskFieldOptions },
  args: 1,
  async run(ctx, [id], values) {
    const body = taskBody(values);
    if (values.enabled) body.enabled = true;
    if (Object.keys(body).length === 0) throw new UsageError('nothing to change: give at least one field');
    printTask(ctx, await ctx.client().updateTask(id as string, body, int(values['if-match'], 'if-match')));
    return 0;
  },
};

const remove: Command = {
  name: 'tasks delete',
  usage: 'tickwork tasks delete <id> [--force]',
  summary: 'Delete a task and its history (--force cancels an active run first)',
  options: { force: { type: 'boolean' } },
  args: 1,
  async run(ctx, [id], values) {
    await ctx.client().deleteTask(id as string, { force: values.force === true });
    emit(ctx, { deleted: id }, () => `deleted ${id}`, { compact: true });
    return 0;
  },
};

/** `tasks enable` and `tasks disable`: one PATCH of `enabled`. */
function toggle(enabled: boolean, summary: string): Command {
  const verb = enabled ? 'enable' : 'disable';
  return {
    name: `tasks ${verb}`,
    usage: `tickwork tasks ${verb} <id>`,
    summary,
    args: 1,
    async run(ctx, [id]) {
      printTask(ctx, await ctx.client().updateTask(id as string, { enabled }));
      return 0;
    },
  };
}

/** `tasks apply`: tasks as code (docs/tasks-as-code.md). */
const apply: Command = {
  name: 'tasks apply',
  usage: 'tickwork tasks apply -f <file|-> [--dry-run]',
  details:
    '  JSON or YAML: {"tasks": [...]} or a bare list of declarations (fields as POST /tasks, id required)',
  summary: 'Apply task declarations: create absent tasks, set the declared fields of the others',
  options: { file: { type: 'string', short: 'f' }, 'dry-run': { type: 'boolean' } },
  args: 0,
  async run(ctx, _args, values) {
    const file = text(values.file);
    if (file === undefined) throw new UsageError('give the declarations file: -f <file>');
    return runApply(
      ctx.client(),
      { file, dryRun: values['dry-run'] === true, json: ctx.output === 'json' },
      ctx.io,
    );
  },
};

/** The `tasks` commands. */
export const taskCommands: Command[] = [
  list,
  get,
  create,
  update,
  remove,
  toggle(true, 'Enable a task (its schedule restarts from now)'),
  toggle(false, 'Disable a task (no scheduled runs; manual runs still work)'),
  apply,
];
