/**
 * Tasks as code: applying declarations (docs/tasks-as-code.md). A declaration names a task by id;
 * applying it creates the task when absent, and otherwise sets the fields the declaration gives
 * and leaves every other field as it is, so an administrator's edit of a field the declaration
 * does not set survives. Built on the task service's create and patch, so a declaration is
 * validated exactly as `POST /tasks` validates a task, and written by the same compare-and-set.
 *
 * The HTTP API (`POST /tasks/apply`, the CLI's `tickwork tasks apply`) and the deploy path (the
 * construct's custom resources, `deploy-event.ts`) both come here; only the deploy path may set
 * `system` or change a system task.
 */

import type { Actor } from '../core/audit.js';
import {
  ReadOnlyTaskError,
  TaskNotFoundError,
  TickworkError,
  ValidationError,
  type ValidationIssue,
} from '../core/errors.js';
import type { TaskState } from '../core/model.js';
import type { ApiDeps } from './deps.js';
import { ApiError, type ErrorCode, errorCodes } from './errors.js';
import type { TaskDeclaration, TaskInput } from './schemas.js';
import { createTask, deleteTask, patchTask, type SystemPatch, type WriteOptions } from './task-service.js';

/** Who applies: an HTTP client, or a deploy (the only one that may write system tasks). */
export type ApplySource = 'http' | 'deploy';

export interface ApplyOptions {
  source: ApplySource;
  /** Who applies, for the audit trail (a deploy is `cloudformation`). */
  actor?: Actor;
  /** Validate and list the changes, write nothing. */
  dryRun?: boolean;
}

/** What applying one declaration did (or, in a dry run, would do). */
export type ApplyAction = 'created' | 'updated' | 'unchanged';

/** A declared field's value before and after, as the task view shows it (`null` when absent). */
export interface FieldChange {
  from: unknown;
  to: unknown;
}

export interface TaskChange {
  id: string;
  action: ApplyAction;
  /** For `updated`: each declared field that changed. */
  fields?: Record<string, FieldChange>;
}

export interface ApplyResult {
  dryRun: boolean;
  changes: TaskChange[];
}

/** Attempts at one declaration when the task is created or deleted under our feet. */
const APPLY_ATTEMPTS = 3;

/** JSON with object keys sorted: equal for equal values whatever order their keys came in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** A field of a task as the task view shows it: times in ISO 8601, `null` when absent. */
function shown(task: TaskState, field: string): unknown {
  const value = (task as unknown as Record<string, unknown>)[field];
  if (value instanceof Date) return value.toISOString();
  return value === undefined ? null : value;
}

/** The fields a declaration gives, besides its id. */
function declaredFields(declaration: TaskDeclaration): string[] {
  return Object.entries(declaration)
    .filter(([key, value]) => key !== 'id' && value !== undefined)
    .map(([key]) => key);
}

function fieldChanges(before: TaskState, after: TaskState, fields: string[]): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  for (const field of fields) {
    const from = shown(before, field);
    const to = shown(after, field);
    if (canonicalJson(from) !== canonicalJson(to)) changes[field] = { from, to };
  }
  return changes;
}

/** The declaration as a patch, limited to `only` when given. */
function patchOf(declaration: TaskDeclaration, only?: ReadonlySet<string>): SystemPatch {
  const { id: _, ...fields } = declaration;
  if (!only) return fields;
  return Object.fromEntries(Object.entries(fields).filter(([key]) => only.has(key))) as SystemPatch;
}

function inputOf(declaration: TaskDeclaration): TaskInput {
  const { mustSucceedEvery, ...fields } = declaration;
  return {
    ...fields,
    name: declaration.name ?? declaration.id,
    ...(mustSucceedEvery !== null && mustSucceedEvery !== undefined ? { mustSucceedEvery } : {}),
  };
}

/**
 * Applies one declaration. `only` limits an update to these fields (those a dry run found
 * changed), so that a field whose stored spelling differs from the declared one but means the
 * same (a time zone's letter case, a trailing space) is never rewritten.
 */
async function applyOne(
  deps: ApiDeps,
  declaration: TaskDeclaration,
  write: WriteOptions,
  only?: ReadonlySet<string>,
): Promise<TaskChange> {
  const { id } = declaration;
  for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
    const current = await deps.store.getTask(id);
    if (!current) {
      try {
        await createTask(deps, inputOf(declaration), write);
        return { id, action: 'created' };
      } catch (error) {
        // Created meanwhile by someone else: apply as an update.
        if (error instanceof ApiError && error.code === 'conflict' && !write.dryRun) continue;
        throw error;
      }
    }
    // A system task through HTTP: fine while the declaration changes nothing, refused otherwise.
    const readOnly = current.system && !write.deploy;
    try {
      const { before, after } = await patchTask(
        deps,
        id,
        patchOf(declaration, only),
        readOnly ? { deploy: true, dryRun: true } : write,
      );
      const fields = fieldChanges(before, after, declaredFields(declaration));
      if (Object.keys(fields).length === 0) return { id, action: 'unchanged' };
      if (readOnly) throw new ReadOnlyTaskError(id);
      return { id, action: 'updated', fields };
    } catch (error) {
      if (error instanceof TaskNotFoundError) continue; // deleted meanwhile: create it
      throw error;
    }
  }
  throw new ApiError('conflict', `task ${id} kept being created or deleted while applying it; try again`);
}

