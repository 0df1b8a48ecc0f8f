/**
 * The in-memory adapter of the {@link TaskStore} port: the zero-setup fallback when Java (and so
 * DynamoDB Local) is missing, and a fast fake for unit tests. It stores the very items the
 * DynamoDB adapter writes (same marshalling, so the same rounding and the same sparse due index)
 * and evaluates the same conditions, synchronously, so every call is atomic. The store contract
 * suite runs against both.
 */
import type { AuditEntry } from '../core/audit.js';
import {
  isTerminal,
  type Progress,
  type RunRecord,
  type SchedulerState,
  type TaskState,
  type TaskType,
} from '../core/model.js';
import type {
  AuditOption,
  BackfillJob,
  CancelRequestResult,
  ClaimResult,
  CompleteResult,
  HeartbeatResult,
  IdempotencyRecord,
  IdempotencyResult,
  Page,
  RecordResult,
  RunClaim,
  RunFence,
  RunListing,
  RunOutcome,
  RunQuery,
  RunSummary,
  RunWrite,
  SaveTaskResult,
  StoreUsage,
  TaskStore,
} from '../core/ports.js';
import {
  AUDIT_KIND,
  attr,
  auditFromItem,
  auditIdOf,
  auditKeys,
  auditToItem,
  BACKFILL_PREFIX,
  backfillFromItem,
  backfillToItem,
  decodePageToken,
  encodePageToken,
  heartbeatAttributes,
  type Item,
  type ItemKey,
  idempotencyToItem,
  isAuditKey,
  isRunKeyOf,
  isSameCompletion,
  isTaskKey,
  keyOf,
  keys,
  outcomeAttributes,
  RUN_SK_PREFIX,
  runFromClaim,
  runFromItem,
  runIdOfIdempotency,
  runIndexProjection,
  runToItem,
  schedulerAttributes,
  schedulerFromItem,
  TASK_SK,
  TYPES_PK,
  taskFromItem,
  taskToItem,
  taskTypeFromItem,
  taskTypeToItem,
  timeOutAttributes,
} from './dynamo-items.js';
import { checkFormerShardCount, dueKeysOf } from './reshard-keys.js';
import { type PartitionRead, pageOfRuns, runKeyRange, runPartitions } from './run-index.js';
import {
  checkDistinct,
  checkHold,
  checkLimit,
  checkNextVersion,
  checkShardCount,
} from './store-invariants.js';

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const mapKey = (key: ItemKey) => `${key.pk}\u0000${key.sk}`;

/**
 * {@link TaskStore} in a `Map`. Values are copied in and out, so callers can never change
 * stored state by mutating what they passed or got.
 */
export class MemoryTaskStore implements TaskStore {
  readonly shardCount: number;
  private readonly formerShardCount: number | undefined;
  private readonly dueKeyHoldMs: number;
  private readonly items = new Map<string, Item>();

  constructor(options: { shardCount?: number; formerShardCount?: number; dueKeyHoldMs?: number } = {}) {
    this.shardCount = checkShardCount(options.shardCount);
    this.formerShardCount = checkFormerShardCount(options.formerShardCount);
    this.dueKeyHoldMs = checkHold(options.dueKeyHoldMs);
  }

  private get(key: ItemKey): Item | undefined {
    const item = this.items.get(mapKey(key));
    return item && structuredClone(item);
  }

  private put(item: Item): void {
    this.items.set(mapKey(keyOf(item)), structuredClone(item));
  }

  /** Items whose key matches, in key order. */
  private select(match: (key: ItemKey) => boolean): Item[] {
    const found: Item[] = [];
    for (const item of this.items.values()) if (match(keyOf(item))) found.push(structuredClone(item));
    return found.sort((a, b) => compareStrings(mapKey(keyOf(a)), mapKey(keyOf(b))));
  }

  // ------------------------------------------------------------------------------ idempotency keys

  async putIdempotencyKey(record: IdempotencyRecord, now: Date): Promise<IdempotencyResult> {
    const existing = runIdOfIdempotency(this.get(keys.idempotency(record.taskId, record.key)), now);
    if (existing !== undefined) return { created: false, runId: existing };
    this.put(idempotencyToItem(record));
    return { created: true };
  }

