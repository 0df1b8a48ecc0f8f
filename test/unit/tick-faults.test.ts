import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { EventBridgeRunNotifier } from '../../src/aws/eventbridge-notifier.js';
import { LambdaTaskInvoker } from '../../src/aws/lambda-invoker.js';
import { dueAtOf } from '../../src/core/due.js';
import type { RunNotice, RunNotifier } from '../../src/core/ports.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { makeTickHandler } from '../../src/tick/handler.js';
import { runTick, type TickDeps } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps } from '../support/deps.js';

const now = new Date('2026-03-29T01:00:00Z');
const lambda = mockClient(LambdaClient);
const events = mockClient(EventBridgeClient);
afterEach(() => {
  lambda.reset();
  events.reset();
});

class RecordingNotifier implements RunNotifier {
  readonly notices: RunNotice[] = [];
  async notify(notices: RunNotice[]) {
    this.notices.push(...notices);
  }
}

async function depsWith(store: MemoryTaskStore, notifier = new RecordingNotifier()): Promise<TickDeps> {
  await store.putTaskType({ name: 'Acme.CleanupFiles', functionName: 'cleanup' });
  return makeTestDeps({
    store,
    invoker: new LambdaTaskInvoker(new LambdaClient({ region: 'us-east-1' })),
    clock: { now: () => now },
    notifier,
  });
}

describe('tick faults', () => {
  it('a throttled Invoke records the run as failed, releases the lease and plans the retry', async () => {
    lambda
      .on(InvokeCommand)
      .rejects(new TooManyRequestsException({ message: 'Rate exceeded', $metadata: {} }));
    const store = new MemoryTaskStore();
    const notifier = new RecordingNotifier();
    const task = aTask({
      nextSlotAt: now,
      retry: { maxAttempts: 2, backoffSeconds: 30, maxBackoffSeconds: 60 },
    });
    await store.createTask(task);

    const report = await runTick(await depsWith(store, notifier), { now });

    expect(report).toMatchObject({ due: 1, started: 0, failed: 1 });
    const saved = await store.getTask(task.id);
    expect(saved?.active).toEqual([]);
    expect(saved?.pending[0]).toMatchObject({ trigger: 'retry', attempt: 2 });
    expect(dueAtOf(saved ?? task)).toEqual(new Date(now.getTime() + 30_000));
    const { items } = await store.listRuns(task.id, { limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'failed', error: { name: 'TooManyRequestsException' } });
    expect(notifier.notices).toMatchObject([{ taskId: task.id, status: 'failed' }]);
  });

  it('one task whose invoke fails never stops the others', async () => {
    lambda.on(InvokeCommand, { FunctionName: 'cleanup' }).resolves({ StatusCode: 202 });
    lambda.on(InvokeCommand, { FunctionName: 'broken' }).rejects(new Error('boom'));
    const store = new MemoryTaskStore();
    const deps = await depsWith(store);
    await store.putTaskType({ name: 'Acme.Broken', functionName: 'broken' });
    for (let i = 0; i < 5; i++) await store.createTask(aTask({ id: `ok-${i}`, nextSlotAt: now }));
    await store.createTask(aTask({ id: 'bad', type: 'Acme.Broken', nextSlotAt: now }));

    const report = await runTick(deps, { now });

    expect(report).toMatchObject({ due: 6, started: 5, failed: 1 });
  });

  it('a task of an unregistered type fails its run with a clear error', async () => {
    const store = new MemoryTaskStore();
    const task = aTask({ type: 'Acme.Gone', nextSlotAt: now });
    await store.createTask(task);

    await runTick(await depsWith(store), { now });

    const { items } = await store.listRuns(task.id, { limit: 10 });
    expect(items[0]?.error).toEqual({
      name: 'UnknownTaskTypeError',
      message: 'task type Acme.Gone is not registered',
    });
  });

  it('sends notices for missed and skipped slots', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    const store = new MemoryTaskStore();
    const notifier = new RecordingNotifier();
    await store.createTask(
      aTask({ id: 'late', nextSlotAt: new Date(now.getTime() - 3600_000), catchUpWindowSeconds: 600 }),
    );

    const report = await runTick(await depsWith(store, notifier), { now });

    expect(report.missed).toBe(50);
    expect(report.started).toBe(1);
    expect(notifier.notices).toMatchObject([{ taskId: 'late', status: 'missed', slotCount: 50 }]);
  });

  it('the handler throws when the due index cannot be read, so Lambda counts an error', async () => {
    const store = new MemoryTaskStore();
    const deps = await depsWith(store);
    deps.store = Object.assign(Object.create(store), {
      shardCount: store.shardCount,
      queryDue: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    });
    const handler = makeTickHandler(deps, { reserveMs: 1000 });

    await expect(handler({}, { getRemainingTimeInMillis: () => 60_000 })).rejects.toThrow(/due query failed/);
  });
});

describe('EventBridgeRunNotifier', () => {
  const notice = (i: number): RunNotice => ({
    taskId: `t${i}`,
    taskName: 'n',
    type: 'Acme.X',
    runId: `r${i}`,
    status: 'skipped',
    scheduledFor: now,
    attempt: 1,
  });

  it('puts ten events per request with source tickwork', async () => {
    events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const notifier = new EventBridgeRunNotifier(new EventBridgeClient({ region: 'us-east-1' }), 'bus');

    await notifier.notify(Array.from({ length: 23 }, (_, i) => notice(i)));

    const calls = events.commandCalls(PutEventsCommand);
    expect(calls.map((c) => c.args[0].input.Entries?.length)).toEqual([10, 10, 3]);
    expect(calls[0]?.args[0].input.Entries?.[0]).toMatchObject({
      Source: 'tickwork',
      DetailType: 'Tickwork Run Skipped',
      EventBusName: 'bus',
    });
  });

  it('reports a delivery failure without throwing', async () => {
    events.on(PutEventsCommand).rejects(new Error('AccessDenied'));
    const errors: unknown[] = [];
    const notifier = new EventBridgeRunNotifier(new EventBridgeClient({ region: 'us-east-1' }), 'bus', (e) =>
      errors.push(e),
    );

    await expect(notifier.notify([notice(1)])).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});
