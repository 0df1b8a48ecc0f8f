/**
 * The task SDK against DynamoDB Local, driven by the real tick: `runTick` invokes the real
 * handler in-process without awaiting it, as an async Lambda invoke would. Every "Must show" of
 * issue 3 is a test here.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CancelReason, TaskState } from '../../src/core/model.js';
import type { Clock, RunEvent, TaskInvoker, TaskStore } from '../../src/core/ports.js';
import type { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import {
  createTaskHandler,
  defineTask,
  type TaskHandler,
  type TaskInvocationResult,
  type TaskLambdaContext,
  type TaskTypes,
} from '../../src/task/index.js';
import { runLeaseMs } from '../../src/task/run-lease.js';
import { TaskTypeRegistry } from '../../src/tick/registry.js';
import { runTick, type TickOptions } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';
import { gate, waitFor } from '../support/wait.js';

const heartbeatIntervalMs = 200;
const silent = new Logger({ serviceName: 'task-sdk-test', logLevel: 'SILENT' });

/** A Lambda context whose remaining time counts down from `remainingMs`. */
function lambdaContext(remainingMs = 900_000): TaskLambdaContext {
  const end = Date.now() + remainingMs;
  return { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => end - Date.now() };
}

interface Delivery {
  event: RunEvent;
  context: TaskLambdaContext;
  done: Promise<void>;
  result?: TaskInvocationResult;
  error?: unknown;
}

/** Invokes the handler in-process without waiting for it, `copies` times per event (duplicate deliveries). */
class InProcessInvoker implements TaskInvoker {
  readonly deliveries: Delivery[] = [];
  constructor(
    private readonly handler: TaskHandler,
    private readonly options: { copies?: number; remainingMs?: number } = {},
  ) {}
  get events(): RunEvent[] {
    return [...new Set(this.deliveries.map((d) => d.event))];
  }
  async invoke(_functionName: string, event: RunEvent) {
    for (let i = 0; i < (this.options.copies ?? 1); i++) {
      const context = lambdaContext(this.options.remainingMs);
      const delivery: Delivery = { event, context, done: Promise.resolve() };
      // The payload crosses Lambda as JSON.
      delivery.done = this.handler(JSON.parse(JSON.stringify(event)), context).then(
        (result) => {
          delivery.result = result;
        },
        (error: unknown) => {
          delivery.error = error;
        },
      );
      this.deliveries.push(delivery);
    }
    return { accepted: true as const };
  }
  /** Waits for every delivery so far to end. */
  async settled(): Promise<void> {
    await Promise.all(this.deliveries.map((d) => d.done));
  }
}

interface Harness {
  store: DynamoTaskStore;
  invoker: InProcessInvoker;
  handler: TaskHandler;
  /** One real tick at `now` (default: the clock's). */
  tick(now?: Date, settings?: TickOptions['settings']): ReturnType<typeof runTick>;
  /** A task due one second ago, stored. */
  createDueTask(overrides: Partial<TaskState>): Promise<TaskState>;
}

/** A fresh table, the handler serving `types`, and a tick that invokes it in-process. */
async function harness(
  types: TaskTypes,
  options: { clock?: Clock; copies?: number; remainingMs?: number } = {},
): Promise<Harness> {
  const { store } = await createTestTable('task-sdk');
  for (const name of Object.keys(types)) await store.putTaskType({ name, functionName: 'in-process' });
  const clock = options.clock ?? { now: () => new Date() };
  const handler = createTaskHandler(types, {
    store,
    clock,
    heartbeatIntervalMs,
    progressFlushMs: 100,
    deadlineMarginMs: 1_000,
    logger: silent,
  });
  const invoker = new InProcessInvoker(handler, options);
  const registry = new TaskTypeRegistry(store, clock);
  await registry.refresh();
  const deps = makeTestDeps({ store, invoker, clock, registry });
  return {
    store,
    invoker,
    handler,
    tick: (now, settings) =>
      runTick(deps, { now: now ?? clock.now(), recordTick: false, ...(settings ? { settings } : {}) }),
    async createDueTask(overrides) {
      const now = clock.now();
      const task = aTask({
        schedule: '0 0 1 1 *',
        nextSlotAt: new Date(now.getTime() - 1_000),
        createdAt: now,
        updatedAt: now,
        ...overrides,
      });
      expect((await store.createTask(task)).created).toBe(true);
      return task;
    },
  };
}

async function onlyRun(store: TaskStore, taskId: string, runId: string) {
  const run = await store.getRun(taskId, runId);
  if (!run) throw new Error(`run ${runId} has no record`);
  return run;
}