/** An error about one declaration, its message and fields naming the declaration. */
function inDeclaration(error: unknown, index: number, id: string): unknown {
  if (!(error instanceof TickworkError)) return error;
  const code = error.code as ErrorCode;
  if (!(code in errorCodes)) return error;
  const issues: ValidationIssue[] =
    error instanceof ApiError ? error.details : error instanceof ValidationError ? error.issues : [];
  return new ApiError(
    code,
    `task ${id}: ${error.message}`,
    issues.map((issue) => ({ field: `tasks.${index}.${issue.field}`, message: issue.message })),
    { cause: error },
  );
}

/** Refusals that need no read: an id declared twice, `system` set through HTTP. */
function checkDeclarations(declarations: TaskDeclaration[], source: ApplySource): void {
  const seen = new Map<string, number>();
  const duplicates: ValidationIssue[] = [];
  for (const [index, { id, system }] of declarations.entries()) {
    if (system === true && source !== 'deploy') {
      throw new ApiError(
        'task_read_only',
        `task ${id}: system tasks are declared by a deploy; \`system: true\` cannot be applied through the API`,
        [{ field: `tasks.${index}.system`, message: 'is set only by a deploy' }],
      );
    }
    const first = seen.get(id);
    if (first === undefined) seen.set(id, index);
    else
      duplicates.push({
        field: `tasks.${index}.id`,
        message: `declares ${id} again (first at tasks.${first})`,
      });
  }
  if (duplicates.length > 0) {
    throw new ApiError('validation_failed', 'a task is declared more than once', duplicates);
  }
}

/**
 * Applies task declarations: each is created when absent, else the fields it gives are set (the
 * others are left as they are). Every declaration is first checked and diffed without writing,
 * so one refused declaration (bad schedule, unknown type, a system task through HTTP) leaves
 * every task as it was; then the changed ones are written, each by compare-and-set. A dry run
 * stops after the check and returns the changes it found.
 *
 * @example
 * const { changes } = await applyTasks(deps, [{ id: 'nightly-report', type: 'Acme.Report', schedule: '0 6 * * *' }], { source: 'http' });
 * // [{ id: 'nightly-report', action: 'created' }]
 */
export async function applyTasks(
  deps: ApiDeps,
  declarations: TaskDeclaration[],
  options: ApplyOptions,
): Promise<ApplyResult> {
  checkDeclarations(declarations, options.source);
  const deploy = options.source === 'deploy';
  const audit = {
    via: deploy ? ('deploy' as const) : ('apply' as const),
    actor: options.actor ?? (deploy ? deployActor : undefined),
  };
  const planned: TaskChange[] = [];
  for (const [index, declaration] of declarations.entries()) {
    try {
      planned.push(await applyOne(deps, declaration, { deploy, dryRun: true }));
    } catch (error) {
      throw inDeclaration(error, index, declaration.id);
    }
  }
  if (options.dryRun) return { dryRun: true, changes: planned };

  const changes: TaskChange[] = [];
  for (const [index, declaration] of declarations.entries()) {
    const plan = planned[index] as TaskChange;
    if (plan.action === 'unchanged') {
      changes.push(plan);
      continue;
    }
    const only = plan.fields ? new Set(Object.keys(plan.fields)) : undefined;
    try {
      changes.push(await applyOne(deps, declaration, { deploy, ...audit }, only));
    } catch (error) {
      throw inDeclaration(error, index, declaration.id);
    }
  }
  return { dryRun: false, changes };
}

/** The actor of a deploy's changes in the audit trail. */
export const deployActor: Actor = { kind: 'deploy', id: 'cloudformation' };

/**
 * Deletes a task whose declaration was removed (the deploy path): active runs are asked to
 * cancel first, and a task that is already gone is fine.
 */
export async function deleteDeclaredTask(deps: ApiDeps, taskId: string): Promise<{ deleted: boolean }> {
  try {
    await deleteTask(deps, taskId, {
      force: true,
      ifMatch: undefined,
      deploy: true,
      via: 'deploy',
      actor: deployActor,
    });
    return { deleted: true };
  } catch (error) {
    if (error instanceof TaskNotFoundError) return { deleted: false };
    throw error;
  }
}
