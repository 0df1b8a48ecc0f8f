/**
 * The single source of Tickwork's DynamoDB table definition: keys, the sparse `due` index and
 * the TTL attribute. Plain data, so the SDK's `CreateTable` input (below) and the CDK construct
 * are both built from it and can never disagree.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  type TableDescription,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';

/** Due-index shards a store uses unless told otherwise. */
export const DEFAULT_SHARD_COUNT = 4;

/**
 * Shards of each status in the run index: a run's shard comes from a hash of its id. Fixed, not
 * configured, because every reader must know every partition a run can be in.
 */
export const RUN_INDEX_SHARDS = 4;

/** One key attribute: its name and DynamoDB scalar type (`S` string, `N` number). */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

/** The table's shape as plain data. */
export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  /**
   * The sparse due index: only task items with something to do carry its keys. Keys only: the
   * tick reads the records themselves by key after each page (BatchGetItem), so a dispatch that
   * keeps the task's index key (`dueIndexKey`) costs this index nothing.
   */
  readonly dueIndex: {
    readonly indexName: string;
    /** `"0"`..`"S-1"`: the shard of the task id. */
    readonly partitionKey: KeyAttribute;
    /** Epoch milliseconds: the next instant the tick must look at the task. */
    readonly sortKey: KeyAttribute;
    readonly projection: 'KEYS_ONLY';
  };
  /**
   * The due index of tables created by 0.2 and earlier: same keys, every attribute projected. A projection
   * cannot change in place, so an upgraded table keeps it until `dueIndex` is `ACTIVE` beside it;
   * the store reads it only while the new one cannot be read (docs/operating.md, "Upgrading").
   */
  readonly formerDueIndex: {
    readonly indexName: string;
    readonly partitionKey: KeyAttribute;
    readonly sortKey: KeyAttribute;
    readonly projection: 'ALL';
  };
  /**
   * The task list index: only task items carry its partition key, keys only, so listing tasks
   * reads no run history and a task write that keeps its id costs this index nothing.
   */
  readonly taskIndex: {
    readonly indexName: string;
    /** Always `"TASK"`, on task items only. */
    readonly partitionKey: KeyAttribute;
    /** The task id: lists come out in id order. */
    readonly sortKey: KeyAttribute;
    readonly projection: 'KEYS_ONLY';
  };
  /**
   * The run index, over run records of every task: partition `<status>#<shard>`, sort the run id
   * (a ULID: creation order). Lists runs across tasks by status and time, page by page, and finds
   * the `running` records whose lease ended, without reading history. It projects the fields a
   * list shows and never the ones a heartbeat writes, so heartbeats cost it nothing.
   */
  readonly runIndex: {
    readonly indexName: string;
    readonly partitionKey: KeyAttribute;
    readonly sortKey: KeyAttribute;
    readonly projection: 'INCLUDE';
    readonly nonKeyAttributes: readonly string[];
  };
  /** Epoch seconds on run items: history retention. */
  readonly ttlAttribute: string;
  readonly billingMode: 'PAY_PER_REQUEST';
}

/**
 * The table definition.
 *
 * @example
 * // CDK
 * new Table(this, 'Table', {
 *   partitionKey: { name: tableDefinition.partitionKey.name, type: AttributeType.STRING },
 *   timeToLiveAttribute: tableDefinition.ttlAttribute,
 * });
 */
export const tableDefinition: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  dueIndex: {
    indexName: 'due2',
    partitionKey: { name: 'dueShard', type: 'S' },
    sortKey: { name: 'dueAt', type: 'N' },
    projection: 'KEYS_ONLY',
  },
  formerDueIndex: {
    indexName: 'due',
    partitionKey: { name: 'dueShard', type: 'S' },
    sortKey: { name: 'dueAt', type: 'N' },
    projection: 'ALL',
  },
  taskIndex: {
    indexName: 'tasks',
    partitionKey: { name: 'kind', type: 'S' },
    sortKey: { name: 'id', type: 'S' },
    projection: 'KEYS_ONLY',
  },
  runIndex: {
    indexName: 'runs',
    partitionKey: { name: 'runPart', type: 'S' },
    sortKey: { name: 'runId', type: 'S' },
    projection: 'INCLUDE',
    nonKeyAttributes: [
      'taskId',
      'type',
      'status',
      'trigger',
      'attempt',
      'scheduledFor',
      'dispatchedAt',
      'startedAt',
      'finishedAt',
      'durationMs',
      'slotCount',
      'replayOf',
    ],
  },
  ttlAttribute: 'expiresAt',
  billingMode: 'PAY_PER_REQUEST',
};

/** Every global secondary index of the table, for builders that iterate (the CDK construct). */
export function globalIndexes(): {
  indexName: string;
  partitionKey: KeyAttribute;
  sortKey: KeyAttribute;
  projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  nonKeyAttributes?: readonly string[];
}[] {
  return [tableDefinition.dueIndex, tableDefinition.taskIndex, tableDefinition.runIndex];
}

