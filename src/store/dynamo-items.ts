/**
 * Keys, attribute names and (un)marshalling of Tickwork's items: the only place that knows how
 * the domain is laid out in the table. Free of the AWS SDK, so the in-memory store stores the
 * very same items and behaves the same way, down to rounding.
 *
 * Layout (see `docs/architecture.md`):
 * ```
 *  pk                 sk              item
 *  TASK#<taskId>      TASK            task descriptor + scheduling state (+ dueShard/dueAt when due)
 *  TASK#<taskId>      RUN#<runId>     run record (runIds are ULIDs: a Query is newest first)
 *  TYPES              TYPE#<name>     registered task type (one partition: listed by one Query)
 *  SCHEDULER          STATE           the scheduler's state
 *  AUDIT#TASK#<id>    AUDIT#<entryId> audit entry of a task (kind AUDIT, id <entryId>: in the list index)
 *  AUDIT#SCHEDULER    AUDIT#<entryId> audit entry of a pause or resume
 * ```
 * Dates are epoch milliseconds, except `expiresAt` on run items: epoch seconds, for TTL.
 */

import type { Actor, AuditAction, AuditEntry, AuditVia, FieldChange } from '../core/audit.js';
import { DEFAULT_DUE_KEY_HOLD_MS, dueIndexKey, shardOf } from '../core/due.js';
import { ValidationError } from '../core/errors.js';
import type {
  ActiveRun,
  CatchUpPolicy,
  JsonSchema,
  OverlapPolicy,
  Parameters,
  PendingRun,
  Progress,
  RunError,
  RunRecord,
  RunStatus,
  SchedulerState,
  SlotSpan,
  TaskState,
  TaskSummary,
  TaskType,
  Trigger,
} from '../core/model.js';
import type {
  BackfillJob,
  IdempotencyRecord,
  RunClaim,
  RunFence,
  RunListing,
  RunOutcome,
  RunSummary,
} from '../core/ports.js';
import { RUN_INDEX_SHARDS, tableDefinition } from './table-definition.js';

/** An item as the DynamoDB document client reads and writes it. */
export type Item = Record<string, unknown>;

/** The primary key of an item. */
export interface ItemKey {
  pk: string;
  sk: string;
}

/** Attribute names the stores' conditions and updates refer to. */
export const attr = {
  pk: tableDefinition.partitionKey.name,
  sk: tableDefinition.sortKey.name,
  dueShard: tableDefinition.dueIndex.partitionKey.name,
  dueAt: tableDefinition.dueIndex.sortKey.name,
  kind: tableDefinition.taskIndex.partitionKey.name,
  id: tableDefinition.taskIndex.sortKey.name,
  runPart: tableDefinition.runIndex.partitionKey.name,
  runId: tableDefinition.runIndex.sortKey.name,
  version: 'version',
  status: 'status',
  token: 'token',
  requestId: 'requestId',
  leaseExpiresAt: 'leaseExpiresAt',
  heartbeatAt: 'heartbeatAt',
  cancelRequested: 'cancelRequested',
  progress: 'progress',
  expiresAt: tableDefinition.ttlAttribute,
} as const;

const TASK_PREFIX = 'TASK#';
const RUN_PREFIX = 'RUN#';
const TYPE_PREFIX = 'TYPE#';
const IDEMPOTENCY_PREFIX = 'IDEMPOTENCY#';
/** Sort key prefix of backfill jobs (in the `SCHEDULER` partition). */
export const BACKFILL_PREFIX = 'BACKFILL#';

/**
 * The run index's partition of a run in this state: `<status>#<shard>`, the shard a hash of the
 * run id, so one busy state (every completion writes `succeeded`) spreads over
 * {@link RUN_INDEX_SHARDS} partitions.
 */
export function runPartOf(runId: string, status: RunStatus): string {
  return `${status}#${shardOf(runId, RUN_INDEX_SHARDS)}`;
}

/** Sort key of task items. */
export const TASK_SK = 'TASK';
/** Partition key of task type items. */
export const TYPES_PK = 'TYPES';
/** Value of the task list index's partition key on task items. */
export const TASK_KIND = 'TASK';
/** Sort key prefix of run items. */
export const RUN_SK_PREFIX = RUN_PREFIX;

