import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import type { ActiveRun, Parameters, TaskState } from '../../src/core/model.js';
import type { Notice } from '../../src/core/ports.js';
import { runEventOf } from '../../src/core/run-event.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import {
  createTaskHandler,
  defineTask,
  InvalidRunEventError,
  type TaskContext,
  type TaskHandlerOptions,
  type TaskTypes,
} from '../../src/task/index.js';
import { aTask, at, T0 } from '../support/builders.js';

const silent = new Logger({ serviceName: 'unit', logLevel: 'SILENT' });
const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 120_000 };

/** A stored task with one dispatched run, and the event the tick sent for it. */
async function dispatched(
  store: MemoryTaskStore,
  overrides: Partial<TaskState> = {},
  parameters: Parameters = {},
) {
  const active: ActiveRun = {
    runId: '01JQ0000000000000000000001',
    token: 1,
    scheduledFor: T0,
    dispatchedAt: at(100),
    expiresAt: at(360_000),
    attempt: 1,
    trigger: 'schedule',
    parameters,
  };
  // A scheduled run's parameters are its task's (the claim takes them from the task).
  const task = aTask({ fence: 1, active: [active], nextSlotAt: at(3600_000), parameters, ...overrides });
  await store.createTask(task);
  return { task, event: runEventOf(task, active) };
}

