/** `tickwork reshard` against DynamoDB Local: it moves the tasks of a shrunk table, and refuses bad flags. */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { shardOf } from '../../src/core/due.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { aTask, at } from '../support/builders.js';
import { createTestTable, dynamoEndpoint } from '../support/dynamo.js';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const env = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_REGION: 'us-east-1' };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    process.env = saved;
  }
}

describe('tickwork reshard', () => {
  it('moves every task not due soon from 8 shard keys to 2, and a second run moves nothing', async () => {
    const { client, tableName, store: old8 } = await createTestTable('cli-reshard', { shardCount: 8 });
    const ids = Array.from({ length: 24 }, (_, i) => `later-${i}`);
    // Due next year: far beyond the two minutes the move leaves to the tasks' own dispatch.
    const later = new Date(Date.now() + 365 * 86_400_000);
    for (const id of ids) await old8.createTask(aTask({ id, nextSlotAt: later, updatedAt: at(0) }));
    const misplaced = ids.filter((id) => shardOf(id, 8) !== shardOf(id, 2)).length;

    const first = await cli(
      'reshard',
      '--table',
      tableName,
      '--shards',
      '2',
      '--dynamodb-endpoint',
      dynamoEndpoint(),
    );
    const again = await cli(
      'reshard',
      '--table',
      tableName,
      '--shards',
      '2',
      '--dynamodb-endpoint',
      dynamoEndpoint(),
      '--json',
    );

    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain(`read 24 due-index entries; moved ${misplaced}, left 0`);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toEqual({ read: 24, deferred: 0, moved: 0, raced: 0 });
    const new2 = new DynamoTaskStore({ client, tableName, shardCount: 2 });
    const found = [
      ...(await new2.queryDue(0, new Date(later.getTime() + 1))).tasks,
      ...(await new2.queryDue(1, new Date(later.getTime() + 1))).tasks,
    ];
    expect(found.map((t) => t.id).sort()).toEqual([...ids].sort());
  });

  it('refuses a missing table and a shard count out of range', async () => {
    const noTable = await cli('reshard', '--shards', '2');
    expect(noTable.code).toBe(2);
    expect(noTable.err).toContain('--table is required');
    const tooMany = await cli('reshard', '--table', 't', '--shards', '65');
    expect(tooMany.code).toBe(2);
    expect(tooMany.err).toContain('--shards: a whole number from 1 to 64, got 65');
  });
});
