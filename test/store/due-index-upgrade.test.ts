/**
 * A table created by 0.2 (its due index `due`, every attribute projected) read by this store, then
 * upgraded in place by `ensureTable` to the keys-only `due2`. On an engine of its own: DynamoDB
 * Local builds a new index in time that grows with the number of tables it holds (about 0.7 s a
 * table), and the shared engine holds hundreds by the end of a run.
 */
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/core/due.js';
import type { TaskState } from '../../src/core/model.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../src/local/dynamodb-local.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { createTableInput, ensureTable, tableDefinition } from '../../src/store/table-definition.js';
import { aTask, at } from '../support/builders.js';

let engine: DynamoDbLocal;
beforeAll(async () => {
  engine = await startDynamoDbLocal();
}, 60_000);
afterAll(async () => {
  await engine?.stop();
});

describe('upgrading a 0.2 table to the keys-only due index', () => {
  it('reads due tasks from the former `due` index until due2 exists, then from due2', async () => {
    const client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const tableName = 'upgrade-from-0-2';
    // The table as 0.2 created it: the same, with `due` (ALL) where `due2` (keys only) is now.
    const input = createTableInput(tableName);
    const { formerDueIndex, dueIndex } = tableDefinition;
    await client.send(
      new CreateTableCommand({
        ...input,
        GlobalSecondaryIndexes: (input.GlobalSecondaryIndexes ?? []).map((index) =>
          index.IndexName === dueIndex.indexName
            ? { ...index, IndexName: formerDueIndex.indexName, Projection: { ProjectionType: 'ALL' } }
            : index,
        ),
      }),
    );
    const store = new DynamoTaskStore({ client, tableName });
    const task = aTask({ nextSlotAt: at(0) });
    await store.createTask(task);
    const shard = shardOf(task.id, store.shardCount);
    const indexNames = async () =>
      (
        (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table
          ?.GlobalSecondaryIndexes ?? []
      )
        .filter((i) => i.IndexStatus !== 'DELETING')
        .map((i) => `${i.IndexName}:${i.Projection?.ProjectionType}:${i.IndexStatus}`)
        .sort();

    // Before: due2 does not exist; the store reads the former index.
    expect((await store.queryDue(shard, at(1))).tasks.map((t) => t.id)).toEqual([task.id]);

    await ensureTable(client, tableName);

    expect(await indexNames()).toEqual([
      'due2:KEYS_ONLY:ACTIVE',
      'runs:INCLUDE:ACTIVE',
      'tasks:KEYS_ONLY:ACTIVE',
    ]);
    // The new index was backfilled from the items already there, and is what the store reads now.
    const { tasks, usage } = await store.queryDue(shard, at(1));
    expect(tasks).toEqual([(await store.getTask(task.id)) as TaskState]);
    expect(usage).toEqual({ itemsRead: 1, writes: 0 });
    await ensureTable(client, tableName); // idempotent
    expect(await indexNames()).toHaveLength(3);
  }, 60_000);
});