  async deleteIdempotencyKey(taskId: string, key: string): Promise<void> {
    this.items.delete(mapKey(keys.idempotency(taskId, key)));
  }

  // ------------------------------------------------------------------------------ task types

  async putTaskType(type: TaskType): Promise<void> {
    this.put(taskTypeToItem(type));
  }

  async listTaskTypes(): Promise<TaskType[]> {
    return this.select((k) => k.pk === TYPES_PK)
      .map(taskTypeFromItem)
      .sort((a, b) => compareStrings(a.name, b.name));
  }

  // ------------------------------------------------------------------------------ tasks

  async createTask(task: TaskState, options: AuditOption = {}): Promise<{ created: boolean }> {
    const item = taskToItem(task, this.shardCount, this.dueKeyHoldMs);
    if (this.get(keyOf(item))) return { created: false };
    this.put(item);
    this.putAudit(options.audit);
    return { created: true };
  }

  async getTask(taskId: string): Promise<TaskState | undefined> {
    const item = this.get(keys.task(taskId));
    return item && taskFromItem(item);
  }

  async getTasks(taskIds: readonly string[]): Promise<TaskState[]> {
    return [...new Set(taskIds)].flatMap((id) => {
      const item = this.get(keys.task(id));
      return item ? [taskFromItem(item)] : [];
    });
  }

  async listTasks(options: { limit: number; nextToken?: string }): Promise<Page<TaskState>> {
    checkLimit(options.limit);
    const after = options.nextToken === undefined ? undefined : decodePageToken(options.nextToken, isTaskKey);
    const all = this.select((k) => k.sk === TASK_SK && (after === undefined || k.pk > after.pk));
    const page = all.slice(0, options.limit);
    const last = page[page.length - 1];
    const items = page.map(taskFromItem);
    return all.length > options.limit && last
      ? { items, nextToken: encodePageToken(keyOf(last)) }
      : { items };
  }

  async saveTask(
    task: TaskState,
    options: { expectedVersion: number; runWrites?: RunWrite[] } & AuditOption,
  ): Promise<SaveTaskResult> {
    const { expectedVersion, runWrites = [] } = options;
    checkNextVersion(task, expectedVersion);
    const item = taskToItem(task, this.shardCount, this.dueKeyHoldMs);
    this.checkAudit(options.audit);
    const stored = this.items.get(mapKey(keyOf(item)));
    if (stored?.[attr.version] !== expectedVersion) return { saved: false, reason: 'version' };
    // Check every run write before applying any: all or nothing, like a transaction.
    const applied: Item[] = [];
    for (const write of runWrites) {
      const next = this.applyRunWrite(write);
      if (!next) return { saved: false, reason: 'run' };
      applied.push(next);
    }
    this.items.set(mapKey(keyOf(item)), structuredClone(item));
    for (const next of applied) this.items.set(mapKey(keyOf(next)), next);
    this.putAudit(options.audit);
    return { saved: true, task: taskFromItem(structuredClone(item)) };
  }

  async saveTasks(saves: { task: TaskState; expectedVersion: number }[]): Promise<SaveTaskResult[]> {
    checkDistinct(saves);
    for (const { task, expectedVersion } of saves) {
      checkNextVersion(task, expectedVersion);
    }
    const results: SaveTaskResult[] = [];
    for (const { task, expectedVersion } of saves)
      results.push(await this.saveTask(task, { expectedVersion }));
    return results;
  }

  /** The run item a write would leave, or `undefined` when its condition fails. Changes nothing. */
  private applyRunWrite(write: RunWrite): Item | undefined {
    const { record } = write;
    const key = keys.run(record.taskId, record.runId);
    const current = this.items.get(mapKey(key));
    if (write.kind === 'record') return current ? undefined : runToItem(structuredClone(record));
    const { overwrite, ifAbsent } = timeOutAttributes(record);
    if (current) {
      const lease = current[attr.leaseExpiresAt];
      const expired = typeof lease === 'number' && lease <= write.now.getTime();
      if (current[attr.status] !== 'running' || !expired) return undefined;
    }
    const next: Item = structuredClone(current ?? { ...key });
    for (const [name, value] of Object.entries(ifAbsent))
      if (!(name in next)) next[name] = structuredClone(value);
    Object.assign(next, structuredClone(overwrite));
    return next;
  }

