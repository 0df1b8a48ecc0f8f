import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../src/core/due.js';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { TaskState } from '../../src/core/model.js';
import { taskToItem } from '../../src/store/dynamo-items.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { ensureTable, tableDefinition } from '../../src/store/table-definition.js';
import { CapacityMeter } from '../bench/capacity.js';
import { aClaim, aRun, aTask, at } from '../support/builders.js';
import { createTestTable } from '../support/dynamo.js';
import { describeAuditContract } from './audit-contract.js';
import { describeTaskStoreContract } from './contract.js';

// A fresh table per test: still one engine, and no test sees another's items.
describeTaskStoreContract('DynamoDB Local', async () => (await createTestTable('contract')).store);
describeAuditContract('DynamoDB Local', async () => (await createTestTable('audit')).store);

describe('DynamoTaskStore on DynamoDB Local', () => {
  it('creates its table idempotently, with the due index and TTL', async () => {
    const { client, tableName } = await createTestTable('ensure');

    await ensureTable(client, tableName);

    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(
      Table?.GlobalSecondaryIndexes?.map((i) => [
        i.IndexName,
        i.KeySchema,
        i.Projection?.ProjectionType,
      ]).sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      [
        'due2',
        [
          { AttributeName: 'dueShard', KeyType: 'HASH' },
          { AttributeName: 'dueAt', KeyType: 'RANGE' },
        ],
        'KEYS_ONLY',
      ],
      [
        'runs',
        [
          { AttributeName: 'runPart', KeyType: 'HASH' },
          { AttributeName: 'runId', KeyType: 'RANGE' },
        ],
        'INCLUDE',
      ],
      [
        'tasks',
        [
          { AttributeName: 'kind', KeyType: 'HASH' },
          { AttributeName: 'id', KeyType: 'RANGE' },
        ],
        'KEYS_ONLY',
      ],
    ]);
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    expect(ttl.TimeToLiveDescription).toEqual({
      TimeToLiveStatus: 'ENABLED',
      AttributeName: tableDefinition.ttlAttribute,
    });
  });

  it('accounts consumed capacity per call (a due-index key change costs 3 write units)', async () => {
    const { client, tableName, store } = await createTestTable('capacity');
    const meter = CapacityMeter.attach(client);
    const units = async (action: () => Promise<unknown>) => {
      meter.reset(tableName);
      await action();
      const { readUnits, writeUnits, requests } = meter.tally(tableName);
      return [readUnits, writeUnits, requests];
    };
    const next = (t: TaskState, changes: Partial<TaskState>) => ({
      ...t,
      ...changes,
      version: t.version + 1,
    });
    const v1 = aTask();
    const v2 = next(v1, { nextSlotAt: at(120_000) });
    const v3 = next(v2, { name: 'renamed' });
    const v4 = next(v3, { enabled: false });
    const v5 = next(v4, { name: 'idle' });
    const v6 = next(v5, { enabled: true });
    const claim = aClaim({ taskId: v1.id });
    const fence = { token: 1, requestId: 'req-1' };
    const shard = shardOf(v1.id, store.shardCount);

    // [read units, write units, requests]; writes: table 1 + each index write 1, doubled in a transaction.
    // Creating also enters the keys-only task list index; later writes keep its key and cost it nothing.
    expect(await units(() => store.createTask(v1))).toEqual([0, 3, 1]);
    expect(await units(() => store.saveTask(v2, { expectedVersion: 1 }))).toEqual([0, 3, 1]);
    // A write that keeps the keys-only due index's key and changes nothing it projects: 0 there.
    expect(await units(() => store.saveTask(v3, { expectedVersion: 2 }))).toEqual([0, 1, 1]);
    expect(await units(() => store.saveTask(v4, { expectedVersion: 3 }))).toEqual([0, 2, 1]);
    expect(await units(() => store.saveTask(v5, { expectedVersion: 4 }))).toEqual([0, 1, 1]);
    const record = aRun({ taskId: v1.id });
    // The run record also enters the run index: 1 more, doubled in the transaction.
    expect(
      await units(() => store.saveTask(v6, { expectedVersion: 5, runWrites: [{ kind: 'record', record }] })),
    ).toEqual([0, 8, 1]);
    // A lost race reports no capacity (DynamoDB bills it, but the exception carries none).
    expect(await units(() => store.saveTask(v6, { expectedVersion: 5 }))).toEqual([0, 0, 1]);
    // The claim does not enter the run index (0); the first heartbeat puts it under `running`
    // (1); later ones set the same key and nothing it projects (0).
    expect(await units(() => store.claimRun(claim))).toEqual([0, 1, 1]);
    expect(
      await units(() =>
        store.heartbeat(v1.id, claim.runId, fence, { now: at(1), leaseExpiresAt: at(600_000) }),
      ),
    ).toEqual([0, 2, 1]);
    expect(
      await units(() =>
        store.heartbeat(v1.id, claim.runId, fence, { now: at(2), leaseExpiresAt: at(600_001) }),
      ),
    ).toEqual([0, 1, 1]);
    expect(
      await units(() =>
        store.completeRun(v1.id, claim.runId, fence, {
          status: 'succeeded',
          finishedAt: at(2),
          durationMs: 1,
        }),
      ),
    ).toEqual([0, 3, 1]); // the run's index entry moves from `running` to `succeeded`: 2
    // A run that ends before its first heartbeat enters the index once, at its end: 1.
    const short = aClaim({ taskId: v1.id, requestId: 'req-short' });
    await store.claimRun(short);
    expect(
      await units(() =>
        store.completeRun(
          v1.id,
          short.runId,
          { token: 1, requestId: 'req-short' },
          {
            status: 'succeeded',
            finishedAt: at(3),
            durationMs: 1,
          },
        ),
      ),
    ).toEqual([0, 2, 1]);
    expect(await units(() => store.getTask(v1.id))).toEqual([1, 0, 1]);
    expect(await units(() => store.getRun(v1.id, claim.runId))).toEqual([1, 0, 1]);
    // The keys-only index's Query, then the records by key (BatchGetItem, eventually consistent).
    expect(await units(() => store.queryDue(shard, at(3_600_000)))).toEqual([1, 0, 2]);
    expect(await units(() => store.getRuns([{ taskId: v1.id, runId: claim.runId }]))).toEqual([0.5, 0, 1]);
    expect(await units(() => store.listRuns(v1.id, { limit: 10 }))).toEqual([0.5, 0, 1]);
  });
});

