/**
 * `timeoutSeconds` is the run's deadline: the signal fires with reason `timeout` that long after
 * the claim, the run ends `timed-out` (at once when the task stops, at the end of the grace
 * period when it does not), and the retry policy and stopOnError follow. On DynamoDB Local and in
 * memory, with the real handler on the real clock.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import type { ActiveRun, CancelReason, TaskState } from '../../src/core/model.js';
import type { Notice, TaskStore } from '../../src/core/ports.js';
import { runEventOf } from '../../src/core/run-event.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { endingOf, raceTimeout } from '../../src/task/deadline.js';
import { createTaskHandler, TaskCancelledError, type TaskTypes } from '../../src/task/index.js';
import { aTask } from '../support/builders.js';
import { createTestTable } from '../support/dynamo.js';

const silent = new Logger({ serviceName: 'timeout-test', logLevel: 'SILENT' });
const graceMs = 400;
let seq = 0;

/** A stored task with one run dispatched now, and the event the tick sent for it. */
async function dispatched(store: TaskStore, overrides: Partial<TaskState>) {
  const now = new Date();
  const active: ActiveRun = {
    runId: `01JQ00000000000000000${String(++seq).padStart(5, '0')}`,
    token: 1,
    scheduledFor: now,
    dispatchedAt: now,
    expiresAt: new Date(now.getTime() + 120_000),
    attempt: 1,
    trigger: 'schedule',
    parameters: {},
  };
  const task = aTask({
    type: 'Test.Slow',
    fence: 1,
    active: [active],
    nextSlotAt: new Date(now.getTime() + 3_600_000),
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
  await store.createTask(task);
  return { task, event: runEventOf(task, active) };
}

function handlerOf(store: TaskStore, types: TaskTypes, notices: Notice[] = []) {
  return createTaskHandler(types, {
    store,
    clock: systemClock,
    logger: silent,
    env: {},
    metrics: false,
    timeoutGraceMs: graceMs,
    heartbeatIntervalMs: 200,
    notifier: { notify: async (n) => void notices.push(...n) },
  });
}

const context = { awsRequestId: 'req-timeout', getRemainingTimeInMillis: () => 600_000 };

function describeTimeouts(name: string, makeStore: () => Promise<TaskStore>) {
  describe(`timeoutSeconds (${name})`, () => {
    it('fires the signal with reason timeout; a task that stops is recorded timed-out at once', async () => {
      const store = await makeStore();
      const { task, event } = await dispatched(store, { timeoutSeconds: 1 });
      let reason: CancelReason | undefined;
      let signalReason: unknown;
      const notices: Notice[] = [];
      const handler = handlerOf(
        store,
        {
          'Test.Slow': async (ctx) => {
            await sleep(10_000, undefined, { signal: ctx.signal }).catch((error) => {
              reason = ctx.cancelReason;
              signalReason = ctx.signal.reason;
              throw error;
            });
          },
        },
        notices,
      );

      const started = Date.now();
      const result = await handler(event, context);
      const took = Date.now() - started;

      expect(result).toMatchObject({ claimed: true, status: 'timed-out', recorded: true });
      expect(reason).toBe('timeout');
      expect(signalReason).toBeInstanceOf(TaskCancelledError);
      expect((signalReason as TaskCancelledError).reason).toBe('timeout');
      expect(took).toBeGreaterThanOrEqual(950);
      const record = await store.getRun(task.id, event.runId);
      expect(record).toMatchObject({
        status: 'timed-out',
        error: { name: 'TimeoutError', message: 'the run passed its timeout of 1 s' },
        // Recorded when the task stopped, not at the grace period's end.
        note: expect.stringMatching(/reason timeout .* stopped after the signal \(AbortError\)/),
      });
      expect(notices).toMatchObject([{ runId: event.runId, status: 'timed-out' }]);
    });

    it('records a task that ignores the signal timed-out at the end of the grace period', async () => {
      const store = await makeStore();
      const { task, event } = await dispatched(store, { timeoutSeconds: 1 });
      const handler = handlerOf(store, { 'Test.Slow': async () => sleep(8_000) });

      const started = Date.now();
      const result = await handler(event, context);
      const took = Date.now() - started;

      expect(result).toMatchObject({ status: 'timed-out', recorded: true });
      expect(took).toBeGreaterThanOrEqual(1000 + graceMs - 50);
      expect(took).toBeLessThan(6_000); // not the body's 8 s
      const record = await store.getRun(task.id, event.runId);
      expect(record?.status).toBe('timed-out');
      expect(record?.note).toContain(`did not stop within the ${graceMs} ms grace period`);
      expect(record?.durationMs).toBeGreaterThanOrEqual(1000);
    });

    it('retries a timed-out run per the policy, and stopOnError disables after the last attempt', async () => {
      const store = await makeStore();
      const retrying = await dispatched(store, {
        timeoutSeconds: 1,
        retry: { maxAttempts: 2, backoffSeconds: 1, maxBackoffSeconds: 1 },
      });
      const final = await dispatched(store, { timeoutSeconds: 1, stopOnError: true });
      const handler = handlerOf(store, { 'Test.Slow': async (ctx) => sleep(5_000, undefined, ctx) });

      await Promise.all([handler(retrying.event, context), handler(final.event, context)]);

      const retried = await store.getTask(retrying.task.id);
      expect(retried?.active).toEqual([]);
      expect(retried?.pending).toMatchObject([{ trigger: 'retry', attempt: 2 }]);
      const stopped = await store.getTask(final.task.id);
      expect(stopped?.enabled).toBe(false);
      expect(stopped?.disabledReason).toContain('timed-out');
    });

    it('lets a run that ends within its timeout succeed, and leaves no timer behind', async () => {
      const store = await makeStore();
      const { event } = await dispatched(store, { timeoutSeconds: 2 });
      const handler = handlerOf(store, { 'Test.Slow': async () => 'quick' });

      expect(await handler(event, context)).toMatchObject({ status: 'succeeded' });
    });
  });
}

describeTimeouts('in memory', async () => new MemoryTaskStore());
describeTimeouts('DynamoDB Local', async () => (await createTestTable('timeout')).store);

describe('raceTimeout', () => {
  it('without a timeout waits for the body however long it takes', async () => {
    let fired = false;
    const ending = await raceTimeout(
      endingOf(() => sleep(50, 'done')),
      { timeoutMs: undefined, elapsedMs: 0, graceMs: 1, onTimeout: () => (fired = true) },
    );
    expect(ending).toEqual({ returned: true, value: 'done' });
    expect(fired).toBe(false);
  });

  it('counts the time already spent since the claim', async () => {
    let firedAt = 0;
    const started = Date.now();
    const ending = await raceTimeout(new Promise(() => {}), {
      timeoutMs: 1_000,
      elapsedMs: 900,
      graceMs: 50,
      onTimeout: () => (firedAt = Date.now() - started),
    });
    expect(ending).toBe('abandoned');
    expect(firedAt).toBeLessThan(500);
  });

  it('turns a body that throws synchronously into an ending', async () => {
    const ending = await endingOf(() => {
      throw new Error('at once');
    });
    expect(ending).toMatchObject({ returned: false, error: { message: 'at once' } });
  });
});