  async deleteTask(
    taskId: string,
    options: { expectedVersion: number } & AuditOption,
  ): Promise<{ deleted: boolean }> {
    const key = keys.task(taskId);
    if (this.items.get(mapKey(key))?.[attr.version] !== options.expectedVersion) return { deleted: false };
    this.checkAudit(options.audit);
    this.items.delete(mapKey(key));
    this.putAudit(options.audit);
    for (const run of this.select((k) => k.pk === key.pk && k.sk.startsWith(RUN_SK_PREFIX))) {
      this.items.delete(mapKey(keyOf(run)));
    }
    return { deleted: true };
  }

  // ------------------------------------------------------------------------------ due index

  async queryDue(
    shard: number,
    now: Date,
    options: { limit?: number } = {},
  ): Promise<{ tasks: TaskState[]; usage: StoreUsage }> {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shardCount) {
      throw new RangeError(`shard ${shard} is not in 0..${this.shardCount - 1}`);
    }
    if (options.limit !== undefined) checkLimit(options.limit);
    const shardKeys = new Set(dueKeysOf(shard, this.shardCount, this.formerShardCount).map(String));
    const due = this.select((k) => k.sk === TASK_SK)
      .filter(
        (item) =>
          shardKeys.has(item[attr.dueShard] as string) && (item[attr.dueAt] as number) <= now.getTime(),
      )
      .sort((a, b) => (a[attr.dueAt] as number) - (b[attr.dueAt] as number));
    const tasks = due.slice(0, options.limit ?? due.length).map(taskFromItem);
    return { tasks, usage: { itemsRead: tasks.length, writes: 0 } };
  }

  // ------------------------------------------------------------------------------ runs

  async getRuns(
    runKeys: { taskId: string; runId: string }[],
  ): Promise<{ runs: Map<string, RunRecord>; usage: StoreUsage }> {
    const runs = new Map<string, RunRecord>();
    let itemsRead = 0;
    for (const { taskId, runId } of runKeys) {
      if (runs.has(runId)) continue;
      const item = this.get(keys.run(taskId, runId));
      if (!item) continue;
      runs.set(runId, runFromItem(item));
      itemsRead++;
    }
    return { runs, usage: { itemsRead, writes: 0 } };
  }

  async getRun(taskId: string, runId: string): Promise<RunRecord | undefined> {
    const item = this.get(keys.run(taskId, runId));
    return item && runFromItem(item);
  }

  async listRuns(taskId: string, options: { limit: number; nextToken?: string }): Promise<Page<RunRecord>> {
    checkLimit(options.limit);
    const after =
      options.nextToken === undefined
        ? undefined
        : decodePageToken(options.nextToken, (key) => isRunKeyOf(taskId, key));
    const pk = keys.task(taskId).pk;
    const all = this.select(
      (k) => k.pk === pk && k.sk.startsWith(RUN_SK_PREFIX) && (after === undefined || k.sk < after.sk),
    ).reverse();
    const page = all.slice(0, options.limit);
    const last = page[page.length - 1];
    const items = page.map(runFromItem);
    return all.length > options.limit && last
      ? { items, nextToken: encodePageToken(keyOf(last)) }
      : { items };
  }

  /** The run index's entries of one partition, newest first, as DynamoDB projects them. */
  private runIndexPartition(part: string): Item[] {
    const found: Item[] = [];
    for (const item of this.items.values())
      if (item[attr.runPart] === part) found.push(runIndexProjection(item));
    return found.sort((a, b) => compareStrings(String(b[attr.runId]), String(a[attr.runId])));
  }

  async listRunsAcross(query: RunQuery): Promise<Page<RunSummary> & { usage: StoreUsage }> {
    checkLimit(query.limit);
    const range = runKeyRange(query);
    const matches = (item: Item) =>
      (query.type === undefined || item.type === query.type) &&
      (query.trigger === undefined || item.trigger === query.trigger) &&
      (query.taskId === undefined || item.taskId === query.taskId);
    const read = async (
      part: string,
      r: { above: string; below: string },
      limit: number,
    ): Promise<PartitionRead> => {
      const inRange = this.runIndexPartition(part).filter((item) => {
        const runId = String(item[attr.runId]);
        return runId >= r.above && runId <= r.below;
      });
      const evaluated = inRange.slice(0, limit);
      const last = evaluated[evaluated.length - 1];
      return {
        items: evaluated.filter(matches),
        evaluated: evaluated.length,
        ...(inRange.length > limit && last ? { last: String(last[attr.runId]) } : {}),
      };
    };
    return pageOfRuns(query, read, range);
  }

  async listLapsedRuns(
    now: Date,
    options: { limit?: number } = {},
  ): Promise<{ runs: RunRecord[]; usage: StoreUsage }> {
    const limit = options.limit ?? 100;
    checkLimit(limit);
    const entries = runPartitions(['running']).flatMap((part) => this.runIndexPartition(part));
    const records = entries.flatMap((entry) => {
      const item = this.get(keyOf(entry));
      return item ? [runFromItem(item)] : [];
    });
    const runs = records
      .filter((run) => run.status === 'running' && (run.leaseExpiresAt?.getTime() ?? 0) <= now.getTime())
      .sort((a, b) => compareStrings(a.runId, b.runId))
      .slice(0, limit);
    return { runs, usage: { itemsRead: entries.length + records.length, writes: 0 } };
  }

  // ------------------------------------------------------------------------------ backfills

  async putBackfill(job: BackfillJob, options: AuditOption = {}): Promise<void> {
    const item = backfillToItem(job);
    if (this.get(keyOf(item))) throw new Error(`backfill ${job.backfillId} of task ${job.taskId} exists`);
    this.checkAudit(options.audit);
    this.put(item);
    this.putAudit(options.audit);
  }

  async listBackfills(): Promise<BackfillJob[]> {
    return this.select((k) => k.pk === keys.scheduler().pk && k.sk.startsWith(BACKFILL_PREFIX))
      .map(backfillFromItem)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async saveBackfill(job: BackfillJob, expectedQueued: number): Promise<boolean> {
    const item = backfillToItem(job);
    if (this.items.get(mapKey(keyOf(item)))?.queued !== expectedQueued) return false;
    this.put(item);
    return true;
  }

  async deleteBackfill(taskId: string, backfillId: string): Promise<void> {
    this.items.delete(mapKey(keys.backfill(taskId, backfillId)));
  }

  async claimRun(claim: RunClaim): Promise<ClaimResult> {
    const item = runToItem(runFromClaim(claim));
    const existing = this.get(keyOf(item));
    if (existing) return { claimed: false, existing: runFromItem(existing) };
    this.put(item);
    return { claimed: true, run: runFromItem(structuredClone(item)) };
  }

  async recordRun(record: RunRecord, listing: RunListing = {}): Promise<RecordResult> {
    const item = runToItem(structuredClone(record), listing);
    const existing = this.get(keyOf(item));
    if (existing) return { recorded: false, existing: runFromItem(existing) };
    this.put(item);
    return { recorded: true, run: runFromItem(structuredClone(item)) };
  }

  /** The stored run item if it is running with this lease. */
  private fenced(key: ItemKey, fence: RunFence): Item | undefined {
    const item = this.items.get(mapKey(key));
    const held =
      item?.[attr.status] === 'running' &&
      item[attr.token] === fence.token &&
      item[attr.requestId] === fence.requestId;
    return held ? item : undefined;
  }

  async heartbeat(
    taskId: string,
    runId: string,
    fence: RunFence,
    update: { now: Date; leaseExpiresAt: Date; progress?: Progress },
  ): Promise<HeartbeatResult> {
    const key = keys.run(taskId, runId);
    const item = this.fenced(key, fence);
    if (!item) {
      const status = this.items.get(mapKey(key))?.[attr.status];
      return typeof status === 'string'
        ? { held: false, status: status as RunRecord['status'] }
        : { held: false };
    }
    Object.assign(item, structuredClone(heartbeatAttributes(runId, update)));
    return { held: true, cancelRequested: item[attr.cancelRequested] === true };
  }

  async completeRun(
    taskId: string,
    runId: string,
    fence: RunFence,
    outcome: RunOutcome,
    listing: RunListing = {},
  ): Promise<CompleteResult> {
    const key = keys.run(taskId, runId);
    const item = this.fenced(key, fence);
    if (!item) {
      const stored = this.items.get(mapKey(key));
      if (!stored) return { completed: false };
      const current = runFromItem(structuredClone(stored));
      return isSameCompletion(current, fence, outcome)
        ? { completed: true, run: current }
        : { completed: false, current };
    }
    Object.assign(item, structuredClone(outcomeAttributes(outcome, runId, listing)));
    // Unlisted: the key a heartbeat set goes, as the DynamoDB store's REMOVE does.
    if (listing.listed === false) delete item[attr.runPart];
    return { completed: true, run: runFromItem(structuredClone(item)) };
  }

  async requestCancel(record: RunRecord, now: Date, options: AuditOption = {}): Promise<CancelRequestResult> {
    const key = keys.run(record.taskId, record.runId);
    const item = this.items.get(mapKey(key));
    const status = item?.[attr.status] as RunRecord['status'] | undefined;
    if (status !== undefined && isTerminal(status)) return { requested: false, status };
    this.checkAudit(options.audit);
    if (item && status === 'running') {
      item[attr.cancelRequested] = true;
      this.putAudit(options.audit);
      return { requested: true, status: 'running' };
    }
    this.items.set(
      mapKey(key),
      runToItem(structuredClone({ ...record, status: 'cancelled', finishedAt: now })),
    );
    this.putAudit(options.audit);
    return { requested: true, status: 'cancelled' };
  }

  // ------------------------------------------------------------------------------ scheduler

  async getSchedulerState(): Promise<SchedulerState> {
    return schedulerFromItem(this.get(keys.scheduler()));
  }

  async updateSchedulerState(update: Partial<SchedulerState>, options: AuditOption = {}): Promise<void> {
    const attributes = schedulerAttributes(update);
    this.checkAudit(options.audit);
    if (Object.keys(attributes).length > 0) {
      this.put({ ...(this.get(keys.scheduler()) ?? keys.scheduler()), ...attributes });
    }
    this.putAudit(options.audit);
  }

  // ------------------------------------------------------------------------------ audit trail

  /** Refuses, before anything is written, an entry whose id is taken (as DynamoDB's condition would). */
  private checkAudit(audit: AuditEntry | undefined): void {
    if (audit && this.items.has(mapKey(auditKeys.entry(audit.taskId, audit.id)))) {
      throw new Error(`audit entry ${audit.id} exists`);
    }
  }

  private putAudit(audit: AuditEntry | undefined): void {
    if (audit) this.put(auditToItem(audit));
  }

  async listAudit(options: {
    taskId?: string;
    limit: number;
    nextToken?: string;
  }): Promise<Page<AuditEntry>> {
    checkLimit(options.limit);
    const { taskId } = options;
    const after =
      options.nextToken === undefined
        ? undefined
        : decodePageToken(options.nextToken, (key) => isAuditKey(key, taskId));
    const all = this.select(
      (k) => isAuditKey(k, taskId) && (after === undefined || auditIdOf(k) < auditIdOf(after)),
    )
      .filter((item) => item[attr.kind] === AUDIT_KIND)
      .sort((a, b) => compareStrings(String(b[attr.id]), String(a[attr.id])));
    const page = all.slice(0, options.limit);
    const last = page[page.length - 1];
    const items = page.map(auditFromItem);
    return all.length > options.limit && last
      ? { items, nextToken: encodePageToken(keyOf(last)) }
      : { items };
  }
}
