/**
 * The DynamoDB adapter of the {@link TaskStore} port. Every race is a conditional write; losing
 * one comes back as a value (`saved: false`, `claimed: false`, ...), never as a
 * `ConditionalCheckFailedException`. Throttling comes out as the core's `StoreUnavailableError`
 * (`dynamo-support.ts` `send`); every other error propagates as it is.
 *
 * A run's writes, and what fences each one:
 * ```
 *  tick                         handler (task SDK)                          tick / API
 *  saveTask ─ Put task ──────►  claimRun ─ Put run `running` ──────────►   saveTask + time-out ─┐
 *    version = expected           attribute_not_exists(pk)                   Update run, upsert:  │
 *    (+ run records, one          (a second claim gets the                   absent, or running   │
 *     transaction)                 existing record back)                     with lease <= now    │
 *                               heartbeat ─ Update run ─────────────────►                         │
 *                                 status = running AND token AND requestId   requestCancel ───────┘
 *                               completeRun ─ Update run (same fence)         flag when running,
 *                                 refused once timed out or reclaimed         `cancelled` if unclaimed
 * ```
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '../core/audit.js';
import { ConflictError } from '../core/errors.js';
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
import { saveInBatches } from './dynamo-batch-save.js';
import { readDueItems } from './dynamo-due-read.js';
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
  runToItem,
  schedulerAttributes,
  schedulerFromItem,
  TASK_KIND,
  TYPES_PK,
  taskFromItem,
  taskToItem,
  taskTypeFromItem,
  taskTypeToItem,
  timeOutAttributes,
} from './dynamo-items.js';
import {
  BATCH_WRITE_SIZE,
  batchDelete,
  batchGet,
  errorName,
  isConditionFailure,
  oldItemOf,
  queryAll,
  queryPages,
  send,
  UpdateBuilder,
  WRITE_ID,
} from './dynamo-support.js';
import { checkFormerShardCount, dueKeysOf } from './reshard-keys.js';
import { type PartitionRead, pageOfRuns, runKeyRange, runPartitions } from './run-index.js';
import {
  checkDistinct,
  checkHold,
  checkLimit,
  checkNextVersion,
  checkShardCount,
} from './store-invariants.js';
import { tableDefinition } from './table-definition.js';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface DynamoTaskStoreOptions {
  /** A document client, or a plain client that the store wraps in one. */
  client: DynamoDBDocumentClient | DynamoDBClient;
  tableName: string;
  /** Due-index shards; every store and tick sharing a table must agree. */
  shardCount?: number;
  /**
   * The shard count the table had before `shardCount`, while it shrinks: each shard's due query
   * also reads the former keys that fold into it (`reshard.ts`). Drop it once `reshardDueIndex`
   * has moved every task. @default none
   */
  formerShardCount?: number;
  /**
   * How long ahead a task due again soon keeps its due-index key (`dueIndexKey`): the tick's
   * interval. Default one minute.
   */
  dueKeyHoldMs?: number;
}

/**
 * {@link TaskStore} on one DynamoDB table (see `table-definition.ts`).
 *
 * @example
 * const store = new DynamoTaskStore({ client: new DynamoDBClient({}), tableName: 'tickwork' });
 * const { tasks } = await store.queryDue(0, new Date());
 */
