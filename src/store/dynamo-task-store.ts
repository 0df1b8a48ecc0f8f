/**
 * The DynamoDB adapter of the {@link TaskStore} port. Every race is a conditional write; losing
 * one comes back as a value (`saved: false`, `claimed: false`, ...), never as a
 * `ConditionalCheckFailedException`. Throttling and every other error propagate.
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
import {
  type AttributeValue,
  BatchExecuteStatementCommand,
  type ConsumedCapacity,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { convertToAttr } from '@aws-sdk/util-dynamodb';
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
  CancelRequestResult,
  ClaimResult,
  CompleteResult,
  HeartbeatResult,
  Page,
  RunClaim,
  RunOutcome,
  RunWrite,
  SaveTaskResult,
  StoreUsage,
  TaskStore,
} from '../core/ports.js';
import {
  attr,
  checkDistinct,
  checkHold,
  checkLimit,
  checkNextVersion,
  decodePageToken,
  encodePageToken,
  heartbeatAttributes,
  type Item,
  type ItemKey,
  isRunKeyOf,
  isSameCompletion,
  isTaskKey,
  keyOf,
  keys,
  optionalTaskAttributes,
  outcomeAttributes,
  RUN_SK_PREFIX,
  runFromClaim,
  runFromItem,
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
import { DEFAULT_SHARD_COUNT, tableDefinition } from './table-definition.js';

/** Capacity the store's calls consumed, as DynamoDB reported it (`ReturnConsumedCapacity: INDEXES`). */
export interface CapacityTally {
  readUnits: number;
  writeUnits: number;
  /** Calls sent, failed ones included. */
  requests: number;
}

export interface DynamoTaskStoreOptions {
  /** A document client, or a plain client that the store wraps in one. */
  client: DynamoDBDocumentClient | DynamoDBClient;
  tableName: string;
  /** Due-index shards; every store and tick sharing a table must agree. */
  shardCount?: number;
  /**
   * How long ahead a task due again soon keeps its due-index key (`dueIndexKey`): the tick's
   * interval. Default one minute.
   */
  dueKeyHoldMs?: number;
  /**
   * Send `saveTasks` as PartiQL `BatchExecuteStatement`s of up to 25 conditional updates (one
   * request instead of 25; each statement billed as the single write). Default `true`; `false`
   * sends one PutItem per task, whose capacity DynamoDB Local reports (it reports none for
   * PartiQL), which is what the cost benchmark needs.
   */
  batchStatements?: boolean;
}

/** Internal attribute: a nonce per conditional create, to recognise our own write when the SDK retried it. */
const WRITE_ID = 'writeId';
const CAPACITY = { ReturnConsumedCapacity: 'INDEXES' } as const;
/** PartiQL batches report totals only (and DynamoDB Local reports nothing for them). */
const TOTAL_CAPACITY = { ReturnConsumedCapacity: 'TOTAL' } as const;

/** A table or attribute name as a PartiQL identifier. */
function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The `writeId` of an item a failed statement returned, raw or unmarshalled. */
function writeIdOf(item: Record<string, unknown> | undefined): string | undefined {
  const value = item?.[WRITE_ID];
  if (typeof value === 'string') return value;
  return (value as AttributeValue | undefined)?.S;
}
const BATCH_GET_SIZE = 100;
const BATCH_WRITE_SIZE = 25;
const BATCH_ATTEMPTS = 8;

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function isConditionFailure(error: unknown): error is Error & { Item?: Record<string, AttributeValue> } {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** Converts a raw attribute value (as in `ConditionalCheckFailedException.Item`) to a plain value. */
function fromAttributeValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) return fromRawItem(value.M);
  if (value.L !== undefined) return value.L.map(fromAttributeValue);
  if (value.B !== undefined) return value.B;
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map(Number));
  if (value.BS !== undefined) return new Set(value.BS);
  throw new Error('unsupported attribute value');
}

function fromRawItem(raw: Record<string, AttributeValue>): Item {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, fromAttributeValue(v)]));
}

/** The item a failed condition saw (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), if any. */
function oldItemOf(error: { Item?: Record<string, AttributeValue> }): Item | undefined {
  return error.Item && Object.keys(error.Item).length > 0 ? fromRawItem(error.Item) : undefined;
}