function handlerOf(types: TaskTypes, store: MemoryTaskStore, options: TaskHandlerOptions = {}) {
  return createTaskHandler(types, {
    store,
    clock: { now: () => at(200) },
    logger: silent,
    env: {},
    metrics: false,
    newRunId: () => '01JQ0000000000000000000099',
    ...options,
  });
}

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('createTaskHandler', () => {
  it('runs a plain function with the run context and records its JSON result', async () => {
    const store = new MemoryTaskStore();
    const { task, event } = await dispatched(store, { type: 'Acme.Echo' }, { n: 1 });
    let seen: TaskContext | undefined;
    const handler = handlerOf(
      {
        'Acme.Echo': async (ctx) => {
          seen = ctx;
          return { got: ctx.parameters };
        },
      },
      store,
    );

    const result = await handler(event, context);

    expect(result).toMatchObject({ claimed: true, status: 'succeeded', recorded: true });
    expect(seen).toMatchObject({
      taskId: task.id,
      runId: event.runId,
      type: 'Acme.Echo',
      scheduledFor: T0,
      attempt: 1,
      trigger: 'schedule',
      parameters: { n: 1 },
      requestId: 'req-1',
      idempotencyKey: `${task.id}:${T0.toISOString()}`,
    });
    expect(seen?.remainingTimeMs()).toBe(120_000);
    expect(seen?.signal.aborted).toBe(false);
    const run = await store.getRun(task.id, event.runId);
    expect(run).toMatchObject({
      status: 'succeeded',
      result: '{"got":{"n":1}}',
      requestId: 'req-1',
      token: 1,
    });
  });

  it('parses parameters with the task schema (defaults included) and types ctx.parameters', async () => {
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Typed' }, { count: 2 });
    const typed = defineTask({
      parameters: z.object({ count: z.number().int(), label: z.string().default('none') }),
      async run(ctx) {
        expectTypeOf(ctx.parameters).toEqualTypeOf<{ count: number; label: string }>();
        return `${ctx.parameters.label}:${ctx.parameters.count * 2}`;
      },
    });

    await handlerOf({ 'Acme.Typed': typed }, store)(event, context);

    expect((await store.getRun(event.taskId, event.runId))?.result).toBe('none:4');
  });

  it('fails a run of a type it does not serve', async () => {
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Unknown' });

    const result = await handlerOf({ 'Acme.Other': async () => 'x' }, store)(event, context);

    expect(result).toMatchObject({ claimed: true, status: 'failed' });
    const run = await store.getRun(event.taskId, event.runId);
    expect(run?.error).toMatchObject({ name: 'TaskTypeNotServedError' });
    expect(run?.error?.message).toMatch(/Acme\.Unknown.*Acme\.Other/);
  });

  it('throws on an event that is not a run event, recording nothing', async () => {
    const store = new MemoryTaskStore();
    const handler = handlerOf({}, store);
    await expect(handler({ source: 'aws.events' }, context)).rejects.toBeInstanceOf(InvalidRunEventError);
  });

  it('records a thrown error and settles the task: a retry is planned and written at once', async () => {
    const store = new MemoryTaskStore();
    const { task, event } = await dispatched(store, {
      type: 'Acme.Fail',
      retry: { maxAttempts: 2, backoffSeconds: 10, maxBackoffSeconds: 60 },
    });

    const result = await handlerOf(
      {
        'Acme.Fail': () => {
          throw new TypeError('bad input');
        },
      },
      store,
    )(event, context);

    expect(result).toMatchObject({ status: 'failed', recorded: true, settled: 'saved' });
    const run = await store.getRun(task.id, event.runId);
    expect(run?.error).toMatchObject({ name: 'TypeError', message: 'bad input' });
    expect(run?.error?.stack).toContain('TypeError: bad input');
    const settled = await store.getTask(task.id);
    expect(settled?.active).toEqual([]);
    expect(settled?.pending).toEqual([
      expect.objectContaining({ trigger: 'retry', attempt: 2, notBefore: at(200 + 10_000) }),
    ]);
  });

  it('leaves the fold to the tick when nothing needs the task earlier', async () => {
    const store = new MemoryTaskStore();
    const { task, event } = await dispatched(store, { type: 'Acme.Ok', nextSlotAt: at(60_000) });

    const result = await handlerOf({ 'Acme.Ok': async () => undefined }, store)(
      { ...event, settle: true },
      context,
    );

    expect(result).toMatchObject({ status: 'succeeded', settled: 'deferred' });
    expect((await store.getTask(task.id))?.version).toBe(task.version);
  });

  it('reads the task only to claim after a success when nothing waited behind the run at dispatch', async () => {
    const store = new MemoryTaskStore();
    const { task, event } = await dispatched(store, { type: 'Acme.Ok', nextSlotAt: at(60_000) });
    expect(event.settle).toBe(false);
    let reads = 0;
    const getTask = store.getTask.bind(store);
    store.getTask = async (id) => {
      reads++;
      return getTask(id);
    };

    const result = await handlerOf({ 'Acme.Ok': async () => undefined }, store)(event, context);

    expect(result).toMatchObject({ status: 'succeeded', settled: 'skipped' });
    expect(reads, 'the claim reads the lease; nothing reads the task after the run').toBe(1);
    expect((await getTask(task.id))?.version).toBe(task.version);
  });

  it('settles after a success when a run was pending at dispatch, or the task queues one', async () => {
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Ok', overlap: 'queue-one' });
    expect(event.settle).toBe(true);

    const result = await handlerOf({ 'Acme.Ok': async () => undefined }, store)(event, context);

    expect(result).toMatchObject({ status: 'succeeded' });
    expect(result).not.toMatchObject({ settled: 'skipped' });
  });

  it('drops a second delivery of the same run', async () => {
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Count' });
    let bodies = 0;
    const handler = handlerOf({ 'Acme.Count': () => ++bodies }, store);

    await handler(event, context);
    const again = await handler(event, { ...context, awsRequestId: 'req-2' });

    expect(bodies).toBe(1);
    expect(again).toEqual({
      taskId: event.taskId,
      runId: event.runId,
      claimed: false,
      existingStatus: 'succeeded',
    });
  });

  it('stores a CloudWatch link in the claim when running on Lambda', async () => {
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Ok' });
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/tasks',
      AWS_LAMBDA_LOG_STREAM_NAME: 'stream-1',
    };

    await handlerOf({ 'Acme.Ok': () => 'ok' }, store, { env })(event, context);

    expect((await store.getRun(event.taskId, event.runId))?.logs).toMatch(
      /^https:\/\/us-east-1\.console\.aws\.amazon\.com\/cloudwatch\/home\?region=us-east-1#logsV2:log-groups\/log-group\/\$252Faws\$252Flambda\$252Ftasks\/log-events\/stream-1$/,
    );
  });

  it('puts taskId and runId on every log line, the SDK’s and the task’s', async () => {
    vi.stubEnv('POWERTOOLS_DEV', 'true'); // Powertools then writes through the global console
    const lines: Record<string, unknown>[] = [];
    for (const method of ['info', 'warn', 'error', 'log', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((line: unknown) => {
        lines.push(JSON.parse(String(line)) as Record<string, unknown>);
      });
    }
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Log' });
    const logger = new Logger({ serviceName: 'unit', logLevel: 'INFO' });

    await handlerOf(
      {
        'Acme.Log': (ctx) => {
          ctx.logger.info('from the task');
        },
      },
      store,
      { logger },
    )(event, context);

    expect(lines.map((l) => l.message)).toEqual(['run claimed', 'from the task', 'run succeeded']);
    for (const line of lines) expect(line).toMatchObject({ taskId: event.taskId, runId: event.runId });
  });
});

describe('createTaskHandler: metrics and notices', () => {
  it('announces a failed run and counts it', async () => {
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Boom' });
    const notices: Notice[] = [];
    const metrics = { addMetric: vi.fn(), publishStoredMetrics: vi.fn() };
    const handler = handlerOf(
      {
        'Acme.Boom': async () => {
          throw new Error('disk full');
        },
      },
      store,
      { notifier: { notify: async (n) => void notices.push(...n) }, metrics: metrics as unknown as Metrics },
    );

    await handler(event, context);

    expect(notices).toMatchObject([
      { taskId: event.taskId, runId: event.runId, status: 'failed', error: { message: 'disk full' } },
    ]);
    expect(metrics.addMetric).toHaveBeenCalledWith('Failed', 'Count', 1);
    expect(metrics.publishStoredMetrics).toHaveBeenCalled();
  });

  it('announces nothing for a success', async () => {
    const store = new MemoryTaskStore();
    const { event } = await dispatched(store, { type: 'Acme.Ok' });
    const notices: Notice[] = [];
    const handler = handlerOf({ 'Acme.Ok': async () => 'ok' }, store, {
      notifier: { notify: async (n) => void notices.push(...n) },
    });

    await handler(event, context);

    expect(notices).toEqual([]);
  });
});