/** Key builders. */
export const keys = {
  task: (taskId: string): ItemKey => ({ pk: `${TASK_PREFIX}${taskId}`, sk: TASK_SK }),
  run: (taskId: string, runId: string): ItemKey => ({
    pk: `${TASK_PREFIX}${taskId}`,
    sk: `${RUN_PREFIX}${runId}`,
  }),
  taskType: (name: string): ItemKey => ({ pk: TYPES_PK, sk: `${TYPE_PREFIX}${name}` }),
  scheduler: (): ItemKey => ({ pk: 'SCHEDULER', sk: 'STATE' }),
  /** A backfill in progress, in the scheduler's partition (one Query lists them all). */
  backfill: (taskId: string, backfillId: string): ItemKey => ({
    pk: 'SCHEDULER',
    sk: `${BACKFILL_PREFIX}${taskId}#${backfillId}`,
  }),
  /** A run-now idempotency key, in its task's partition (and gone with the TTL). */
  idempotency: (taskId: string, key: string): ItemKey => ({
    pk: `${TASK_PREFIX}${taskId}`,
    sk: `${IDEMPOTENCY_PREFIX}${key}`,
  }),
};

/** The item that ties a run-now idempotency key to the run it started. */
export function idempotencyToItem(record: IdempotencyRecord): Item {
  return {
    ...keys.idempotency(record.taskId, record.key),
    runId: record.runId,
    [attr.expiresAt]: Math.ceil(record.expiresAt.getTime() / 1000),
  };
}

/** The run an idempotency item names, unless its TTL has passed (DynamoDB deletes lazily). */
export function runIdOfIdempotency(item: Item | undefined, now: Date): string | undefined {
  if (!item || typeof item.runId !== 'string') return undefined;
  const expiresAt = item[attr.expiresAt];
  return typeof expiresAt === 'number' && expiresAt * 1000 <= now.getTime() ? undefined : item.runId;
}

/** The primary key of an item (drops every other attribute). */
export function keyOf(item: Item): ItemKey {
  const { pk, sk } = item;
  if (typeof pk !== 'string' || typeof sk !== 'string') throw new Error('item without a string pk/sk');
  return { pk, sk };
}

// ---------------------------------------------------------------------------------------------
// Page tokens: base64url of the JSON of the key to continue after. The same in both stores.

/** Encodes the key of the last item of a page as an opaque `nextToken`. */
export function encodePageToken(key: ItemKey): string {
  return Buffer.from(JSON.stringify({ pk: key.pk, sk: key.sk }), 'utf8').toString('base64url');
}

/**
 * Decodes a `nextToken` and checks it is a key this list could have produced.
 * @throws ValidationError (field `nextToken`) for anything else: a client error, never a crash.
 */