/** Builds `SET` clauses with placeholder names, so no attribute ever collides with a reserved word. */
class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private n = 0;

  name(attribute: string): string {
    const placeholder = `#${attribute.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }
  value(value: unknown): string {
    const placeholder = `:v${this.n++}`;
    this.values[placeholder] = value;
    return placeholder;
  }
  set(attributes: Item, options: { ifAbsent?: boolean } = {}): this {
    for (const [attribute, value] of Object.entries(attributes)) {
      const n = this.name(attribute);
      const v = this.value(value);
      this.sets.push(options.ifAbsent ? `${n} = if_not_exists(${n}, ${v})` : `${n} = ${v}`);
    }
    return this;
  }
  get expression(): string {
    return `SET ${this.sets.join(', ')}`;
  }
}

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const backoffMs = (attempt: number) => Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);

/**
 * {@link TaskStore} on one DynamoDB table (see `table-definition.ts`).
 *
 * @example
 * const store = new DynamoTaskStore({ client: new DynamoDBClient({}), tableName: 'tickwork' });
 * const { tasks } = await store.queryDue(0, new Date());
 */
export class DynamoTaskStore implements TaskStore {
  readonly shardCount: number;
  private readonly dueKeyHoldMs: number;
  private readonly batchStatements: boolean;
  /** Running tally of consumed capacity; the benchmark reads it. */
  readonly capacity: CapacityTally = { readUnits: 0, writeUnits: 0, requests: 0 };
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(options: DynamoTaskStoreOptions) {
    this.tableName = options.tableName;
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    if (!Number.isInteger(this.shardCount) || this.shardCount < 1) {
      throw new RangeError(`shardCount must be a whole number of at least 1, not ${this.shardCount}`);
    }
    this.dueKeyHoldMs = checkHold(options.dueKeyHoldMs);
    this.batchStatements = options.batchStatements ?? true;
    this.doc =
      options.client instanceof DynamoDBDocumentClient
        ? options.client
        : DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Sets the capacity tally back to zero. */
  resetCapacity(): void {
    this.capacity.readUnits = 0;
    this.capacity.writeUnits = 0;
    this.capacity.requests = 0;
  }

  /** Sends one call and adds what it consumed to {@link capacity}. */
  private async call<O extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] | undefined }>(
    kind: 'read' | 'write',
    send: () => Promise<O>,
  ): Promise<O> {
    this.capacity.requests++;
    const output = await send();
    const consumed = output.ConsumedCapacity;
    for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
      if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
        this.capacity.readUnits += c.ReadCapacityUnits ?? 0;
        this.capacity.writeUnits += c.WriteCapacityUnits ?? 0;
      } else if (kind === 'read') this.capacity.readUnits += c.CapacityUnits ?? 0;
      else this.capacity.writeUnits += c.CapacityUnits ?? 0;
    }
    return output;
  }

  private async getItem(key: ItemKey): Promise<Item | undefined> {
    const out = await this.call('read', () =>
      this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true, ...CAPACITY }),
      ),
    );
    return out.Item;
  }

  // ------------------------------------------------------------------------------ task types

  async putTaskType(type: TaskType): Promise<void> {
    await this.call('write', () =>
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: taskTypeToItem(type), ...CAPACITY })),
    );
  }

  async listTaskTypes(): Promise<TaskType[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.call('read', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': attr.pk },
            ExpressionAttributeValues: { ':pk': TYPES_PK },
            ExclusiveStartKey: start,
            ...CAPACITY,
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.map(taskTypeFromItem).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  }

  // ------------------------------------------------------------------------------ tasks

  async createTask(task: TaskState): Promise<{ created: boolean }> {
    const writeId = randomUUID();
    try {
      await this.call('write', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...taskToItem(task, this.shardCount, this.dueKeyHoldMs), [WRITE_ID]: writeId },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': attr.pk },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...CAPACITY,
          }),
        ),
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

  /**
   * Tasks in id order: one Query of the keys-only `tasks` index (task items only, so history
   * is never read), then a consistent BatchGetItem of the page.
   */
  async listTasks(options: { limit: number; nextToken?: string }): Promise<Page<TaskState>> {
    checkLimit(options.limit);
    const after = options.nextToken === undefined ? undefined : decodePageToken(options.nextToken, isTaskKey);
    const index = tableDefinition.taskIndex;
    const out = await this.call('read', () =>
      this.doc.send(
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
          ...CAPACITY,
        }),
      ),
    );
    const pageKeys = (out.Items ?? []).map(keyOf);
    const byPk = new Map((await this.batchGetConsistent(pageKeys)).map((item) => [String(item.pk), item]));
    // A task deleted between the index read and the batch read is simply left out.
    const items = pageKeys.flatMap((k) => {
      const item = byPk.get(k.pk);
      return item ? [taskFromItem(item)] : [];
    });
    const last = pageKeys[pageKeys.length - 1];
    return out.LastEvaluatedKey && last ? { items, nextToken: encodePageToken(last) } : { items };
  }

  private async batchGetConsistent(wanted: ItemKey[]): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < wanted.length; i += 100) {
      let pending: Record<string, unknown>[] = wanted.slice(i, i + 100).map((k) => ({ ...k }));
      for (let round = 0; pending.length > 0; round++) {
        if (round > 8) throw new Error('BatchGetItem left keys unprocessed after 8 retries');
        if (round > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** round));
        const keysNow = pending;
        const out = await this.call('read', () =>
          this.doc.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: keysNow, ConsistentRead: true } },
              ...CAPACITY,
            }),
          ),
        );
        found.push(...(out.Responses?.[this.tableName] ?? []));
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  async saveTask(
    task: TaskState,
    options: { expectedVersion: number; runWrites?: RunWrite[] },
  ): Promise<SaveTaskResult> {
    const { expectedVersion, runWrites = [] } = options;
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

    if (runWrites.length === 0) {
      try {
        await this.call('write', () =>
          this.doc.send(
            new PutCommand({ ...put, ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...CAPACITY }),
          ),
        );
        return saved();
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return oldItemOf(error)?.[WRITE_ID] === writeId ? saved() : { saved: false, reason: 'version' };
      }
    }

    const transactItems: NonNullable<TransactWriteCommandInput['TransactItems']> = [{ Put: put }];
    for (const write of runWrites) transactItems.push(this.runWriteItem(write));
    try {
      await this.call('write', () =>
        this.doc.send(
          new TransactWriteCommand({
            TransactItems: transactItems,
            // Makes the SDK's retries of an ambiguous failure idempotent (for ten minutes).
            ClientRequestToken: writeId,
            ...CAPACITY,
          }),
        ),
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

  async saveTasks(saves: { task: TaskState; expectedVersion: number }[]): Promise<SaveTaskResult[]> {
    checkDistinct(saves);
    // All or none are sent: a broken invariant in the last save must not let the first ones go.
    for (const { task, expectedVersion } of saves) checkNextVersion(task, expectedVersion);
    if (!this.batchStatements || saves.length === 1) {
      return Promise.all(saves.map(({ task, expectedVersion }) => this.saveTask(task, { expectedVersion })));
    }
    const chunks: { task: TaskState; expectedVersion: number }[][] = [];
    for (let i = 0; i < saves.length; i += BATCH_WRITE_SIZE)
      chunks.push(saves.slice(i, i + BATCH_WRITE_SIZE));
    return (await Promise.all(chunks.map((chunk) => this.saveChunk(chunk)))).flat();
  }

  /**
   * One BatchExecuteStatement: per task an UPDATE that sets every attribute of its new item and
   * removes the optional ones it lacks, if the stored version is the expected one. A statement
   * that fails for any reason but a lost compare-and-set (throttling, say) is sent again on its
   * own through {@link saveTask}, with the SDK's retries.
   */
  private async saveChunk(chunk: { task: TaskState; expectedVersion: number }[]): Promise<SaveTaskResult[]> {
    const table = quoteName(this.tableName);
    const prepared = chunk.map(({ task, expectedVersion }) => {
      checkNextVersion(task, expectedVersion);
      const writeId = randomUUID();
      const item: Item = { ...taskToItem(task, this.shardCount, this.dueKeyHoldMs), [WRITE_ID]: writeId };
      const sets = Object.entries(item).filter(([name]) => name !== attr.pk && name !== attr.sk);
      const removes = optionalTaskAttributes.filter((name) => item[name] === undefined);
      const statement = [
        `UPDATE ${table}`,
        ...sets.map(([name]) => `SET ${quoteName(name)} = ?`),
        ...removes.map((name) => `REMOVE ${quoteName(name)}`),
        `WHERE ${quoteName(attr.pk)} = ? AND ${quoteName(attr.sk)} = ? AND ${quoteName(attr.version)} = ?`,
      ].join(' ');
      return {
        item,
        writeId,
        request: {
          Statement: statement,
          // Marshalled here: the document client's wrapper of this command fails to read back
          // the item a failed statement returns.
          Parameters: [...sets.map(([, value]) => value), item[attr.pk], item[attr.sk], expectedVersion].map(
            (value) => convertToAttr(value, { removeUndefinedValues: true }),
          ),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
        },
      };
    });
    const out = await this.call('write', () =>
      this.doc.send(
        new BatchExecuteStatementCommand({ Statements: prepared.map((p) => p.request), ...TOTAL_CAPACITY }),
      ),
    );
    const responses = out.Responses ?? [];
    return Promise.all(
      prepared.map(async ({ item, writeId }, i): Promise<SaveTaskResult> => {
        const error = responses[i]?.Error;
        if (!error) return { saved: true, task: taskFromItem(item) };
        if (error.Code === 'ConditionalCheckFailed') {
          // Our own write, applied by an attempt whose answer was lost and then sent again.
          return writeIdOf(error.Item) === writeId
            ? { saved: true, task: taskFromItem(item) }
            : { saved: false, reason: 'version' };
        }
        const { task, expectedVersion } = chunk[i] as { task: TaskState; expectedVersion: number };
        return this.saveTask(task, { expectedVersion });
      }),
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

  async deleteTask(taskId: string, options: { expectedVersion: number }): Promise<{ deleted: boolean }> {
    try {
      await this.call('write', () =>
        this.doc.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: keys.task(taskId),
            ConditionExpression: 'attribute_exists(#pk) AND #version = :expected',
            ExpressionAttributeNames: { '#pk': attr.pk, '#version': attr.version },
            ExpressionAttributeValues: { ':expected': options.expectedVersion },
            ...CAPACITY,
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) return { deleted: false };
      throw error;
    }
    try {
      await this.deleteHistory(taskId);
    } catch {
      // Best effort: the task is gone, and TTL removes whatever history is left.
    }
    return { deleted: true };
  }

  private async deleteHistory(taskId: string): Promise<void> {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.call('read', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :run)',
            ProjectionExpression: '#pk, #sk',
            ExpressionAttributeNames: { '#pk': attr.pk, '#sk': attr.sk },
            ExpressionAttributeValues: { ':pk': keys.task(taskId).pk, ':run': RUN_SK_PREFIX },
            ExclusiveStartKey: start,
            ...CAPACITY,
          }),
        ),
      );
      const runKeys = (out.Items ?? []).map(keyOf);
      for (let i = 0; i < runKeys.length; i += BATCH_WRITE_SIZE) {
        await this.batchDelete(runKeys.slice(i, i + BATCH_WRITE_SIZE));
      }
      start = out.LastEvaluatedKey;
    } while (start);
  }

  private async batchDelete(batch: ItemKey[]): Promise<void> {
    type Requests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>;
    let requests: Requests = { [this.tableName]: batch.map((key) => ({ DeleteRequest: { Key: key } })) };
    for (let attempt = 0; attempt < BATCH_ATTEMPTS; attempt++) {
      const out = await this.call('write', () =>
        this.doc.send(new BatchWriteCommand({ RequestItems: requests, ...CAPACITY })),
      );
      const left = out.UnprocessedItems?.[this.tableName];
      if (!left || left.length === 0) return;
      requests = { [this.tableName]: left };
      await sleep(backoffMs(attempt));
    }
    throw new Error(`could not delete ${batch.length} run items: DynamoDB kept them unprocessed`);
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
    const tasks: TaskState[] = [];
    let itemsRead = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.call('read', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: tableDefinition.dueIndex.indexName,
            KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
            ExpressionAttributeNames: { '#shard': attr.dueShard, '#dueAt': attr.dueAt },
            ExpressionAttributeValues: { ':shard': String(shard), ':now': now.getTime() },
            ExclusiveStartKey: start,
            Limit: limit === undefined ? undefined : limit - tasks.length,
            ...CAPACITY,
          }),
        ),
      );
      itemsRead += out.Count ?? 0;
      for (const item of out.Items ?? []) tasks.push(taskFromItem(item));
      start = out.LastEvaluatedKey;
    } while (start && (limit === undefined || tasks.length < limit));
    return { tasks, usage: { itemsRead, writes: 0 } };
  }

  // ------------------------------------------------------------------------------ runs

  async getRuns(
    runKeys: { taskId: string; runId: string }[],
  ): Promise<{ runs: Map<string, RunRecord>; usage: StoreUsage }> {
    const runs = new Map<string, RunRecord>();
    // BatchGetItem refuses duplicate keys in one request.
    const unique = [...new Map(runKeys.map((k) => [`${k.taskId}\u0000${k.runId}`, k])).values()];
    let itemsRead = 0;
    for (let i = 0; i < unique.length; i += BATCH_GET_SIZE) {
      type Requests = NonNullable<ConstructorParameters<typeof BatchGetCommand>[0]['RequestItems']>;
      let requests: Requests = {
        [this.tableName]: {
          Keys: unique.slice(i, i + BATCH_GET_SIZE).map((k) => keys.run(k.taskId, k.runId)),
        },
      };
      for (let attempt = 0; ; attempt++) {
        const out = await this.call('read', () =>
          this.doc.send(new BatchGetCommand({ RequestItems: requests, ...CAPACITY })),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const run = runFromItem(item);
          runs.set(run.runId, run);
          itemsRead++;
        }
        const left = out.UnprocessedKeys?.[this.tableName];
        if (!left?.Keys || left.Keys.length === 0) break;
        if (attempt + 1 >= BATCH_ATTEMPTS) {
          throw new Error(`could not read ${left.Keys.length} run items: DynamoDB kept them unprocessed`);
        }
        requests = { [this.tableName]: left };
        await sleep(backoffMs(attempt));
      }
    }
    return { runs, usage: { itemsRead, writes: 0 } };
  }

  async getRun(taskId: string, runId: string): Promise<RunRecord | undefined> {
    const item = await this.getItem(keys.run(taskId, runId));
    return item && runFromItem(item);
  }

  async listRuns(taskId: string, options: { limit: number; nextToken?: string }): Promise<Page<RunRecord>> {
    checkLimit(options.limit);
    let start: Record<string, unknown> | undefined =
      options.nextToken === undefined
        ? undefined
        : { ...decodePageToken(options.nextToken, (key) => isRunKeyOf(taskId, key)) };
    const items: Item[] = [];
    // One more than asked for tells whether there is a next page, so the last page has no token.
    while (items.length <= options.limit) {
      const out = await this.call('read', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :run)',
            ExpressionAttributeNames: { '#pk': attr.pk, '#sk': attr.sk },
            ExpressionAttributeValues: { ':pk': keys.task(taskId).pk, ':run': RUN_SK_PREFIX },
            ScanIndexForward: false,
            Limit: options.limit + 1 - items.length,
            ExclusiveStartKey: start,
            ...CAPACITY,
          }),
        ),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
      if (!start) break;
    }
    const page = items.slice(0, options.limit);
    const last = page[page.length - 1];
    const more = items.length > options.limit;
    const runs = page.map(runFromItem);
    return more && last ? { items: runs, nextToken: encodePageToken(keyOf(last)) } : { items: runs };
  }

  async claimRun(claim: RunClaim): Promise<ClaimResult> {
    const run = runFromClaim(claim);
    const writeId = randomUUID();
    try {
      await this.call('write', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...runToItem(run), [WRITE_ID]: writeId },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': attr.pk },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...CAPACITY,
          }),
        ),
      );
      return { claimed: true, run: runFromItem(runToItem(run)) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const old = oldItemOf(error) ?? (await this.getItem(keys.run(claim.taskId, claim.runId)));
      if (!old)
        throw new Error(`claim of run ${claim.runId} failed its condition, yet no record exists`, {
          cause: error,
        });
      // Our own write, retried by the SDK after an ambiguous failure: the claim is ours.
      if (old[WRITE_ID] === writeId) return { claimed: true, run: runFromItem(old) };
      return { claimed: false, existing: runFromItem(old) };
    }
  }

  /**
   * An update by the run's holder, on condition it is still running with this lease: the new
   * item when it held, the item as it was (if any) when it did not.
   */
  private async fencedUpdate(
    taskId: string,
    runId: string,
    fence: { token: number; requestId: string },
    attributes: Item,
  ): Promise<{ held: true; item: Item } | { held: false; old?: Item }> {
    const builder = new UpdateBuilder().set(attributes);
    const condition = `${builder.name(attr.status)} = ${builder.value('running')} AND ${builder.name(attr.token)} = ${builder.value(fence.token)} AND ${builder.name(attr.requestId)} = ${builder.value(fence.requestId)}`;
    try {
      const out = await this.call('write', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.run(taskId, runId),
            UpdateExpression: builder.expression,
            ConditionExpression: condition,
            ExpressionAttributeNames: builder.names,
            ExpressionAttributeValues: builder.values,
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...CAPACITY,
          }),
        ),
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
    fence: { token: number; requestId: string },
    update: { now: Date; leaseExpiresAt: Date; progress?: Progress },
  ): Promise<HeartbeatResult> {
    const result = await this.fencedUpdate(taskId, runId, fence, heartbeatAttributes(update));
    if (result.held) return { held: true, cancelRequested: result.item[attr.cancelRequested] === true };
    const status = result.old?.[attr.status];
    return typeof status === 'string'
      ? { held: false, status: status as RunRecord['status'] }
      : { held: false };
  }

  async completeRun(
    taskId: string,
    runId: string,
    fence: { token: number; requestId: string },
    outcome: RunOutcome,
  ): Promise<CompleteResult> {
    const result = await this.fencedUpdate(taskId, runId, fence, outcomeAttributes(outcome));
    if (result.held) return { completed: true, run: runFromItem(result.item) };
    if (!result.old) return { completed: false };
    const current = runFromItem(result.old);
    // The SDK's retry of a completion that did land finds its own outcome: that is a success.
    return isSameCompletion(current, fence, outcome)
      ? { completed: true, run: current }
      : { completed: false, current };
  }

  async requestCancel(record: RunRecord, now: Date): Promise<CancelRequestResult> {
    const key = keys.run(record.taskId, record.runId);
    // Each lost race means the run moved on (absent -> running -> ended), so three tries settle it.
    for (let attempt = 0; attempt < 3; attempt++) {
      let old: Item | undefined;
      try {
        await this.call('write', () =>
          this.doc.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: key,
              UpdateExpression: 'SET #cancel = :true',
              ConditionExpression: '#status = :running',
              ExpressionAttributeNames: { '#cancel': attr.cancelRequested, '#status': attr.status },
              ExpressionAttributeValues: { ':true': true, ':running': 'running' },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              ...CAPACITY,
            }),
          ),
        );
        return { requested: true, status: 'running' };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        old = oldItemOf(error);
      }
      const status = old?.[attr.status] as RunRecord['status'] | undefined;
      if (status !== undefined && isTerminal(status)) return { requested: false, status };
      if (status === 'running') continue;
      // Never claimed (no record, or one still `dispatched`): record it cancelled so it never starts.
      try {
        await this.call('write', () =>
          this.doc.send(
            new PutCommand({
              TableName: this.tableName,
              Item: runToItem({ ...record, status: 'cancelled', finishedAt: now }),
              ConditionExpression: 'attribute_not_exists(#pk) OR #status = :dispatched',
              ExpressionAttributeNames: { '#pk': attr.pk, '#status': attr.status },
              ExpressionAttributeValues: { ':dispatched': 'dispatched' },
              ...CAPACITY,
            }),
          ),
        );
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

  async updateSchedulerState(update: Partial<SchedulerState>): Promise<void> {
    const attributes = schedulerAttributes(update);
    if (Object.keys(attributes).length === 0) return;
    const builder = new UpdateBuilder().set(attributes);
    await this.call('write', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.scheduler(),
          UpdateExpression: builder.expression,
          ExpressionAttributeNames: builder.names,
          ExpressionAttributeValues: builder.values,
          ...CAPACITY,
        }),
      ),
    );
  }
}
