import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { echo, fail, work } from '../../functions/examples/demo.js';
import type { Parameters } from '../../src/core/model.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { createTaskHandler } from '../../src/task/index.js';
import { dispatchRun } from '../../src/testing/index.js';
import { T0 } from '../support/builders.js';

const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 };

async function run(type: string, parameters: Parameters) {
  const store = new MemoryTaskStore();
  const handler = createTaskHandler(
    { 'demo.echo': echo, 'demo.work': work, 'demo.fail': fail },
    { store, logger: new Logger({ logLevel: 'SILENT' }), env: {} },
  );
  const event = await dispatchRun(store, { taskId: `task-${type}`, type, parameters }, T0);
  await handler(event, context);
  return store.getRun(event.taskId, event.runId);
}

describe('demo handler types', () => {
  it('demo.echo succeeds with its parameters as JSON', async () => {
    expect(await run('demo.echo', { message: 'hi' })).toMatchObject({
      status: 'succeeded',
      result: '{"message":"hi"}',
    });
  });

  it('demo.work reports progress per step and succeeds', async () => {
    expect(await run('demo.work', { steps: 3, stepMs: 0 })).toMatchObject({
      status: 'succeeded',
      result: '{"steps":3}',
      progress: { value: 3, max: 3, message: 'step 3 of 3 done' },
    });
  });

  it('demo.work throws at failAt', async () => {
    const failed = await run('demo.work', { steps: 3, stepMs: 0, failAt: 2 });
    expect(failed).toMatchObject({ status: 'failed', error: { message: 'demo.work failed at step 2 of 3' } });
    expect(failed?.progress?.value).toBe(1);
  });

  it('demo.fail always fails with "demo failure"', async () => {
    expect(await run('demo.fail', {})).toMatchObject({
      status: 'failed',
      error: { name: 'Error', message: 'demo failure' },
    });
  });
});