describe('DynamoTaskStore faults (aws-sdk-client-mock)', () => {
  const mockedStore = () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    return { mock: mockClient(doc), store: new DynamoTaskStore({ client: doc, tableName: 'mocked' }) };
  };
  const throttled = () =>
    new ProvisionedThroughputExceededException({
      message: 'Rate of requests exceeds the allowed throughput',
      $metadata: {},
    });

  it('reads the former due index while due2 is backfilling (an upgrade from 0.2)', async () => {
    const { mock, store } = mockedStore();
    const task = aTask({ nextSlotAt: at(0) });
    const item = taskToItem(task, store.shardCount);
    const backfilling = Object.assign(
      new Error('Cannot read from backfilling global secondary index: due2'),
      {
        name: 'ValidationException',
      },
    );
    mock
      .on(QueryCommand, { IndexName: tableDefinition.dueIndex.indexName })
      .rejects(backfilling)
      .on(QueryCommand, { IndexName: tableDefinition.formerDueIndex.indexName })
      .resolves({ Items: [item], Count: 1 })
      .on(BatchGetCommand)
      .resolves({ Responses: { mocked: [item] } });

    const { tasks } = await store.queryDue(shardOf(task.id, store.shardCount), at(1));

    expect(tasks.map((t) => t.id)).toEqual([task.id]);
    // Any other refusal of the new index is not hidden.
    mock.on(QueryCommand, { IndexName: tableDefinition.dueIndex.indexName }).rejects(
      Object.assign(new Error('Query condition missed key schema element'), {
        name: 'ValidationException',
      }),
    );
    await expect(store.queryDue(0, at(1))).rejects.toThrow(/missed key schema/);
  });

  it('reports throttling of a task save as the store being unavailable, not as a lost race', async () => {
    const { mock, store } = mockedStore();
    mock.on(PutCommand).rejects(throttled());
    const task = aTask();

    await expect(store.saveTask({ ...task, version: 2 }, { expectedVersion: 1 })).rejects.toThrow(
      StoreUnavailableError,
    );
    await expect(store.claimRun(aClaim())).rejects.toThrow(StoreUnavailableError);
  });

  it('reports a transaction cancelled by throttling as the store being unavailable, not as a lost race', async () => {
    const { mock, store } = mockedStore();
    mock.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'Transaction cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'None' }, { Code: 'ThrottlingError' }],
      }),
    );
    const task = aTask();

    await expect(
      store.saveTask(
        { ...task, version: 2 },
        { expectedVersion: 1, runWrites: [{ kind: 'record', record: aRun() }] },
      ),
    ).rejects.toThrow(StoreUnavailableError);
  });

  it('recognises its own claim when the SDK retried a write whose response was lost', async () => {
    const { mock, store } = mockedStore();
    // The retry finds the item the first attempt wrote: the condition fails and returns it (ALL_OLD).
    // Good enough raw attribute values for a run item: strings, numbers, and an empty parameters map.
    const storedAs = (item: Record<string, unknown>, changes: Record<string, unknown> = {}) =>
      Object.fromEntries(
        Object.entries({ ...item, ...changes }).map(([k, v]) => [
          k,
          typeof v === 'number' ? { N: String(v) } : typeof v === 'string' ? { S: v } : { M: {} },
        ]),
      );
    const failWith = (changes: Record<string, unknown>) => (input: { Item: Record<string, unknown> }) => {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: storedAs(input.Item, changes),
      });
    };

    mock.on(PutCommand).callsFake(failWith({}));
    const ours = await store.claimRun(aClaim());
    mock.on(PutCommand).callsFake(failWith({ writeId: 'someone-else', requestId: 'req-2' }));
    const theirs = await store.claimRun(aClaim());

    expect(ours.claimed).toBe(true);
    expect(theirs.claimed === false && theirs.existing.requestId).toBe('req-2');
  });
});