export function decodePageToken(token: string, accepts: (key: ItemKey) => boolean): ItemKey {
  const invalid = () =>
    new ValidationError([{ field: 'nextToken', message: 'is not a token this list returned' }]);
  if (!/^[A-Za-z0-9_-]+$/.test(token) || token.length > 4096) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch (cause) {
    throw new ValidationError([{ field: 'nextToken', message: 'is not a token this list returned' }], {
      cause,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  const { pk, sk, ...rest } = parsed as Record<string, unknown>;
  if (typeof pk !== 'string' || typeof sk !== 'string' || Object.keys(rest).length > 0) throw invalid();
  const key = { pk, sk };
  if (!accepts(key)) throw invalid();
  return key;
}

/** Whether a key is a task item's: what a `listTasks` token may hold. */
export function isTaskKey(key: ItemKey): boolean {
  return key.sk === TASK_SK && key.pk.startsWith(TASK_PREFIX) && key.pk.length > TASK_PREFIX.length;
}

/** Whether a key is one of this task's run items: what a `listRuns` token may hold. */
export function isRunKeyOf(taskId: string, key: ItemKey): boolean {
  return (
    key.pk === keys.task(taskId).pk && key.sk.startsWith(RUN_PREFIX) && key.sk.length > RUN_PREFIX.length
  );
}

// ---------------------------------------------------------------------------------------------
// Marshalling helpers

const ms = (date: Date | undefined): number | undefined => date?.getTime();

/** Drops `undefined` values, so optional fields are absent from items, not `NULL`. */
function compact<T extends Item>(item: T): T {
  for (const key of Object.keys(item)) if (item[key] === undefined) delete item[key];
  return item;
}

/** Typed reads from an item; a missing or mistyped required attribute is a corrupt item. */
class Reader {
  constructor(
    private readonly item: Item,
    private readonly where: string,
  ) {}
  private fail(name: string, kind: string): never {
    throw new Error(`corrupt item ${this.where}: ${name} is not ${kind}`);
  }
  str(name: string): string {
    const v = this.item[name];
    return typeof v === 'string' ? v : this.fail(name, 'a string');
  }
  optStr(name: string): string | undefined {
    return this.item[name] === undefined ? undefined : this.str(name);
  }
  num(name: string): number {
    const v = this.item[name];
    return typeof v === 'number' ? v : this.fail(name, 'a number');
  }
  optNum(name: string): number | undefined {
    return this.item[name] === undefined ? undefined : this.num(name);
  }
  bool(name: string): boolean {
    const v = this.item[name];
    return typeof v === 'boolean' ? v : this.fail(name, 'a boolean');
  }
  optBool(name: string): boolean | undefined {
    return this.item[name] === undefined ? undefined : this.bool(name);
  }
  date(name: string): Date {
    return new Date(this.num(name));
  }
  optDate(name: string): Date | undefined {
    return this.item[name] === undefined ? undefined : this.date(name);
  }
  map(name: string): Item {
    const v = this.item[name];
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Item) : this.fail(name, 'a map');
  }
  optMap(name: string): Item | undefined {
    return this.item[name] === undefined ? undefined : this.map(name);
  }
  list(name: string): Item[] {
    const v = this.item[name];
    return Array.isArray(v) ? (v as Item[]) : this.fail(name, 'a list');
  }
  sub(name: string): Reader {
    return new Reader(this.map(name), `${this.where}.${name}`);
  }
}

function errorToMap(error: RunError | undefined): Item | undefined {
  return error && compact({ name: error.name, message: error.message, stack: error.stack });
}

function errorFromMap(map: Item | undefined, where: string): RunError | undefined {
  if (!map) return undefined;
  const r = new Reader(map, where);
  const error: RunError = { name: r.str('name'), message: r.str('message') };
  const stack = r.optStr('stack');
  if (stack !== undefined) error.stack = stack;
  return error;
}

function progressToMap(progress: Progress | undefined): Item | undefined {
  return (
    progress &&
    compact({
      value: progress.value,
      max: progress.max,
      message: progress.message,
      updatedAt: ms(progress.updatedAt),
    })
  );
}

function progressFromMap(map: Item | undefined, where: string): Progress | undefined {
  if (!map) return undefined;
  const r = new Reader(map, where);
  const progress: Progress = { value: r.num('value'), updatedAt: r.date('updatedAt') };
  const max = r.optNum('max');
  const message = r.optStr('message');
  if (max !== undefined) progress.max = max;
  if (message !== undefined) progress.message = message;
  return progress;
}

/** Copies the keys whose value is defined: `Object.assign` for optional fields. */
function assignDefined<T extends object>(target: T, source: Partial<T>): T {
  for (const [key, value] of Object.entries(source)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

// ---------------------------------------------------------------------------------------------
// Tasks

/**
 * The item of a task. It carries the due index's keys (`dueShard`, `dueAt`) only when
 * `dueAtOf(task)` is defined, which keeps idle tasks out of the sparse index; the key itself is
 * `dueIndexKey` (held for a task due again within `holdMs`).
 */
export function taskToItem(task: TaskState, shardCount: number, holdMs = DEFAULT_DUE_KEY_HOLD_MS): Item {
  const due = dueIndexKey(task, holdMs);
  return compact({
    ...keys.task(task.id),
    [attr.kind]: TASK_KIND,
    [attr.id]: task.id,
    name: task.name,
    type: task.type,
    schedule: task.schedule,
    timezone: task.timezone,
    enabled: task.enabled,
    priority: task.priority,
    parameters: task.parameters,
    overlap: task.overlap,
    catchUp: task.catchUp,
    catchUpMaxRuns: task.catchUpMaxRuns,
    catchUpWindowSeconds: task.catchUpWindowSeconds,
    retry: {
      maxAttempts: task.retry.maxAttempts,
      backoffSeconds: task.retry.backoffSeconds,
      maxBackoffSeconds: task.retry.maxBackoffSeconds,
    },
    stopOnError: task.stopOnError,
    // Stored only when set: a task of an earlier version reads as not idempotent, listed by default.
    idempotent: task.idempotent === true ? true : undefined,
    listSucceeded: task.listSucceeded,
    timeoutSeconds: task.timeoutSeconds,
    hidden: task.hidden,
    system: task.system,
    startAt: ms(task.startAt),
    endAt: ms(task.endAt),
    maxRuns: task.maxRuns,
    jitterSeconds: task.jitterSeconds,
    historyRetentionDays: task.historyRetentionDays,
    description: task.description,
    mustSucceedEvery: task.mustSucceedEvery,
    mustSucceedSetAt: ms(task.mustSucceedSetAt),
    lastSucceededAt: ms(task.lastSucceededAt),
    overdueReportedAt: ms(task.overdueReportedAt),
    version: task.version,
    createdAt: ms(task.createdAt),
    updatedAt: ms(task.updatedAt),
    nextSlotAt: ms(task.nextSlotAt),
    scheduledStarts: task.scheduledStarts,
    fence: task.fence,
    active: task.active.map((a) => ({
      runId: a.runId,
      token: a.token,
      scheduledFor: ms(a.scheduledFor),
      dispatchedAt: ms(a.dispatchedAt),
      expiresAt: ms(a.expiresAt),
      attempt: a.attempt,
      trigger: a.trigger,
      parameters: a.parameters,
      ...spanToItem(a),
      ...(a.replayOf !== undefined ? { replayOf: a.replayOf } : {}),
    })),
    pending: task.pending.map((p) => ({
      runId: p.runId,
      trigger: p.trigger,
      scheduledFor: ms(p.scheduledFor),
      notBefore: ms(p.notBefore),
      attempt: p.attempt,
      parameters: p.parameters,
      ...spanToItem(p),
      ...(p.replayOf !== undefined ? { replayOf: p.replayOf } : {}),
    })),
    summary: compact({
      lastRunAt: ms(task.summary.lastRunAt),
      lastStatus: task.summary.lastStatus,
      lastResult: task.summary.lastResult,
      lastError: errorToMap(task.summary.lastError),
      lastDurationMs: task.summary.lastDurationMs,
      runCount: task.summary.runCount,
    }),
    disabledReason: task.disabledReason,
    [attr.dueShard]: due === undefined ? undefined : String(shardOf(task.id, shardCount)),
    [attr.dueAt]: ms(due),
  });
}

function activeFromMap(entry: Item, where: string): ActiveRun {
  const a = new Reader(entry, where);
  return assignDefined<ActiveRun>(
    {
      runId: a.str('runId'),
      token: a.num('token'),
      scheduledFor: a.date('scheduledFor'),
      dispatchedAt: a.date('dispatchedAt'),
      expiresAt: a.date('expiresAt'),
      attempt: a.num('attempt'),
      trigger: a.str('trigger') as Trigger,
      parameters: a.map('parameters') as Parameters,
    },
    { replayOf: a.optStr('replayOf'), ...spanFromItem(a) },
  );
}

function pendingFromMap(entry: Item, where: string): PendingRun {
  const p = new Reader(entry, where);
  return assignDefined<PendingRun>(
    {
      runId: p.str('runId'),
      trigger: p.str('trigger') as Trigger,
      scheduledFor: p.date('scheduledFor'),
      notBefore: p.date('notBefore'),
      attempt: p.num('attempt'),
      parameters: p.map('parameters') as Parameters,
    },
    { replayOf: p.optStr('replayOf'), ...spanFromItem(p) },
  );
}

/** The task an item holds. */
export function taskFromItem(item: Item): TaskState {
  const r = new Reader(item, `${String(item.pk)}/${String(item.sk)}`);
  const retry = r.sub('retry');
  const summary = r.sub('summary');
  const task: TaskState = {
    id: r.str('id'),
    name: r.str('name'),
    type: r.str('type'),
    schedule: r.str('schedule'),
    timezone: r.str('timezone'),
    enabled: r.bool('enabled'),
    priority: r.num('priority'),
    parameters: r.map('parameters') as Parameters,
    overlap: r.str('overlap') as OverlapPolicy,
    catchUp: r.str('catchUp') as CatchUpPolicy,
    catchUpMaxRuns: r.num('catchUpMaxRuns'),
    catchUpWindowSeconds: r.num('catchUpWindowSeconds'),
    retry: {
      maxAttempts: retry.num('maxAttempts'),
      backoffSeconds: retry.num('backoffSeconds'),
      maxBackoffSeconds: retry.num('maxBackoffSeconds'),
    },
    stopOnError: r.bool('stopOnError'),
    timeoutSeconds: r.num('timeoutSeconds'),
    hidden: r.bool('hidden'),
    system: r.bool('system'),
    jitterSeconds: r.num('jitterSeconds'),
    historyRetentionDays: r.num('historyRetentionDays'),
    version: r.num('version'),
    createdAt: r.date('createdAt'),
    updatedAt: r.date('updatedAt'),
    scheduledStarts: r.num('scheduledStarts'),
    fence: r.num('fence'),
    active: r.list('active').map((entry, i) => activeFromMap(entry, `task ${String(item.id)} active[${i}]`)),
    pending: r
      .list('pending')
      .map((entry, i) => pendingFromMap(entry, `task ${String(item.id)} pending[${i}]`)),
    summary: assignDefined<TaskSummary>(
      { runCount: summary.num('runCount') },
      {
        lastRunAt: summary.optDate('lastRunAt'),
        lastStatus: summary.optStr('lastStatus') as RunStatus | undefined,
        lastResult: summary.optStr('lastResult'),
        lastError: errorFromMap(summary.optMap('lastError'), 'summary.lastError'),
        lastDurationMs: summary.optNum('lastDurationMs'),
      },
    ),
  };
  return assignDefined(task, {
    startAt: r.optDate('startAt'),
    endAt: r.optDate('endAt'),
    maxRuns: r.optNum('maxRuns'),
    description: r.optStr('description'),
    nextSlotAt: r.optDate('nextSlotAt'),
    disabledReason: r.optStr('disabledReason'),
    mustSucceedEvery: r.optStr('mustSucceedEvery'),
    mustSucceedSetAt: r.optDate('mustSucceedSetAt'),
    lastSucceededAt: r.optDate('lastSucceededAt'),
    overdueReportedAt: r.optDate('overdueReportedAt'),
    dueKey: r.optDate(attr.dueAt),
    idempotent: r.optBool('idempotent') === true ? true : undefined,
    listSucceeded: r.optBool('listSucceeded'),
  });
}

/**
 * Top-level attributes a task item may go without (`taskToItem` leaves out what is undefined):
 * a batched save, an update rather than a put, removes those its new item lacks.
 */
export const optionalTaskAttributes: readonly string[] = [
  'startAt',
  'endAt',
  'maxRuns',
  'description',
  'nextSlotAt',
  'disabledReason',
  'mustSucceedEvery',
  'mustSucceedSetAt',
  'lastSucceededAt',
  'overdueReportedAt',
  'idempotent',
  'listSucceeded',
  attr.dueShard,
  attr.dueAt,
];

// ---------------------------------------------------------------------------------------------
// Runs

/** The attributes of a slot span (a run or record standing for several slots); none when absent. */
function spanToItem(span: SlotSpan): Item {
  return compact({
    firstSlotAt: ms(span.firstSlotAt),
    lastSlotAt: ms(span.lastSlotAt),
    slotCount: span.slotCount,
  });
}

/** A slot span read back; a record written before spans had bounds has a count alone. */
function spanFromItem(r: Reader): SlotSpan {
  return {
    firstSlotAt: r.optDate('firstSlotAt'),
    lastSlotAt: r.optDate('lastSlotAt'),
    slotCount: r.optNum('slotCount'),
  } as SlotSpan;
}

/** Epoch seconds for the TTL attribute (rounded down: TTL has a one-second grain). */
function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * The item of a run record; `expiresAt` becomes epoch seconds for TTL. A `running` record (a
 * claim's) has no run-index key yet: a run enters the index at its first heartbeat or when it
 * ends, so a short run's entry is written once, under its final key. An ended record written
 * `listed: false` has none either: it stays in its task's history only.
 */
export function runToItem(run: RunRecord, listing: RunListing = {}): Item {
  const indexed = run.status !== 'running' && listing.listed !== false;
  return compact({
    ...keys.run(run.taskId, run.runId),
    taskId: run.taskId,
    [attr.runId]: run.runId,
    type: run.type,
    [attr.status]: run.status,
    [attr.runPart]: indexed ? runPartOf(run.runId, run.status) : undefined,
    trigger: run.trigger,
    attempt: run.attempt,
    scheduledFor: ms(run.scheduledFor),
    dispatchedAt: ms(run.dispatchedAt),
    startedAt: ms(run.startedAt),
    finishedAt: ms(run.finishedAt),
    durationMs: run.durationMs,
    parameters: run.parameters,
    result: run.result,
    error: errorToMap(run.error),
    [attr.progress]: progressToMap(run.progress),
    [attr.token]: run.token,
    [attr.requestId]: run.requestId,
    [attr.leaseExpiresAt]: ms(run.leaseExpiresAt),
    [attr.heartbeatAt]: ms(run.heartbeatAt),
    [attr.cancelRequested]: run.cancelRequested,
    note: run.note,
    ...spanToItem(run),
    logs: run.logs,
    functionName: run.functionName,
    functionVersion: run.functionVersion,
    logStream: run.logStream,
    replayOf: run.replayOf,
    [attr.expiresAt]: epochSeconds(run.expiresAt),
  });
}

/** The run record an item holds. */
export function runFromItem(item: Item): RunRecord {
  const where = `${String(item.pk)}/${String(item.sk)}`;
  const r = new Reader(item, where);
  const run: RunRecord = {
    taskId: r.str('taskId'),
    runId: r.str('runId'),
    type: r.str('type'),
    status: r.str(attr.status) as RunStatus,
    trigger: r.str('trigger') as Trigger,
    attempt: r.num('attempt'),
    scheduledFor: r.date('scheduledFor'),
    parameters: r.map('parameters') as Parameters,
    expiresAt: new Date(r.num(attr.expiresAt) * 1000),
  };
  return assignDefined(run, {
    dispatchedAt: r.optDate('dispatchedAt'),
    startedAt: r.optDate('startedAt'),
    finishedAt: r.optDate('finishedAt'),
    durationMs: r.optNum('durationMs'),
    result: r.optStr('result'),
    error: errorFromMap(r.optMap('error'), `${where}.error`),
    progress: progressFromMap(r.optMap(attr.progress), `${where}.progress`),
    token: r.optNum(attr.token),
    requestId: r.optStr(attr.requestId),
    leaseExpiresAt: r.optDate(attr.leaseExpiresAt),
    heartbeatAt: r.optDate(attr.heartbeatAt),
    cancelRequested: r.optBool(attr.cancelRequested),
    note: r.optStr('note'),
    ...spanFromItem(r),
    logs: r.optStr('logs'),
    functionName: r.optStr('functionName'),
    functionVersion: r.optStr('functionVersion'),
    logStream: r.optStr('logStream'),
    replayOf: r.optStr('replayOf'),
  });
}

/** The run summary a run index item holds (the projected attributes). */
export function runSummaryFromItem(item: Item): RunSummary {
  const r = new Reader(item, `runs index ${String(item[attr.runPart])}/${String(item[attr.runId])}`);
  const run: RunSummary = {
    taskId: r.str('taskId'),
    runId: r.str(attr.runId),
    type: r.str('type'),
    status: r.str(attr.status) as RunStatus,
    trigger: r.str('trigger') as Trigger,
    attempt: r.num('attempt'),
    scheduledFor: r.date('scheduledFor'),
  };
  return assignDefined(run, {
    dispatchedAt: r.optDate('dispatchedAt'),
    startedAt: r.optDate('startedAt'),
    finishedAt: r.optDate('finishedAt'),
    durationMs: r.optNum('durationMs'),
    slotCount: r.optNum('slotCount'),
    replayOf: r.optStr('replayOf'),
  });
}

/** What the run index holds of an item: its keys and projected attributes (as DynamoDB projects). */
export function runIndexProjection(item: Item): Item {
  const index = tableDefinition.runIndex;
  const names = [attr.pk, attr.sk, attr.runPart, attr.runId, ...index.nonKeyAttributes];
  const out: Item = {};
  for (const name of names) if (item[name] !== undefined) out[name] = item[name];
  return out;
}

/** The `running` record a claim creates. */
export function runFromClaim(claim: RunClaim): RunRecord {
  const run: RunRecord = {
    taskId: claim.taskId,
    runId: claim.runId,
    type: claim.type,
    status: 'running',
    trigger: claim.trigger,
    attempt: claim.attempt,
    scheduledFor: claim.scheduledFor,
    startedAt: claim.startedAt,
    parameters: claim.parameters,
    token: claim.token,
    requestId: claim.requestId,
    leaseExpiresAt: claim.leaseExpiresAt,
    expiresAt: claim.expiresAt,
  };
  return assignDefined(run, {
    dispatchedAt: claim.dispatchedAt,
    logs: claim.logs,
    replayOf: claim.replayOf,
    functionName: claim.functionName,
    functionVersion: claim.functionVersion,
    logStream: claim.logStream,
    firstSlotAt: claim.firstSlotAt,
    lastSlotAt: claim.lastSlotAt,
    slotCount: claim.slotCount,
  });
}

/**
 * Attributes a heartbeat sets; the run-index key of `running`, which the first heartbeat adds (an
 * index write) and later ones set to the value it has (none).
 */
export function heartbeatAttributes(
  runId: string,
  update: { now: Date; leaseExpiresAt: Date; progress?: Progress },
): Item {
  return compact({
    [attr.runPart]: runPartOf(runId, 'running'),
    [attr.heartbeatAt]: ms(update.now),
    [attr.leaseExpiresAt]: ms(update.leaseExpiresAt),
    [attr.progress]: progressToMap(update.progress),
  });
}

/**
 * Attributes a completion sets. `cancelReason` has no place on a run record (the task SDK puts
 * the why in `note`), so it is not stored. With `listed: false` there is no run-index key among
 * them: the completion must remove the one a heartbeat set (`running#<shard>`).
 */
export function outcomeAttributes(outcome: RunOutcome, runId: string, listing: RunListing = {}): Item {
  return compact({
    [attr.status]: outcome.status,
    [attr.runPart]: listing.listed === false ? undefined : runPartOf(runId, outcome.status),
    finishedAt: ms(outcome.finishedAt),
    durationMs: outcome.durationMs,
    result: outcome.result,
    error: errorToMap(outcome.error),
    note: outcome.note,
    [attr.progress]: progressToMap(outcome.progress),
  });
}

/** Attributes of a `time-out` write that replace what a running record holds. */
const timeOutOverwrites: ReadonlySet<string> = new Set([
  attr.status,
  attr.runPart,
  'finishedAt',
  'durationMs',
  'note',
  'error',
]);

/**
 * Splits a `time-out` record into the attributes that overwrite a running record (its end) and
 * those written only where absent (its identity, which the claim already wrote), so the same
 * write creates a never-claimed record and ends a running one without losing its progress.
 */
export function timeOutAttributes(record: RunRecord): { overwrite: Item; ifAbsent: Item } {
  const overwrite: Item = {};
  const ifAbsent: Item = {};
  for (const [name, value] of Object.entries(runToItem(record))) {
    if (name === attr.pk || name === attr.sk) continue;
    if (timeOutOverwrites.has(name)) overwrite[name] = value;
    else ifAbsent[name] = value;
  }
  return { overwrite, ifAbsent };
}

/**
 * Whether a refused completion found this very completion already stored: the SDK retried a
 * write that had succeeded, or the task SDK completed twice. Completing is idempotent.
 */
export function isSameCompletion(current: RunRecord, fence: RunFence, outcome: RunOutcome): boolean {
  return (
    current.token === fence.token &&
    current.requestId === fence.requestId &&
    current.status === outcome.status &&
    current.finishedAt?.getTime() === outcome.finishedAt.getTime()
  );
}

// ---------------------------------------------------------------------------------------------
// Backfill jobs

export function backfillToItem(job: BackfillJob): Item {
  return {
    ...keys.backfill(job.taskId, job.backfillId),
    taskId: job.taskId,
    backfillId: job.backfillId,
    from: ms(job.from),
    to: ms(job.to),
    concurrency: job.concurrency,
    nextSlotAt: ms(job.nextSlotAt),
    queued: job.queued,
    total: job.total,
    createdAt: ms(job.createdAt),
  };
}

export function backfillFromItem(item: Item): BackfillJob {
  const r = new Reader(item, `${String(item.pk)}/${String(item.sk)}`);
  return {
    taskId: r.str('taskId'),
    backfillId: r.str('backfillId'),
    from: r.date('from'),
    to: r.date('to'),
    concurrency: r.num('concurrency'),
    nextSlotAt: r.date('nextSlotAt'),
    queued: r.num('queued'),
    total: r.num('total'),
    createdAt: r.date('createdAt'),
  };
}

// ---------------------------------------------------------------------------------------------
// Task types and the scheduler's state

export function taskTypeToItem(type: TaskType): Item {
  return compact({
    ...keys.taskType(type.name),
    name: type.name,
    functionName: type.functionName,
    description: type.description,
    timeoutSeconds: type.timeoutSeconds,
    // A string, not a map: a schema's keys ($schema, $ref) are not attribute names to query by.
    parametersSchema: type.parametersSchema === undefined ? undefined : JSON.stringify(type.parametersSchema),
  });
}

export function taskTypeFromItem(item: Item): TaskType {
  const r = new Reader(item, `${String(item.pk)}/${String(item.sk)}`);
  return assignDefined<TaskType>(
    { name: r.str('name'), functionName: r.str('functionName') },
    {
      description: r.optStr('description'),
      timeoutSeconds: r.optNum('timeoutSeconds'),
      parametersSchema: parseSchema(r.optStr('parametersSchema')),
    },
  );
}

function parseSchema(text: string | undefined): JsonSchema | undefined {
  if (text === undefined) return undefined;
  const value: unknown = JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('task type item: parametersSchema is not a JSON object');
  }
  return value as JsonSchema;
}

/** Attributes of a scheduler state update; fields given as `undefined` are left unchanged. */
export function schedulerAttributes(update: Partial<SchedulerState>): Item {
  return compact({
    paused: update.paused,
    lastTickAt: ms(update.lastTickAt),
    lastTickDurationMs: update.lastTickDurationMs,
    lastTickStarted: update.lastTickStarted,
  });
}

export function schedulerFromItem(item: Item | undefined): SchedulerState {
  if (!item) return { paused: false };
  const r = new Reader(item, 'SCHEDULER/STATE');
  return assignDefined<SchedulerState>(
    { paused: r.optBool('paused') ?? false },
    {
      lastTickAt: r.optDate('lastTickAt'),
      lastTickDurationMs: r.optNum('lastTickDurationMs'),
      lastTickStarted: r.optNum('lastTickStarted'),
    },
  );
}

// ---------------------------------------------------------------------------------------------
// The audit trail

const AUDIT_PREFIX = 'AUDIT#';
/** Value of the list index's partition key on audit items: the whole trail, by entry id. */
export const AUDIT_KIND = 'AUDIT';

/**
 * Audit entries live in partitions of their own, out of their task's (so deleting a task and its
 * history leaves them), one per task and one for the scheduler; each also carries the list
 * index's keys (`kind` AUDIT, `id` the entry's ULID), so the whole trail is one Query of that
 * index, newest first.
 */
export const auditKeys = {
  partition: (taskId: string | undefined): string =>
    `${AUDIT_PREFIX}${taskId === undefined ? 'SCHEDULER' : `${TASK_PREFIX}${taskId}`}`,
  entry: (taskId: string | undefined, entryId: string): ItemKey => ({
    pk: auditKeys.partition(taskId),
    sk: `${AUDIT_PREFIX}${entryId}`,
  }),
};

/** Whether a key is an audit item's (of `taskId`, when given): what a `listAudit` token may hold. */
export function isAuditKey(key: ItemKey, taskId?: string): boolean {
  if (!key.sk.startsWith(AUDIT_PREFIX) || key.sk.length === AUDIT_PREFIX.length) return false;
  return taskId === undefined ? key.pk.startsWith(AUDIT_PREFIX) : key.pk === auditKeys.partition(taskId);
}

/** The entry id an audit item's sort key holds. */
export function auditIdOf(key: ItemKey): string {
  return key.sk.slice(AUDIT_PREFIX.length);
}

/** The item of an audit entry; `changes` is a JSON string (any value, stored as given). */
export function auditToItem(entry: AuditEntry): Item {
  return compact({
    ...auditKeys.entry(entry.taskId, entry.id),
    [attr.kind]: AUDIT_KIND,
    [attr.id]: entry.id,
    at: ms(entry.at),
    actorKind: entry.actor.kind,
    actorId: entry.actor.id,
    actorName: entry.actor.name,
    action: entry.action,
    via: entry.via,
    taskId: entry.taskId,
    runId: entry.runId,
    changes: JSON.stringify(entry.changes),
    [attr.expiresAt]: Math.ceil(entry.expiresAt.getTime() / 1000),
  });
}

/** The audit entry an item holds. */
export function auditFromItem(item: Item): AuditEntry {
  const r = new Reader(item, `${String(item.pk)}/${String(item.sk)}`);
  const actor: Actor = assignDefined<Actor>(
    { kind: r.str('actorKind') as Actor['kind'], id: r.str('actorId') },
    { name: r.optStr('actorName') },
  );
  const changes: unknown = JSON.parse(r.str('changes'));
  if (!Array.isArray(changes))
    throw new Error(`corrupt audit item ${String(item.sk)}: changes is not a list`);
  return assignDefined<AuditEntry>(
    {
      id: r.str(attr.id),
      at: r.date('at'),
      actor,
      action: r.str('action') as AuditAction,
      via: r.str('via') as AuditVia,
      changes: changes as FieldChange[],
      expiresAt: new Date(r.num(attr.expiresAt) * 1000),
    },
    { taskId: r.optStr('taskId'), runId: r.optStr('runId') },
  );
}
