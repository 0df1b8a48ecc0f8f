/**
 * The local Lambda endpoint through the real `@aws-sdk/client-lambda` client and the real
 * `LambdaTaskInvoker`: response shapes, isolation (hang, crash), timeouts and log capture.
 */
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaTaskInvoker } from '../../src/aws/lambda-invoker.js';
import type { RunEvent } from '../../src/core/ports.js';
import type { LocalFunction } from '../../src/local/config.js';
import { functionNameOf, type LambdaEndpoint, startLambdaEndpoint } from '../../src/local/lambda-endpoint.js';
import { RunLogBook } from '../../src/local/run-logs.js';
import { FunctionPool } from '../../src/local/worker-pool.js';
import { waitFor } from '../support/wait.js';

const fixtures = new URL('./fixtures/handlers.ts', import.meta.url).pathname;
const workerEntry = new URL('../../src/local/worker-main.ts', import.meta.url).pathname;

function fn(name: string, exportName: string, timeoutSeconds: number): LocalFunction {
  return { name, modulePath: fixtures, exportName, tasksExport: 'tasks', timeoutSeconds, types: [] };
}

const runEvent = (overrides: Partial<RunEvent> = {}): RunEvent => ({
  tickwork: 1,
  taskId: 'task-logs',
  runId: '01J00000000000000000000000',
  type: 'Fixture.Chatty',
  scheduledFor: '2026-03-29T00:59:00.000Z',
  dispatchedAt: '2026-03-29T00:59:00.010Z',
  attempt: 1,
  trigger: 'manual',
  parameters: {},
  token: 1,
  leaseExpiresAt: '2026-03-29T01:05:00.000Z',
  historyRetentionDays: 30,
  ...overrides,
});

