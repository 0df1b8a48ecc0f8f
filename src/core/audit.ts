/**
 * The audit trail: who did what to which task or run, when, and what it changed. Pure: the API
 * builds entries, the store writes each one together with the change it records.
 */
import type { TaskState } from './model.js';

/**
 * What was done. `run` is a run-now; `cancel` a cancel of a run (running or queued); `replay` a
 * new run of a recorded one; `backfill` the start of a backfill (its runs are queued as it goes).
 */
export const AuditAction = {
  Create: 'create',
  Update: 'update',
  Delete: 'delete',
  Run: 'run',
  Cancel: 'cancel',
  Pause: 'pause',
  Resume: 'resume',
  Replay: 'replay',
  Backfill: 'backfill',
} as const;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];

/** Every action, in the order the docs list them. */
export const auditActions: readonly AuditAction[] = Object.values(AuditAction);

/**
 * Who acted: a JWT's subject (`name` its username when the token has one), an IAM caller's ARN,
 * the local runtime (`local`), or a deploy (tasks as code through CloudFormation).
 */
export interface Actor {
  kind: 'jwt' | 'iam' | 'local' | 'deploy';
  id: string;
  name?: string;
}

/** Through which door the change came: the HTTP API, `POST /tasks/apply`, or a deploy. */
export type AuditVia = 'api' | 'apply' | 'deploy';

/** One field's value before and after (`null` when absent), as the task view shows it. */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** One recorded action. */
export interface AuditEntry {
  /** A ULID: entries sort by it, newest last. */
  id: string;
  at: Date;
  actor: Actor;
  action: AuditAction;
  via: AuditVia;
  /** The task acted on; absent for pause and resume. */
  taskId?: string;
  /** The run started, cancelled or replayed (the new run). */
  runId?: string;
  /**
   * What changed: field by field for create (before `null`), update (only changed fields) and
   * delete (after `null`); the run's parameters for a run-now that gave some; `replayOf` for a
   * replay; the range, concurrency and slot count for a backfill.
   */
  changes: FieldChange[];
  /** When the table's TTL may remove the entry. */
  expiresAt: Date;
}

/** How long entries are kept unless configured otherwise. */
export const DEFAULT_AUDIT_RETENTION_DAYS = 90;

/** The fields of a task an administrator sets (not its scheduling state). */
const descriptorFields = [
  'name',
  'type',
  'schedule',
  'timezone',
  'enabled',
  'priority',
  'parameters',
  'overlap',
  'catchUp',
  'catchUpMaxRuns',
  'catchUpWindowSeconds',
  'retry',
  'stopOnError',
  'idempotent',
  'listSucceeded',
  'timeoutSeconds',
  'hidden',
  'system',
  'startAt',
  'endAt',
  'maxRuns',
  'jitterSeconds',
  'historyRetentionDays',
  'mustSucceedEvery',
  'description',
] as const satisfies readonly (keyof TaskState)[];

/** A task's descriptor as JSON values: dates in ISO 8601, absent fields left out. */
export function taskDescriptor(task: TaskState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of descriptorFields) {
    const value = task[field];
    if (value === undefined) continue;
    out[field] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The fields that differ between two descriptors (either may be absent: a create or a delete),
 * in a stable order. Maps (`parameters`, `retry`) are compared one level down, so an edit of one
 * parameter is recorded as `parameters.<name>`, not as the whole map.
 */
export function diffFields(
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown> | undefined,
): FieldChange[] {
  const changes: FieldChange[] = [];
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
  for (const name of names) {
    const b = before?.[name];
    const a = after?.[name];
    if (canonical(b) === canonical(a)) continue;
    if (before && after && isPlainObject(b) && isPlainObject(a)) {
      for (const inner of diffFields(b, a)) changes.push({ ...inner, field: `${name}.${inner.field}` });
      continue;
    }
    changes.push({ field: name, before: b ?? null, after: a ?? null });
  }
  return changes;
}

/** What changed between two states of a task (either absent for a create or a delete). */
export function taskChanges(before: TaskState | undefined, after: TaskState | undefined): FieldChange[] {
  return diffFields(before && taskDescriptor(before), after && taskDescriptor(after));
}
