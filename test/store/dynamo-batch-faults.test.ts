/**
 * Faults of the batched task save (`saveTasks` as PartiQL BatchExecuteStatement) that DynamoDB
 * Local cannot produce on demand: a statement throttled inside a batch, and a batch whose answer
 * was lost after it was applied (so the SDK sent it again). The engine is real; only the client's
 * `send` is wrapped to drop or repeat a request.
 */
import { BatchExecuteStatementCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../src/core/model.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { aTask } from '../support/builders.js';
import { createTestTable } from '../support/dynamo.js';

type Send = DynamoDBClient['send'];

/** A document client whose BatchExecuteStatement calls go through `batch` first. */
function wrapBatches(
  raw: DynamoDBClient,
  batch: (command: BatchExecuteStatementCommand, send: Send) => Promise<unknown>,
) {
  const client = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const send = client.send.bind(client) as unknown as Send;
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send') {
        return (command: unknown, ...rest: unknown[]) =>
          command instanceof BatchExecuteStatementCommand
            ? batch(command, send)
            : (send as (...a: unknown[]) => Promise<unknown>)(command, ...rest);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

function next(task: TaskState, name: string) {
  return { task: { ...task, name, version: task.version + 1 }, expectedVersion: task.version };
}

describe('batched task saves under faults (DynamoDB Local)', () => {
  it('sends a throttled statement again on its own, and saves it', async () => {
    const { client, tableName, store: plain } = await createTestTable('batch-throttle');
    const tasks = [aTask(), aTask(), aTask()];
    for (const task of tasks) await plain.createTask(task);
    let batches = 0;
    const store = new DynamoTaskStore({
      tableName,
      client: wrapBatches(client, async (command, send) => {
        batches++;
        // The engine applies statements 0 and 2; statement 1 comes back throttled.
        const statements = command.input.Statements ?? [];
        const sent = new BatchExecuteStatementCommand({
          ...command.input,
          Statements: [statements[0], statements[2]] as typeof statements,
        });
        const out = (await send(sent)) as { Responses?: unknown[] };
        const [first, third] = out.Responses ?? [];
        return {
          ...out,
          Responses: [first, { Error: { Code: 'ThrottlingError', Message: 'slow down' } }, third],
        };
      }),
    });

    const results = await store.saveTasks(tasks.map((t) => next(t, 'saved')));

    expect(batches).toBe(1);
    expect(results.map((r) => r.saved)).toEqual([true, true, true]);
    for (const task of tasks) expect((await plain.getTask(task.id))?.name).toBe('saved');
  });

  it('recognises its own write when a batch it already applied is answered as a lost race', async () => {
    const { client, tableName, store: plain } = await createTestTable('batch-replay');
    const mine = aTask();
    const theirs = aTask();
    for (const task of [mine, theirs]) await plain.createTask(task);
    // Someone else moves `theirs` on first: that statement must lose, replay or not.
    await plain.saveTask(
      { ...theirs, name: 'theirs', version: theirs.version + 1 },
      { expectedVersion: theirs.version },
    );
    let replays = 0;
    const store = new DynamoTaskStore({
      tableName,
      client: wrapBatches(client, async (command, send) => {
        replays++;
        await send(command); // applied, but its answer is lost ...
        return send(command); // ... and the retry finds the versions already moved.
      }),
    });

    const results = await store.saveTasks([next(mine, 'mine'), next(theirs, 'stale')]);

    expect(replays).toBe(1);
    expect(results[0]).toMatchObject({ saved: true, task: { name: 'mine', version: mine.version + 1 } });
    expect(results[1]).toEqual({ saved: false, reason: 'version' });
    expect((await plain.getTask(mine.id))?.name).toBe('mine');
    expect((await plain.getTask(theirs.id))?.name).toBe('theirs');
  });
});