describe('local Lambda endpoint', () => {
  const pools = new Map<string, FunctionPool>();
  const logs = new RunLogBook();
  let endpoint: LambdaEndpoint;
  let client: LambdaClient;

  beforeAll(async () => {
    const functions = [
      fn('echo', 'echo', 30),
      fn('fail', 'fail', 30),
      fn('hang', 'hang', 1),
      fn('crash', 'crash', 30),
      fn('chatty', 'chatty', 30),
      fn('slow', 'slow', 30),
    ];
    for (const f of functions) {
      pools.set(
        f.name,
        new FunctionPool(f, {
          entry: workerEntry,
          execArgv: ['--import', 'tsx'],
          env: { PATH: process.env.PATH, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
          maxWorkers: f.name === 'slow' ? 1 : 2,
        }),
      );
    }
    endpoint = await startLambdaEndpoint({
      functions: pools,
      typeTimeoutsSeconds: new Map([['Fixture.Chatty', 20]]),
      logs,
    });
    client = new LambdaClient({
      endpoint: endpoint.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    await Promise.all([...pools.values()].map((p) => p.shutdown(0)));
    await endpoint?.close();
  });

  const invoke = (name: string, payload: unknown, type: 'Event' | 'RequestResponse' = 'RequestResponse') =>
    client.send(
      new InvokeCommand({
        FunctionName: name,
        InvocationType: type,
        Payload: Buffer.from(JSON.stringify(payload)),
        LogType: 'Tail',
      }),
    );
  const text = (payload: Uint8Array | undefined) => Buffer.from(payload ?? new Uint8Array()).toString('utf8');

  it('answers RequestResponse with the result and a Lambda-like context', async () => {
    const response = await invoke('echo', { hello: 'world' });
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBeUndefined();
    const body = JSON.parse(text(response.Payload));
    expect(body.event).toEqual({ hello: 'world' });
    expect(body.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.functionName).toBe('echo');
    expect(body.remainingMs).toBeGreaterThan(25_000);
    expect(body.remainingMs).toBeLessThanOrEqual(30_000);
    expect(body.pid).not.toBe(process.pid);
    expect(Buffer.from(response.LogResult ?? '', 'base64').toString()).toContain('REPORT RequestId:');
  });

  it('accepts an ARN as the function name', async () => {
    expect(functionNameOf('arn:aws:lambda:us-east-1:000000000000:function:echo:live')).toEqual({
      name: 'echo',
      qualifier: 'live',
    });
    const response = await invoke('arn:aws:lambda:us-east-1:000000000000:function:echo', {});
    expect(response.StatusCode).toBe(200);
  });

  it('reports a handler error as FunctionError Unhandled with errorType and errorMessage', async () => {
    const response = await invoke('fail', {});
    expect(response.StatusCode).toBe(200);
    expect(response.FunctionError).toBe('Unhandled');
    const body = JSON.parse(text(response.Payload));
    expect(body).toMatchObject({ errorType: 'TypeError', errorMessage: 'broken on purpose' });
    expect(Array.isArray(body.trace)).toBe(true);
  });

  it('answers an unknown function with ResourceNotFoundException, as AWS does', async () => {
    const error = await invoke('nope', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect((error as ResourceNotFoundException).message).toContain('Function not found');
    expect((error as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);

    const invoker = new LambdaTaskInvoker(client);
    const result = await invoker.invoke('nope', runEvent());
    expect(result).toEqual({
      accepted: false,
      error: { name: 'ResourceNotFoundException', message: expect.any(String) },
    });
  });

  it('accepts Event invokes with 202 (the tick uses LambdaTaskInvoker) and runs them in the background', async () => {
    const invoker = new LambdaTaskInvoker(client);
    const event = runEvent({ taskId: 'task-async', runId: '01J00000000000000000000001' });
    expect(await invoker.invoke('chatty', event)).toEqual({ accepted: true });
    await waitFor(
      () => logs.read('task-async', event.runId)?.lines.some((l) => l.message.startsWith('END')),
      10_000,
      {
        what: 'the background invocation to end',
      },
    );
  });

  it('queues a run event once while it waits for a worker; a later delivery is queued again', async () => {
    const invoker = new LambdaTaskInvoker(client);
    const busy = runEvent({ taskId: 'task-busy', runId: '01J00000000000000000000002' });
    const event = runEvent({ taskId: 'task-twice', runId: '01J00000000000000000000003' });
    // The one worker is busy with another run: the next run event waits, and the tick's second
    // delivery of it, byte for byte, finds it waiting.
    expect(await invoker.invoke('slow', busy)).toEqual({ accepted: true });
    for (let i = 0; i < 3; i++) expect(await invoker.invoke('slow', event)).toEqual({ accepted: true });
    const ended = () => logs.read(event.taskId, event.runId)?.lines.some((l) => l.message.startsWith('END'));
    await waitFor(ended, 15_000, { what: 'the waiting run event to run' });
    const messages = (logs.read(event.taskId, event.runId)?.lines ?? []).map((l) => l.message);
    expect(messages.filter((m) => m.startsWith('START')).length).toBe(1);
    expect(messages.filter((m) => m.includes('was not queued again')).length).toBe(2);
    // Once a worker took it, the same event is an ordinary (duplicate) delivery and runs.
    expect(await invoker.invoke('slow', event)).toEqual({ accepted: true });
    await waitFor(
      () =>
        (logs.read(event.taskId, event.runId)?.lines ?? []).filter((l) => l.message.startsWith('END'))
          .length === 2,
      15_000,
      { what: 'the later delivery to run' },
    );
  });

  it('kills an invocation that outlives its timeout, and the next one still works', async () => {
    const started = Date.now();
    const response = await invoke('hang', {});
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(response.Payload))).toMatchObject({
      errorType: 'Sandbox.Timedout',
      errorMessage: expect.stringContaining('Task timed out after 1.00 seconds'),
    });
    const again = await invoke('hang', {});
    expect(JSON.parse(text(again.Payload)).errorType).toBe('Sandbox.Timedout');
  });

  it('survives a handler that kills its own process', async () => {
    const response = await invoke('crash', {});
    expect(response.FunctionError).toBe('Unhandled');
    expect(JSON.parse(text(response.Payload))).toMatchObject({
      errorType: 'Runtime.ExitError',
      errorMessage: expect.stringContaining('exit status 3'),
    });
    expect((await invoke('echo', {})).StatusCode).toBe(200);
  });

  it('keeps the log lines of a run by task and run id, structured lines parsed', async () => {
    const event = runEvent();
    const response = await invoke('chatty', event);
    expect(text(response.Payload)).toBe('"done"');
    const lines = logs.read(event.taskId, event.runId)?.lines ?? [];
    const messages = lines.map((l) => l.message);
    expect(messages[0]).toMatch(/^START RequestId: /);
    expect(messages).toContain('plain line to stdout');
    expect(lines.find((l) => l.message === 'plain line to stderr')?.level).toBe('error');
    expect(lines.find((l) => l.message.startsWith('structured'))).toEqual({
      at: '2026-03-29T00:59:00.000Z',
      level: 'warn',
      message: 'structured {"n":1}',
    });
    expect(messages).toContain('no newline at the end');
    expect(messages.at(-1)).toMatch(/^REPORT RequestId: /);
    expect(messages.some((m) => m.includes('tickwork-end'))).toBe(false);
  });

  it('refuses other invocation types and bodies that are not JSON, with AWS error types', async () => {
    const bad = await fetch(`${endpoint.endpoint}/2015-03-31/functions/echo/invocations`, {
      method: 'POST',
      body: '{not json',
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    const dry = await fetch(`${endpoint.endpoint}/2015-03-31/functions/echo/invocations`, {
      method: 'POST',
      headers: { 'X-Amz-Invocation-Type': 'DryRun' },
      body: '{}',
    });
    expect(dry.status).toBe(204);
  });
});
