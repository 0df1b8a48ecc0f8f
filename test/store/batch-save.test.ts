/**
 * A batch of task saves where one statement fails and its own retry fails too: that save alone is
 * reported `unavailable`; the others of the batch keep their results, so the tick invokes their
 * runs. (A fault DynamoDB Local cannot produce on demand: the engine stands in as a stub.)
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { saveInBatches } from '../../src/store/dynamo-batch-save.js';
import { taskToItem } from '../../src/store/dynamo-items.js';
import { aTask } from '../support/builders.js';

describe('saveInBatches', () => {
  it('reports a statement whose retry failed as unavailable, and keeps the rest of its batch', async () => {
    const tasks = [aTask(), aTask(), aTask()].map((t) => ({ ...t, version: t.version + 1 }));
    const doc = {
      send: async () => ({
        Responses: [{}, { Error: { Code: 'ThrottlingError', Message: 'slow down' } }, {}],
      }),
    } as unknown as DynamoDBDocumentClient;
    const retried: string[] = [];

    const results = await saveInBatches(
      {
        doc,
        tableName: 'tickwork',
        itemOf: (task) => taskToItem(task, 4),
        saveOne: async ({ task }) => {
          retried.push(task.id);
          throw new Error('throttled after retries');
        },
      },
      tasks.map((task) => ({ task, expectedVersion: task.version - 1 })),
    );

    expect(retried).toEqual([tasks[1]?.id]);
    expect(results.map((r) => r.saved)).toEqual([true, false, true]);
    expect(results[1]).toEqual({ saved: false, reason: 'unavailable', message: 'throttled after retries' });
  });
});
