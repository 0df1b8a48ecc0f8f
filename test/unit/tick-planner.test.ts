/**
 * The API's request for a tick now, through the real `@aws-sdk/client-lambda` client: an
 * asynchronous invoke of the tick function with the tasks to plan (or `{}`), and a clear error
 * when Lambda does not accept it.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaTickPlanner } from '../../src/aws/tick-planner.js';
import { type LambdaStub, startLambdaStub } from '../bench/lambda-stub.js';
import { waitFor } from '../support/wait.js';

describe('LambdaTickPlanner', () => {
  let stub: LambdaStub;
  let client: LambdaClient;
  const received: { event: unknown; functionName: string }[] = [];

  beforeAll(async () => {
    stub = await startLambdaStub({ latencyMs: 0 });
    stub.handler = async (event, functionName) => {
      received.push({ event, functionName });
    };
    client = new LambdaClient({
      endpoint: stub.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  afterAll(async () => {
    client?.destroy();
    await stub?.close();
  });

  it('sends the tick an Event invoke naming the tasks, or {} for every due task', async () => {
    const planner = new LambdaTickPlanner(client, 'tickwork-tick');
    await planner.plan(['a', 'b']);
    await planner.plan();
    await waitFor(() => received.length === 2, 5_000, { what: 'both invokes to arrive' });
    expect(received).toEqual([
      { event: { tasks: ['a', 'b'] }, functionName: 'tickwork-tick' },
      { event: {}, functionName: 'tickwork-tick' },
    ]);
  });

  it('rejects when the invoke cannot be sent', async () => {
    const unreachable = new LambdaClient({
      endpoint: 'http://127.0.0.1:9',
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    await expect(new LambdaTickPlanner(unreachable, 'tickwork-tick').plan(['a'])).rejects.toThrow();
    unreachable.destroy();
  });
});