describe('task SDK against DynamoDB Local, driven by the real tick', () => {
  it('runs the body once when the same run event is delivered three times at once, and again later', async () => {
    let bodies = 0;
    const hold = gate();
    const h = await harness(
      {
        'sdk.once': async () => {
          bodies++;
          await hold.promise;
          return 'done';
        },
      },
      { copies: 3 },
    );
    const task = await h.createDueTask({ type: 'sdk.once' });

    const report = await h.tick();
    expect(report.started).toBe(1);
    // Two of the three concurrent deliveries lose the claim while the winner's body is held.
    await waitFor(() => h.invoker.deliveries.filter((d) => d.result).length === 2, 5_000, {
      what: 'two duplicate deliveries to be dropped',
    });
    hold.open();
    await h.invoker.settled();
    const event = h.invoker.deliveries[0]?.event as RunEvent;
    const late = await h.handler(JSON.parse(JSON.stringify(event)), lambdaContext());

    expect(bodies).toBe(1);
    const results = h.invoker.deliveries.map((d) => d.result);
    expect(results.filter((r) => r?.claimed)).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    expect(results.filter((r) => r && !r.claimed)).toEqual([
      expect.objectContaining({ claimed: false, existingStatus: 'running' }),
      expect.objectContaining({ claimed: false, existingStatus: 'running' }),
    ]);
    expect(late).toMatchObject({ claimed: false, existingStatus: 'succeeded' });
    const { items } = await h.store.listRuns(task.id, { limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'succeeded', result: 'done', runId: event.runId });
  });

  it('an idempotent task: duplicates may each run the body, one record is kept, the first outcome', async () => {
    let bodies = 0;
    const h = await harness(
      {
        'sdk.idem': async () => {
          bodies++;
          return `done ${bodies}`;
        },
      },
      { copies: 3 },
    );
    const task = await h.createDueTask({ type: 'sdk.idem', idempotent: true });

    expect((await h.tick()).started).toBe(1);
    await h.invoker.settled();

    // No claim stops a duplicate: every delivery ran the body; the first record won.
    expect(bodies).toBe(3);
    const results = h.invoker.deliveries.map((d) => d.result);
    const recorded = results.map((r) => (r && 'recorded' in r ? r.recorded : undefined));
    expect(recorded.filter((r) => r === true)).toHaveLength(1);
    expect(recorded.filter((r) => r === false)).toHaveLength(2);
    const { items } = await h.store.listRuns(task.id, { limit: 10 });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ status: 'succeeded', trigger: 'schedule', attempt: 1 });
  });

  it('an idempotent run that outlives a heartbeat interval is claimed at its first beat', async () => {
    const hold = gate();
    const h = await harness({
      'sdk.idem-long': async () => {
        await hold.promise;
        return 'long';
      },
    });
    const task = await h.createDueTask({ type: 'sdk.idem-long', idempotent: true });
    await h.tick();
    const event = h.invoker.deliveries[0]?.event as RunEvent;
    const runId = event.runId;
    // The run started unclaimed; its first heartbeat writes the claim.
    await waitFor(async () => (await h.store.getRun(task.id, runId))?.status === 'running', 2_000, {
      what: 'the claim at the first heartbeat',
    });
    hold.open();
    await h.invoker.settled();
    expect(await h.store.getRun(task.id, runId)).toMatchObject({ status: 'succeeded', result: 'long' });
  });

  it('fires the signal within heartbeat interval + 1 s of a cancel request, and the run ends cancelled', async () => {
    let abortedAt: number | undefined;
    let reason: CancelReason | undefined;
    let iterations = 0;
    const h = await harness({
      'sdk.loop': async (ctx) => {
        ctx.signal.addEventListener('abort', () => {
          abortedAt = Date.now();
          reason = ctx.cancelReason;
        });
        for (;;) {
          iterations++;
          await sleep(20, undefined, { signal: ctx.signal }); // rejects with an AbortError on cancel
        }
      },
    });
    const task = await h.createDueTask({
      type: 'sdk.loop',
      retry: { maxAttempts: 3, backoffSeconds: 1, maxBackoffSeconds: 1 },
    });
    await h.tick();
    const runId = (h.invoker.events[0] as RunEvent).runId;
    const running = await waitFor(async () => {
      const run = await h.store.getRun(task.id, runId);
      return run?.status === 'running' && iterations > 3 && run;
    }, 5_000);

    const requestedAt = Date.now();
    const cancel = await h.store.requestCancel(running, new Date());
    expect(cancel).toEqual({ requested: true, status: 'running' });
    await waitFor(() => abortedAt, heartbeatIntervalMs + 1_000 + 500, { what: 'the signal to fire' });
    await h.invoker.settled();

    expect((abortedAt as number) - requestedAt).toBeLessThanOrEqual(heartbeatIntervalMs + 1_000);
    expect(reason).toBe('cancelled');
    const run = await onlyRun(h.store, task.id, runId);
    expect(run.status).toBe('cancelled');
    expect(run.note).toMatch(/^cancelled/);
    expect(run.error).toBeUndefined();
    // A cancel is not a failure: no retry is planned.
    expect((await h.store.getTask(task.id))?.pending).toEqual([]);
  });

  it('times out a handler that never finishes, retries it per policy, and refuses its late completion', async () => {
    const hang = gate();
    const reasons: (CancelReason | undefined)[] = [];
    const h = await harness({
      'sdk.hang': async (ctx) => {
        if (ctx.attempt > 1) return 'second attempt ok';
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.cancelReason));
        await hang.promise; // ignores its signal: "never finishes" until the test lets it
        return 'late result';
      },
    });
    const task = await h.createDueTask({
      type: 'sdk.hang',
      timeoutSeconds: 1,
      retry: { maxAttempts: 2, backoffSeconds: 5, maxBackoffSeconds: 60 },
    });
    const settings = { claimSlackMs: 0 };
    const t0 = Date.now();
    await h.tick(new Date(t0), settings);
    const first = h.invoker.deliveries[0] as Delivery;
    await waitFor(
      async () => (await h.store.getRun(task.id, first.event.runId))?.status === 'running',
      5_000,
    );

    // A tick after both the task's lease (1 s) and the run's own lease (30 s) have ended: the
    // handler heartbeats, but with real time, so its lease stays behind this tick's instant.
    const reclaimAt = new Date(t0 + runLeaseMs(heartbeatIntervalMs) + 10_000);
    const reclaim = await h.tick(reclaimAt, settings);
    expect(reclaim.timedOut).toBe(1);
    const timedOut = await onlyRun(h.store, task.id, first.event.runId);
    expect(timedOut).toMatchObject({ status: 'timed-out', error: { name: 'TimeoutError' } });
    expect(timedOut.note).toMatch(/lease expired while running/);

    // Its next heartbeat is refused: the signal fires with lease-lost.
    await waitFor(() => reasons.length > 0, heartbeatIntervalMs + 1_000, { what: 'lease-lost' });
    expect(reasons).toEqual(['lease-lost']);

    // A completion arriving after the reclaim is refused, directly...
    const late = await h.store.completeRun(
      task.id,
      first.event.runId,
      { token: first.event.token, requestId: first.context.awsRequestId },
      { status: 'succeeded', finishedAt: new Date(), durationMs: 1, result: 'too late' },
    );
    expect(late).toMatchObject({ completed: false, current: { status: 'timed-out' } });
    // ...and through the handler when the body finally returns.
    hang.open();
    await h.invoker.settled();
    expect(first.result).toMatchObject({ claimed: true, recorded: false, currentStatus: 'timed-out' });
    expect(await onlyRun(h.store, task.id, first.event.runId)).toMatchObject({ status: 'timed-out' });
    expect((await onlyRun(h.store, task.id, first.event.runId)).result).toBeUndefined();

    // Retried per policy: attempt 2, trigger retry, after the 5 s backoff.
    const waiting = await h.store.getTask(task.id);
    expect(waiting?.pending).toEqual([
      expect.objectContaining({
        trigger: 'retry',
        attempt: 2,
        notBefore: new Date(reclaimAt.getTime() + 5_000),
      }),
    ]);
    const early = await h.tick(new Date(reclaimAt.getTime() + 4_000), settings);
    expect(early.started).toBe(0);
    const retry = await h.tick(new Date(reclaimAt.getTime() + 5_000), settings);
    expect(retry.started).toBe(1);
    const second = h.invoker.deliveries[1] as Delivery;
    expect(second.event).toMatchObject({
      trigger: 'retry',
      attempt: 2,
      scheduledFor: first.event.scheduledFor,
    });
    await h.invoker.settled();
    expect(await onlyRun(h.store, task.id, second.event.runId)).toMatchObject({
      status: 'succeeded',
      trigger: 'retry',
      attempt: 2,
      result: 'second attempt ok',
    });
  });

  it('retries a failing task with growing delays, then stopOnError disables it with a note', async () => {
    let offsetMs = 0;
    const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
    const h = await harness(
      {
        'sdk.fail': async () => {
          throw new Error('boom');
        },
      },
      { clock },
    );
    const task = await h.createDueTask({
      type: 'sdk.fail',
      retry: { maxAttempts: 3, backoffSeconds: 2, maxBackoffSeconds: 60 },
      stopOnError: true,
    });

    const gaps: number[] = [];
    await h.tick();
    await h.invoker.settled();
    for (let attempt = 2; attempt <= 3; attempt++) {
      const waiting = await h.store.getTask(task.id);
      const pending = waiting?.pending[0];
      const failed = await onlyRun(h.store, task.id, (h.invoker.events[attempt - 2] as RunEvent).runId);
      expect(pending).toMatchObject({ trigger: 'retry', attempt });
      gaps.push((pending?.notBefore.getTime() ?? 0) - (failed.finishedAt?.getTime() ?? 0));
      // Move the shared clock to the retry's instant (nothing runs meanwhile), then tick.
      offsetMs += (pending?.notBefore.getTime() ?? 0) - clock.now().getTime();
      expect((await h.tick()).started).toBe(1);
      await h.invoker.settled();
    }

    expect(gaps).toEqual([2_000, 4_000]); // exponential: 2 s, then 4 s
    const { items } = await h.store.listRuns(task.id, { limit: 10 });
    const runs = items.reverse();
    expect(runs.map((r) => [r.status, r.attempt, r.trigger])).toEqual([
      ['failed', 1, 'schedule'],
      ['failed', 2, 'retry'],
      ['failed', 3, 'retry'],
    ]);
    expect(runs[0]?.error).toMatchObject({ name: 'Error', message: 'boom' });
    expect(runs[0]?.error?.stack).toContain('boom');
    const [r1, r2, r3] = runs;
    expect((r2?.dispatchedAt?.getTime() ?? 0) - (r1?.finishedAt?.getTime() ?? 0)).toBeGreaterThanOrEqual(
      2_000,
    );
    expect((r3?.dispatchedAt?.getTime() ?? 0) - (r2?.finishedAt?.getTime() ?? 0)).toBeGreaterThanOrEqual(
      4_000,
    );
    const disabled = await h.store.getTask(task.id);
    expect(disabled?.enabled).toBe(false);
    expect(disabled?.disabledReason).toMatch(/stopOnError.*attempt 3 of 3.*boom/);
    expect(disabled?.summary).toMatchObject({ runCount: 3, lastStatus: 'failed' });
    expect(disabled?.pending).toEqual([]);
    expect(disabled?.active).toEqual([]);
  });

  it('makes progress readable from the store while the run is going', async () => {
    const hold = gate();
    const h = await harness({
      'sdk.progress': async (ctx) => {
        ctx.setProgress(1, 3, 'step 1 of 3');
        ctx.setProgress(2, 3, 'step 2 of 3');
        await hold.promise;
        ctx.setProgress(3, 3, 'done');
        return { steps: 3 };
      },
    });
    const task = await h.createDueTask({ type: 'sdk.progress' });
    await h.tick();
    const runId = (h.invoker.events[0] as RunEvent).runId;

    const seen = await waitFor(async () => {
      const run = await h.store.getRun(task.id, runId);
      return run?.status === 'running' && run.progress?.value === 2 && run;
    }, heartbeatIntervalMs + 1_000);
    expect(seen.progress).toMatchObject({ value: 2, max: 3, message: 'step 2 of 3' });
    expect(seen.heartbeatAt).toBeInstanceOf(Date);
    hold.open();
    await h.invoker.settled();

    const done = await onlyRun(h.store, task.id, runId);
    expect(done).toMatchObject({
      status: 'succeeded',
      result: '{"steps":3}',
      progress: { value: 3, message: 'done' },
    });
  });

  it('fails a run with bad parameters with a ValidationError, without calling the body', async () => {
    let called = false;
    const h = await harness({
      'sdk.params': defineTask({
        parameters: z.object({ count: z.number().int(), label: z.string().default('x') }),
        async run(ctx) {
          called = true;
          return ctx.parameters.count;
        },
      }),
    });
    const task = await h.createDueTask({ type: 'sdk.params', parameters: { count: 'many' } });
    await h.tick();
    await h.invoker.settled();

    expect(called).toBe(false);
    const run = await onlyRun(h.store, task.id, (h.invoker.events[0] as RunEvent).runId);
    expect(run.status).toBe('failed');
    expect(run.error?.name).toBe('ValidationError');
    expect(run.error?.message).toMatch(/^parameters\.count: /);
  });

  it('fires the signal with deadline when the Lambda has less than the margin left, and records cancelled', async () => {
    let reason: CancelReason | undefined;
    let startedAt = 0;
    let abortedAt = 0;
    const h = await harness(
      {
        'sdk.deadline': async (ctx) => {
          startedAt = Date.now();
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.cancelReason;
            abortedAt = Date.now();
          });
          while (!ctx.signal.aborted) await sleep(20);
          ctx.throwIfCancelled();
        },
      },
      { remainingMs: 1_600 }, // margin 1 s: the signal fires about 0.6 s in
    );
    const task = await h.createDueTask({ type: 'sdk.deadline' });
    await h.tick();
    await h.invoker.settled();

    expect(reason).toBe('deadline');
    expect(abortedAt - startedAt).toBeLessThan(1_500);
    const run = await onlyRun(h.store, task.id, (h.invoker.events[0] as RunEvent).runId);
    expect(run.status).toBe('cancelled');
    expect(run.note).toMatch(/deadline/);
  });
});