export class DynamoTaskStore implements TaskStore {
  readonly shardCount: number;
  private readonly formerShardCount: number | undefined;
  private readonly dueKeyHoldMs: number;
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoTaskStoreOptions) {
    this.tableName = options.tableName;
    this.shardCount = checkShardCount(options.shardCount);
    this.formerShardCount = checkFormerShardCount(options.formerShardCount);
    this.dueKeyHoldMs = checkHold(options.dueKeyHoldMs);
    this.doc =
      options.client instanceof DynamoDBDocumentClient
        ? options.client
        : DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private async getItem(key: ItemKey): Promise<Item | undefined> {
    const out = await send(
      this.doc,
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return out.Item;
  }

  // ------------------------------------------------------------------------------ task types

  async putIdempotencyKey(record: IdempotencyRecord, now: Date): Promise<IdempotencyResult> {
    const key = keys.idempotency(record.taskId, record.key);
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // Absent, or present but past its TTL (DynamoDB deletes expired items lazily).
        await send(
          this.doc,
          new PutCommand({
            TableName: this.tableName,
            Item: idempotencyToItem(record),
            ConditionExpression: 'attribute_not_exists(#pk) OR #exp <= :now',
            ExpressionAttributeNames: { '#pk': attr.pk, '#exp': attr.expiresAt },
            ExpressionAttributeValues: { ':now': Math.floor(now.getTime() / 1000) },
          }),
        );
        return { created: true };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const runId = runIdOfIdempotency(await this.getItem(key), now);
      if (runId !== undefined) return { created: false, runId };
      // Deleted or expired between the put and the read: put again.
    }
    throw new Error(`idempotency key ${record.key} of task ${record.taskId} kept changing`);
  }

  async deleteIdempotencyKey(taskId: string, key: string): Promise<void> {
    await send(
      this.doc,
      new DeleteCommand({ TableName: this.tableName, Key: keys.idempotency(taskId, key) }),
    );
  }

  async putTaskType(type: TaskType): Promise<void> {
    await send(this.doc, new PutCommand({ TableName: this.tableName, Item: taskTypeToItem(type) }));
  }

  async listTaskTypes(): Promise<TaskType[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': attr.pk },
      ExpressionAttributeValues: { ':pk': TYPES_PK },
    });
    return items.map(taskTypeFromItem).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  // ------------------------------------------------------------------------------ tasks

  async createTask(task: TaskState, options: AuditOption = {}): Promise<{ created: boolean }> {
    if (options.audit) {
      const put = {
        TableName: this.tableName,
        Item: taskToItem(task, this.shardCount, this.dueKeyHoldMs),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': attr.pk },
      };
      return { created: (await this.withAudit({ Put: put }, options.audit)) === 'written' };
    }
    const writeId = randomUUID();
    try {
      await send(
        this.doc,
        new PutCommand({
          TableName: this.tableName,
          Item: { ...taskToItem(task, this.shardCount, this.dueKeyHoldMs), [WRITE_ID]: writeId },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': attr.pk },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // An SDK retry of our own successful write finds our item: still created.
      return { created: oldItemOf(error)?.[WRITE_ID] === writeId };
    }
  }

  async getTask(taskId: string): Promise<TaskState | undefined> {
    const item = await this.getItem(keys.task(taskId));
    return item && taskFromItem(item);
  }

  /** Consistent BatchGetItem requests of up to 100 task items each. */
  async getTasks(taskIds: readonly string[]): Promise<TaskState[]> {
    const wanted = [...new Set(taskIds)].map((id) => keys.task(id));
    const items = await batchGet(this.doc, this.tableName, wanted, { consistentRead: true });
    return items.map(taskFromItem);
  }

  /**
   * Tasks in id order: one Query of the keys-only `tasks` index (task items only, so history
   * is never read), then a consistent BatchGetItem of the page.
   */
  async listTasks(options: { limit: number; nextToken?: string }): Promise<Page<TaskState>> {
    checkLimit(options.limit);
    const after = options.nextToken === undefined ? undefined : decodePageToken(options.nextToken, isTaskKey);
    const index = tableDefinition.taskIndex;
    const out = await send(
      this.doc,
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index.indexName,
        KeyConditionExpression: '#kind = :kind',
        ExpressionAttributeNames: { '#kind': attr.kind },
        ExpressionAttributeValues: { ':kind': TASK_KIND },
        Limit: options.limit,
        ...(after
          ? {
              ExclusiveStartKey: {
                ...after,
                [attr.kind]: TASK_KIND,
                [attr.id]: after.pk.slice('TASK#'.length),
              },
            }
          : {}),
      }),
    );
    const pageKeys = (out.Items ?? []).map(keyOf);
    const byPk = new Map(
      (await batchGet(this.doc, this.tableName, pageKeys, { consistentRead: true })).map((item) => [
        String(item.pk),
        item,
      ]),
    );
    // A task deleted between the index read and the batch read is simply left out.
    const items = pageKeys.flatMap((k) => {
      const item = byPk.get(k.pk);
      return item ? [taskFromItem(item)] : [];
    });
    const last = pageKeys[pageKeys.length - 1];
    return out.LastEvaluatedKey && last ? { items, nextToken: encodePageToken(last) } : { items };
  }

  async saveTask(
    task: TaskState,
    options: { expectedVersion: number; runWrites?: RunWrite[] } & AuditOption,
  ): Promise<SaveTaskResult> {
    const { expectedVersion, runWrites = [], audit } = options;
    checkNextVersion(task, expectedVersion);
    const writeId = randomUUID();
    const item = { ...taskToItem(task, this.shardCount, this.dueKeyHoldMs), [WRITE_ID]: writeId };
    const put = {
      TableName: this.tableName,
      Item: item,
      ConditionExpression: 'attribute_exists(#pk) AND #version = :expected',
      ExpressionAttributeNames: { '#pk': attr.pk, '#version': attr.version },
      ExpressionAttributeValues: { ':expected': expectedVersion },
    };
    const saved = (): SaveTaskResult => ({ saved: true, task: taskFromItem(item) });

    if (runWrites.length === 0 && !audit) {
      try {
        await send(this.doc, new PutCommand({ ...put, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
        return saved();
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return oldItemOf(error)?.[WRITE_ID] === writeId ? saved() : { saved: false, reason: 'version' };
      }
    }

    const transactItems: NonNullable<TransactWriteCommandInput['TransactItems']> = [{ Put: put }];
    for (const write of runWrites) transactItems.push(this.runWriteItem(write));
    if (audit) transactItems.push(this.auditPut(audit));
    try {
      await send(
        this.doc,
        new TransactWriteCommand({
          TransactItems: transactItems,
          // Makes the SDK's retries of an ambiguous failure idempotent (for ten minutes).
          ClientRequestToken: writeId,
        }),
      );
      return saved();
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') throw error;
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      const lost = (code: string | undefined) =>
        code === 'ConditionalCheckFailed' || code === 'TransactionConflict';
      if (lost(reasons[0]?.Code)) return { saved: false, reason: 'version' };
      const others = reasons.slice(1);
      if (others.some((r) => lost(r.Code)) && others.every((r) => r.Code === 'None' || lost(r.Code))) {
        return { saved: false, reason: 'run' };
      }
      throw error;
    }
  }

  /**
   * One save goes out as {@link saveTask}; more go 25 to a PartiQL batch (`dynamo-batch-save.ts`),
   * each statement its own compare-and-set.
   */
  async saveTasks(saves: { task: TaskState; expectedVersion: number }[]): Promise<SaveTaskResult[]> {
    checkDistinct(saves);
    // All or none are sent: a broken invariant in the last save must not let the first ones go.
    for (const { task, expectedVersion } of saves) checkNextVersion(task, expectedVersion);
    if (saves.length === 1) {
      return Promise.all(saves.map(({ task, expectedVersion }) => this.saveTask(task, { expectedVersion })));
    }
    return saveInBatches(
      {
        doc: this.doc,
        tableName: this.tableName,
        itemOf: (task) => taskToItem(task, this.shardCount, this.dueKeyHoldMs),
        saveOne: ({ task, expectedVersion }) => this.saveTask(task, { expectedVersion }),
      },
      saves,
    );
  }

  private runWriteItem(write: RunWrite): NonNullable<TransactWriteCommandInput['TransactItems']>[number] {
    const { record } = write;
    if (write.kind === 'record') {
      return {
        Put: {
          TableName: this.tableName,
          Item: runToItem(record),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': attr.pk },
        },
      };
    }
    // Upsert: creates the record of a never-claimed run, or ends a running one whose own lease
    // ended; the claim's identity fields and progress survive through if_not_exists.
    const { overwrite, ifAbsent } = timeOutAttributes(record);
    const update = new UpdateBuilder().set(overwrite).set(ifAbsent, { ifAbsent: true });
    const pk = update.name(attr.pk);
    const status = update.name(attr.status);
    const lease = update.name(attr.leaseExpiresAt);
    const running = update.value('running');
    const now = update.value(write.now.getTime());
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.run(record.taskId, record.runId),
        UpdateExpression: update.expression,
        ConditionExpression: `attribute_not_exists(${pk}) OR (${status} = ${running} AND ${lease} <= ${now})`,
        ExpressionAttributeNames: update.names,
        ExpressionAttributeValues: update.values,
      },
    };
  }

  async deleteTask(
    taskId: string,
    options: { expectedVersion: number } & AuditOption,
  ): Promise<{ deleted: boolean }> {
    const remove = {
      TableName: this.tableName,
      Key: keys.task(taskId),
      ConditionExpression: 'attribute_exists(#pk) AND #version = :expected',
      ExpressionAttributeNames: { '#pk': attr.pk, '#version': attr.version },
      ExpressionAttributeValues: { ':expected': options.expectedVersion },
    };
    if (options.audit) {
      if ((await this.withAudit({ Delete: remove }, options.audit)) === 'lost') return { deleted: false };
    } else {
      try {
        await send(this.doc, new DeleteCommand(remove));
      } catch (error) {
        if (isConditionFailure(error)) return { deleted: false };
        throw error;
      }
    }
    try {
      await this.deleteHistory(taskId);
    } catch {
      // Best effort: the task is gone, and TTL removes whatever history is left.
    }
    return { deleted: true };
  }

  private async deleteHistory(taskId: string): Promise<void> {
    const pages = queryPages(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :run)',
      ProjectionExpression: '#pk, #sk',
      ExpressionAttributeNames: { '#pk': attr.pk, '#sk': attr.sk },
      ExpressionAttributeValues: { ':pk': keys.task(taskId).pk, ':run': RUN_SK_PREFIX },
    });
    for await (const page of pages) {
      const runKeys = (page.Items ?? []).map(keyOf);
      for (let i = 0; i < runKeys.length; i += BATCH_WRITE_SIZE) {
        await batchDelete(this.doc, this.tableName, runKeys.slice(i, i + BATCH_WRITE_SIZE));
      }
    }
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
    const { limit } = options;
    if (limit !== undefined) checkLimit(limit);
    const keys = dueKeysOf(shard, this.shardCount, this.formerShardCount);
    const { items, recordsRead } = await readDueItems(this.doc, this.tableName, keys, now, limit);
    return { tasks: items.map(taskFromItem), usage: { itemsRead: recordsRead, writes: 0 } };
  }

  // ------------------------------------------------------------------------------ runs

  async getRuns(
    runKeys: { taskId: string; runId: string }[],
  ): Promise<{ runs: Map<string, RunRecord>; usage: StoreUsage }> {
    const runs = new Map<string, RunRecord>();
    // BatchGetItem refuses duplicate keys in one request.
    const unique = [...new Map(runKeys.map((k) => [`${k.taskId}\u0000${k.runId}`, k])).values()];
    const items = await batchGet(
      this.doc,
      this.tableName,
      unique.map((k) => keys.run(k.taskId, k.runId)),
    );
    for (const item of items) {
      const run = runFromItem(item);
      runs.set(run.runId, run);
    }
    return { runs, usage: { itemsRead: items.length, writes: 0 } };
  }

  async getRun(taskId: string, runId: string): Promise<RunRecord | undefined> {
    const item = await this.getItem(keys.run(taskId, runId));
    return item && runFromItem(item);
  }

  async listRuns(taskId: string, options: { limit: number; nextToken?: string }): Promise<Page<RunRecord>> {
    checkLimit(options.limit);
    const after =
      options.nextToken === undefined
        ? undefined
        : decodePageToken(options.nextToken, (key) => isRunKeyOf(taskId, key));
    const items: Item[] = [];
    // One more than asked for tells whether there is a next page, so the last page has no token.
    const pages = queryPages(
      this.doc,
      {
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :run)',
        ExpressionAttributeNames: { '#pk': attr.pk, '#sk': attr.sk },
        ExpressionAttributeValues: { ':pk': keys.task(taskId).pk, ':run': RUN_SK_PREFIX },
        ScanIndexForward: false,
        ...(after ? { ExclusiveStartKey: { ...after } } : {}),
      },
      { limit: options.limit + 1 },
    );
    for await (const page of pages) items.push(...(page.Items ?? []));
    const page = items.slice(0, options.limit);
    const last = page[page.length - 1];
    const more = items.length > options.limit;
    const runs = page.map(runFromItem);
    return more && last ? { items: runs, nextToken: encodePageToken(keyOf(last)) } : { items: runs };
  }

  /** Runs across tasks: Queries of the run index's partitions, merged (`run-index.ts`). */
  async listRunsAcross(query: RunQuery): Promise<Page<RunSummary> & { usage: StoreUsage }> {
    checkLimit(query.limit);
    const range = runKeyRange(query);
    const filters: [string, string | undefined][] = [
      ['type', query.type],
      ['trigger', query.trigger],
      ['taskId', query.taskId],
    ];
    const active = filters.filter((f): f is [string, string] => f[1] !== undefined);
    const read = async (
      part: string,
      r: { above: string; below: string },
      limit: number,
    ): Promise<PartitionRead> => {
      const out = await send(
        this.doc,
        new QueryCommand({
          TableName: this.tableName,
          IndexName: tableDefinition.runIndex.indexName,
          KeyConditionExpression: '#part = :part AND #rid BETWEEN :above AND :below',
          ...(active.length > 0
            ? { FilterExpression: active.map((_, i) => `#f${i} = :f${i}`).join(' AND ') }
            : {}),
          ExpressionAttributeNames: {
            '#part': attr.runPart,
            '#rid': attr.runId,
            ...Object.fromEntries(active.map(([name], i) => [`#f${i}`, name])),
          },
          ExpressionAttributeValues: {
            ':part': part,
            ':above': r.above,
            ':below': r.below,
            ...Object.fromEntries(active.map(([, value], i) => [`:f${i}`, value])),
          },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      const last = out.LastEvaluatedKey?.[attr.runId];
      return {
        items: out.Items ?? [],
        evaluated: out.ScannedCount ?? 0,
        ...(typeof last === 'string' ? { last } : {}),
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
    let itemsRead = 0;
    const running: ItemKey[] = [];
    for (const part of runPartitions(['running'])) {
      const pages = queryPages(this.doc, {
        TableName: this.tableName,
        IndexName: tableDefinition.runIndex.indexName,
        KeyConditionExpression: '#part = :part',
        ExpressionAttributeNames: { '#part': attr.runPart },
        ExpressionAttributeValues: { ':part': part },
      });
      for await (const page of pages) {
        itemsRead += page.Count ?? 0;
        running.push(...(page.Items ?? []).map(keyOf));
      }
    }
    // The lease is not in the index (heartbeats would write it): read it from the records.
    const items =
      running.length > 0 ? await batchGet(this.doc, this.tableName, running, { consistentRead: true }) : [];
    itemsRead += items.length;
    const runs = items
      .map(runFromItem)
      .filter((run) => run.status === 'running' && (run.leaseExpiresAt?.getTime() ?? 0) <= now.getTime())
      .sort((a, b) => (a.runId < b.runId ? -1 : 1))
      .slice(0, limit);
    return { runs, usage: { itemsRead, writes: 0 } };
  }

  // ------------------------------------------------------------------------------ backfills

  async putBackfill(job: BackfillJob, options: AuditOption = {}): Promise<void> {
    const put = {
      TableName: this.tableName,
      Item: backfillToItem(job),
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': attr.pk },
    };
    if (!options.audit) {
      await send(this.doc, new PutCommand(put));
      return;
    }
    if ((await this.withAudit({ Put: put }, options.audit)) === 'lost')
      throw new Error(`backfill ${job.backfillId} of task ${job.taskId} exists`);
  }

  async listBackfills(): Promise<BackfillJob[]> {
    const items = await queryAll(this.doc, {
      TableName: this.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeNames: { '#pk': attr.pk, '#sk': attr.sk },
      ExpressionAttributeValues: { ':pk': keys.scheduler().pk, ':prefix': BACKFILL_PREFIX },
    });
    return items.map(backfillFromItem).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async saveBackfill(job: BackfillJob, expectedQueued: number): Promise<boolean> {
    try {
      await send(
        this.doc,
        new PutCommand({
          TableName: this.tableName,
          Item: backfillToItem(job),
          ConditionExpression: '#queued = :expected',
          ExpressionAttributeNames: { '#queued': 'queued' },
          ExpressionAttributeValues: { ':expected': expectedQueued },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async deleteBackfill(taskId: string, backfillId: string): Promise<void> {
    await send(
      this.doc,
      new DeleteCommand({ TableName: this.tableName, Key: keys.backfill(taskId, backfillId) }),
    );
  }

  async claimRun(claim: RunClaim): Promise<ClaimResult> {
    const put = await this.putRunIfAbsent(runFromClaim(claim), 'claim');
    return put.won ? { claimed: true, run: put.run } : { claimed: false, existing: put.run };
  }

  async recordRun(record: RunRecord, listing: RunListing = {}): Promise<RecordResult> {
    const put = await this.putRunIfAbsent(record, 'record', listing);
    return put.won ? { recorded: true, run: put.run } : { recorded: false, existing: put.run };
  }

  /**
   * Puts a run record unless one exists: won with the record written, or lost with the one that
   * was there. A write of ours retried by the SDK after an ambiguous failure is recognised by its
   * write id and counts as won.
   */
  private async putRunIfAbsent(
    run: RunRecord,
    what: string,
    listing: RunListing = {},
  ): Promise<{ won: boolean; run: RunRecord }> {
    const writeId = randomUUID();
    try {
      await send(
        this.doc,
        new PutCommand({
          TableName: this.tableName,
          Item: { ...runToItem(run, listing), [WRITE_ID]: writeId },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': attr.pk },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { won: true, run: runFromItem(runToItem(run)) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = oldItemOf(error) ?? (await this.getItem(keys.run(run.taskId, run.runId)));
      if (!old) {
        throw new Error(`${what} of run ${run.runId} failed its condition, yet no record exists`, {
          cause: error,
        });
      }
      return { won: old[WRITE_ID] === writeId, run: runFromItem(old) };
    }
  }

  /**
   * An update by the run's holder, on condition it is still running with this lease: the new
   * item when it held, the item as it was (if any) when it did not.
   */
  private async fencedUpdate(
    taskId: string,
    runId: string,
    fence: RunFence,
    attributes: Item,
    removes: readonly string[] = [],
  ): Promise<{ held: true; item: Item } | { held: false; old?: Item }> {
    const builder = new UpdateBuilder().set(attributes).remove(...removes);
    const condition = `${builder.name(attr.status)} = ${builder.value('running')} AND ${builder.name(attr.token)} = ${builder.value(fence.token)} AND ${builder.name(attr.requestId)} = ${builder.value(fence.requestId)}`;
    try {
      const out = await send(
        this.doc,
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.run(taskId, runId),
          UpdateExpression: builder.expression,
          ConditionExpression: condition,
          ExpressionAttributeNames: builder.names,
          ExpressionAttributeValues: builder.values,
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      if (!out.Attributes) throw new Error(`updating run ${runId} returned no attributes`);
      return { held: true, item: out.Attributes };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = oldItemOf(error);
      return old ? { held: false, old } : { held: false };
    }
  }

  async heartbeat(
    taskId: string,
    runId: string,
    fence: RunFence,
    update: { now: Date; leaseExpiresAt: Date; progress?: Progress },
  ): Promise<HeartbeatResult> {
    const result = await this.fencedUpdate(taskId, runId, fence, heartbeatAttributes(runId, update));
    if (result.held) return { held: true, cancelRequested: result.item[attr.cancelRequested] === true };
    const status = result.old?.[attr.status];
    return typeof status === 'string'
      ? { held: false, status: status as RunRecord['status'] }
      : { held: false };
  }

  async completeRun(
    taskId: string,
    runId: string,
    fence: RunFence,
    outcome: RunOutcome,
    listing: RunListing = {},
  ): Promise<CompleteResult> {
    // Unlisted: the key a heartbeat set goes, so the run leaves `running` and enters no partition.
    const removes = listing.listed === false ? [attr.runPart] : [];
    const attributes = outcomeAttributes(outcome, runId, listing);
    const result = await this.fencedUpdate(taskId, runId, fence, attributes, removes);
    if (result.held) return { completed: true, run: runFromItem(result.item) };
    if (!result.old) return { completed: false };
    const current = runFromItem(result.old);
    // The SDK's retry of a completion that did land finds its own outcome: that is a success.
    return isSameCompletion(current, fence, outcome)
      ? { completed: true, run: current }
      : { completed: false, current };
  }

  /**
   * Long because: the race with the run's holder (absent, running, ended) read as one loop, each
   * of its two writes with or without the audit entry's transaction.
   */
  async requestCancel(record: RunRecord, now: Date, options: AuditOption = {}): Promise<CancelRequestResult> {
    const key = keys.run(record.taskId, record.runId);
    const { audit } = options;
    // Each lost race means the run moved on (absent -> running -> ended), so three tries settle it.
    for (let attempt = 0; attempt < 3; attempt++) {
      let old: Item | undefined;
      const flag = {
        TableName: this.tableName,
        Key: key,
        UpdateExpression: 'SET #cancel = :true',
        ConditionExpression: '#status = :running',
        ExpressionAttributeNames: { '#cancel': attr.cancelRequested, '#status': attr.status },
        ExpressionAttributeValues: { ':true': true, ':running': 'running' },
      };
      if (audit) {
        if ((await this.withAudit({ Update: flag }, audit)) === 'written') {
          return { requested: true, status: 'running' };
        }
        old = await this.getItem(key);
      } else {
        try {
          await send(
            this.doc,
            new UpdateCommand({ ...flag, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
          );
          return { requested: true, status: 'running' };
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
          old = oldItemOf(error);
        }
      }
      const status = old?.[attr.status] as RunRecord['status'] | undefined;
      if (status !== undefined && isTerminal(status)) return { requested: false, status };
      if (status === 'running') continue;
      // Never claimed (no record, or one still `dispatched`): record it cancelled so it never starts.
      const put = {
        TableName: this.tableName,
        Item: runToItem({ ...record, status: 'cancelled', finishedAt: now }),
        ConditionExpression: 'attribute_not_exists(#pk) OR #status = :dispatched',
        ExpressionAttributeNames: { '#pk': attr.pk, '#status': attr.status },
        ExpressionAttributeValues: { ':dispatched': 'dispatched' },
      };
      if (audit) {
        if ((await this.withAudit({ Put: put }, audit)) === 'written') {
          return { requested: true, status: 'cancelled' };
        }
        continue;
      }
      try {
        await send(this.doc, new PutCommand(put));
        return { requested: true, status: 'cancelled' };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new ConflictError(`run ${record.runId} kept changing while cancelling it`, record.taskId);
  }

  // ------------------------------------------------------------------------------ scheduler

  async getSchedulerState(): Promise<SchedulerState> {
    return schedulerFromItem(await this.getItem(keys.scheduler()));
  }

  async updateSchedulerState(update: Partial<SchedulerState>, options: AuditOption = {}): Promise<void> {
    const attributes = schedulerAttributes(update);
    if (Object.keys(attributes).length === 0) {
      if (options.audit)
        await send(this.doc, new TransactWriteCommand({ TransactItems: [this.auditPut(options.audit)] }));
      return;
    }
    const builder = new UpdateBuilder().set(attributes);
    const write = {
      TableName: this.tableName,
      Key: keys.scheduler(),
      UpdateExpression: builder.expression,
      ExpressionAttributeNames: builder.names,
      ExpressionAttributeValues: builder.values,
    };
    if (options.audit) await this.withAudit({ Update: write }, options.audit);
    else await send(this.doc, new UpdateCommand(write));
  }

  // ------------------------------------------------------------------------------ audit trail

  /** The put of an audit entry, in a transaction with the change it records. */
  private auditPut(entry: AuditEntry): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: auditToItem(entry),
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': attr.pk },
      },
    };
  }

  /**
   * Writes `item` and the audit entry in one transaction: both or neither. `lost` when `item`'s
   * own condition failed (or a concurrent write of it won); any other refusal is thrown. The
   * request token makes the SDK's retry of an ambiguous failure idempotent.
   */
  private async withAudit(item: TransactItem, audit: AuditEntry): Promise<'written' | 'lost'> {
    try {
      await send(
        this.doc,
        new TransactWriteCommand({
          TransactItems: [item, this.auditPut(audit)],
          ClientRequestToken: randomUUID(),
        }),
      );
      return 'written';
    } catch (error) {
      if (errorName(error) !== 'TransactionCanceledException') throw error;
      const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      const code = reasons[0]?.Code;
      if (code === 'ConditionalCheckFailed' || code === 'TransactionConflict') return 'lost';
      throw error;
    }
  }

  /**
   * The trail, newest first. One task's: a Query of its audit partition. All of it: a Query of
   * the list index (`kind` AUDIT, by entry id, keys only), then a consistent BatchGetItem of the
   * page, as `listTasks` does.
   */
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
    const input =
      taskId === undefined
        ? {
            IndexName: tableDefinition.taskIndex.indexName,
            KeyConditionExpression: '#k = :k',
            ExpressionAttributeNames: { '#k': attr.kind },
            ExpressionAttributeValues: { ':k': AUDIT_KIND },
            ...(after
              ? { ExclusiveStartKey: { ...after, [attr.kind]: AUDIT_KIND, [attr.id]: auditIdOf(after) } }
              : {}),
          }
        : {
            KeyConditionExpression: '#k = :k',
            ExpressionAttributeNames: { '#k': attr.pk },
            ExpressionAttributeValues: { ':k': auditKeys.partition(taskId) },
            ...(after ? { ExclusiveStartKey: { ...after } } : {}),
          };
    const found: Item[] = [];
    // One more than asked for tells whether there is a next page.
    const pages = queryPages(
      this.doc,
      { TableName: this.tableName, ScanIndexForward: false, ...input },
      { limit: options.limit + 1 },
    );
    for await (const page of pages) found.push(...(page.Items ?? []));
    const pageKeys = found.slice(0, options.limit).map(keyOf);
    const items =
      taskId === undefined
        ? await batchGet(this.doc, this.tableName, pageKeys, { consistentRead: true })
        : found;
    const byKey = new Map(items.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item]));
    const entries = pageKeys.flatMap((k) => {
      const item = byKey.get(`${k.pk}\u0000${k.sk}`);
      return item ? [auditFromItem(item)] : [];
    });
    const last = pageKeys[pageKeys.length - 1];
    return found.length > options.limit && last
      ? { items: entries, nextToken: encodePageToken(last) }
      : { items: entries };
  }
}
