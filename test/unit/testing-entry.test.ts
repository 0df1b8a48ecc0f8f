/** `tickwork/testing` is enough to drive a real handler, as docs/writing-tasks.md shows. */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTaskHandler, defineTask } from '../../src/task/index.js';
import { aRunEvent, dispatchRun, MemoryTaskStore } from '../../src/testing/index.js';

const tasks = {
  'Acme.Report': defineTask({
    parameters: z.object({ region: z.enum(['eu', 'us']) }),
    run: async (ctx) => ({ region: ctx.parameters.region }),
  }),
};

describe('tickwork/testing', () => {
  it('runs a handler against the in-memory store with a dispatched run', async () => {
    const store = new MemoryTaskStore();
    const handler = createTaskHandler(tasks, { store, metrics: false });
    const event = await dispatchRun(store, { type: 'Acme.Report', parameters: { region: 'eu' } });
    await handler(event, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 });
    expect(await store.getRun(event.taskId, event.runId)).toMatchObject({
      status: 'succeeded',
      result: '{"region":"eu"}',
    });
  });

  it('records bad parameters as a failed run, as the handler parses them', async () => {
    const store = new MemoryTaskStore();
    const handler = createTaskHandler(tasks, { store, metrics: false });
    const event = await dispatchRun(store, { type: 'Acme.Report', parameters: { region: 'mars' } });
    await handler(event, { awsRequestId: 'req-2', getRemainingTimeInMillis: () => 60_000 });
    expect(await store.getRun(event.taskId, event.runId)).toMatchObject({
      status: 'failed',
      error: { name: 'ValidationError' },
    });
  });

  it('refuses a made-up run event that no lease holds, and runs nothing', async () => {
    const store = new MemoryTaskStore();
    let ran = false;
    const handler = createTaskHandler(
      {
        'Acme.Report': async () => {
          ran = true;
        },
      },
      { store, metrics: false },
    );
    const event = aRunEvent({ type: 'Acme.Report' });
    const result = await handler(event, { awsRequestId: 'req-3', getRemainingTimeInMillis: () => 60_000 });
    expect(result).toMatchObject({ claimed: false, refused: 'no-lease' });
    expect(ran).toBe(false);
    expect(await store.getRun(event.taskId, event.runId)).toBeUndefined();
  });
});