/** The `CreateTable` input of a Tickwork table named `tableName`. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey } = tableDefinition;
  const indexes = globalIndexes();
  return {
    TableName: tableName,
    BillingMode: tableDefinition.billingMode,
    AttributeDefinitions: uniqueAttributes([
      partitionKey,
      sortKey,
      ...indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
    ]).map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
    KeySchema: [
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      { AttributeName: sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
      ],
      Projection: {
        ProjectionType: index.projection,
        ...(index.nonKeyAttributes ? { NonKeyAttributes: [...index.nonKeyAttributes] } : {}),
      },
    })),
  };
}

/** Key attributes once each (an attribute may key several indexes). */
function uniqueAttributes(attributes: KeyAttribute[]): KeyAttribute[] {
  return [...new Map(attributes.map((a) => [a.name, a])).values()];
}

/**
 * Creates the table when it does not exist, waits until it is `ACTIVE` and enables TTL on
 * {@link TableDefinition.ttlAttribute}; a table of an earlier layout gets the keys-only due index
 * in place of its former one ({@link upgradeDueIndex}). Idempotent: safe to call on every start of
 * the local runtime and from several processes at once.
 */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { maxWaitSeconds?: number } = {},
): Promise<void> {
  let exists = true;
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (Table) await upgradeDueIndex(client, Table, options.maxWaitSeconds ?? 120);
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    exists = false;
  }
  if (!exists) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (error) {
      // Someone else created it between our describe and create: fine, wait for it below.
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
  await waitUntilTableExists(
    { client, maxWaitTime: options.maxWaitSeconds ?? 120, minDelay: 1, maxDelay: 5 },
    { TableName: tableName },
  );
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: tableDefinition.ttlAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    // A concurrent caller enabled it first ("TimeToLive is already enabled").
    if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
  }
}

/**
 * Brings a table created by 0.2 or earlier to the keys-only due index, the way DynamoDB allows
 * (one index created or deleted per `UpdateTable`, a projection never changed in place): creates
 * {@link TableDefinition.dueIndex} beside the former one, waits until it is `ACTIVE` (the store
 * reads the former one meanwhile), then deletes the former one. What the construct does over two
 * deploys, for tables `ensureTable` manages (the local runtime's).
 */
export async function upgradeDueIndex(
  client: DynamoDBClient,
  table: TableDescription,
  maxWaitSeconds: number,
): Promise<void> {
  const tableName = table.TableName as string;
  const names = new Set((table.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName));
  const { dueIndex, formerDueIndex } = tableDefinition;
  if (!names.has(dueIndex.indexName) && !names.has(formerDueIndex.indexName)) return;
  if (!names.has(dueIndex.indexName)) {
    await updateIndexes(client, tableName, maxWaitSeconds, {
      AttributeDefinitions: [dueIndex.partitionKey, dueIndex.sortKey].map((a) => ({
        AttributeName: a.name,
        AttributeType: a.type,
      })),
      GlobalSecondaryIndexUpdates: [
        {
          Create: {
            IndexName: dueIndex.indexName,
            KeySchema: [
              { AttributeName: dueIndex.partitionKey.name, KeyType: 'HASH' },
              { AttributeName: dueIndex.sortKey.name, KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: dueIndex.projection },
          },
        },
      ],
    });
  }
  if (names.has(formerDueIndex.indexName)) {
    await updateIndexes(client, tableName, maxWaitSeconds, {
      GlobalSecondaryIndexUpdates: [{ Delete: { IndexName: formerDueIndex.indexName } }],
    });
  }
}

/**
 * One `UpdateTable` of the indexes, then waits until the table and every index it keeps are
 * `ACTIVE` (an index being deleted is no longer read: its end is not waited for).
 */
async function updateIndexes(
  client: DynamoDBClient,
  tableName: string,
  maxWaitSeconds: number,
  update: Omit<ConstructorParameters<typeof UpdateTableCommand>[0], 'TableName'>,
): Promise<void> {
  await waitUntilIndexesActive(client, tableName, maxWaitSeconds);
  try {
    await client.send(new UpdateTableCommand({ TableName: tableName, ...update }));
  } catch (error) {
    // Another process made the same change first: its index exists, or is already gone.
    const raced =
      error instanceof Error &&
      /already exists|does not exist|not found|ResourceInUse/i.test(`${error.name} ${error.message}`);
    if (!raced) throw error;
  }
  await waitUntilIndexesActive(client, tableName, maxWaitSeconds);
}

async function waitUntilIndexesActive(client: DynamoDBClient, tableName: string, maxWaitSeconds: number) {
  const until = Date.now() + maxWaitSeconds * 1000;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const busy =
      Table?.TableStatus !== 'ACTIVE' ||
      (Table.GlobalSecondaryIndexes ?? []).some(
        (i) => i.IndexStatus !== 'ACTIVE' && i.IndexStatus !== 'DELETING',
      );
    if (!busy) return;
    if (Date.now() > until)
      throw new Error(`table ${tableName}: indexes not ACTIVE after ${maxWaitSeconds} s`);
    await new Promise((done) => setTimeout(done, 500));
  }
}
