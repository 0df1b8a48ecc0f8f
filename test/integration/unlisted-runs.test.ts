/**
 * Which successes are listed across tasks (src/core/listing.ts), with the real task SDK handler
 * and the real tick on DynamoDB Local: what a short run of an every-minute task writes, from the
 * capacity DynamoDB reports (`ReturnConsumedCapacity`, test/bench/capacity.ts), counted as the
 * cost section counts it (test/bench/cost.ts): the handler's writes plus the next dispatch's. And
 * which runs are listed: by default a scheduled success of an every-minute task no, of a yearly
 * task yes; a failure always; a run that heartbeated leaves `running`.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { TaskState } from '../../src/core/model.js';
import type { RunEvent, SaveTaskResult, TaskStore } from '../../src/core/ports.js';
import type { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { createTaskHandler, type TaskInvocationResult, type TaskTypes } from '../../src/task/index.js';
import { TaskTypeRegistry } from '../../src/tick/registry.js';
import { runTick } from '../../src/tick/run-tick.js';
import { CapacityMeter } from '../bench/capacity.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps, RecordingInvoker } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';
import { gate, waitFor } from '../support/wait.js';

const silent = new Logger({ serviceName: 'unlisted-runs-test', logLevel: 'SILENT' });
const context = () => ({ awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 900_000 });
const TYPE = 'unlisted.work';

/**
 * The tick's store with each batched save sent as its own conditional write: DynamoDB Local
 * reports no capacity for the PartiQL batch the store sends, and DynamoDB bills each statement of
 * it as this very write of the same item.
 */
function savesOneByOne(store: DynamoTaskStore): TaskStore {
  const saveTasks = async (saves: { task: TaskState; expectedVersion: number }[]) => {
    const results: SaveTaskResult[] = [];
    for (const { task, expectedVersion } of saves)
      results.push(await store.saveTask(task, { expectedVersion }));
    return results;
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'saveTasks') return saveTasks;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * `n` every-minute tasks with `options`, two minutes of them: the first tick dispatches, each
 * handler runs (one at a time, metered), the next minute's tick dispatches again (metered: the
 * write that holds the next lease and folds the finished run). Write units per run.
 */
async function shortRunsCost(options: Pick<TaskState, 'idempotent' | 'listSucceeded'>, n = 4) {
  const { client, tableName, store } = await createTestTable('unlisted-cost');
  const meter = CapacityMeter.attach(client);
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  let nowMs = t0 + 1_000;
  const clock = { now: () => new Date(nowMs) };
  await store.putTaskType({ name: TYPE, functionName: 'in-process' });
  for (let i = 0; i < n; i++) {
    const task = aTask({
      type: TYPE,
      nextSlotAt: new Date(t0),
      createdAt: new Date(t0 - 60_000),
      ...options,
    });
    expect((await store.createTask(task)).created).toBe(true);
  }
  const invoker = new RecordingInvoker();
  const registry = new TaskTypeRegistry(store, clock);
  await registry.refresh();
  const deps = makeTestDeps({ store: savesOneByOne(store), invoker, clock, registry });
  const tick = () => runTick(deps, { now: clock.now(), recordTick: false, concurrency: 1 });
  const handler = createTaskHandler({ [TYPE]: async () => 'done' } satisfies TaskTypes, {
    store,
    clock,
    logger: silent,
  });

  expect((await tick()).started).toBe(n);
  const events = [...invoker.events];
  meter.reset(tableName);
  const results: TaskInvocationResult[] = [];
  for (const event of events) results.push(await handler(JSON.parse(JSON.stringify(event)), context()));
  const handlerUnits = meter.tally(tableName).writeUnits;
  expect(results).toEqual(events.map(() => expect.objectContaining({ status: 'succeeded', recorded: true })));

  nowMs = t0 + 61_000;
  meter.reset(tableName);
  expect((await tick()).started).toBe(n);
  const dispatchUnits = meter.tally(tableName).writeUnits;
  const listed = await store.listRunsAcross({ limit: 50 });
  return {
    handler: handlerUnits / n,
    dispatch: dispatchUnits / n,
    perRun: (handlerUnits + dispatchUnits) / n,
    listed: listed.items.length,
    history: (await store.listRuns(events[0]?.taskId as string, { limit: 10 })).items,
  };
}

describe('listing successes across tasks, with the real task SDK on DynamoDB Local', () => {
  it('by default a short run of an every-minute task costs 3 write units (dispatch, claim, completion) and is not listed', async () => {
    const cost = await shortRunsCost({});

    expect(cost).toMatchObject({ handler: 2, dispatch: 1, perRun: 3, listed: 0 });
    expect(cost.history).toEqual([expect.objectContaining({ status: 'succeeded', result: 'done' })]);
  });

  it('an idempotent task: 2 write units, its record put and the next dispatch', async () => {
    const byDefault = await shortRunsCost({ idempotent: true });
    const unlisted = await shortRunsCost({ idempotent: true, listSucceeded: false });

    expect(byDefault).toMatchObject({ handler: 1, dispatch: 1, perRun: 2, listed: 0 });
    expect(unlisted).toMatchObject({ handler: 1, dispatch: 1, perRun: 2, listed: 0 });
    expect(byDefault.history).toEqual([expect.objectContaining({ status: 'succeeded', result: 'done' })]);
  });

  it('listSucceeded true lists every success, 1 write unit a run more; false lists none', async () => {
    const listed = await shortRunsCost({ listSucceeded: true });
    const listedIdempotent = await shortRunsCost({ idempotent: true, listSucceeded: true });
    const unlisted = await shortRunsCost({ listSucceeded: false });

    expect(listed).toMatchObject({ handler: 3, dispatch: 1, perRun: 4, listed: 4 });
    expect(listedIdempotent).toMatchObject({ handler: 2, dispatch: 1, perRun: 3, listed: 4 });
    expect(unlisted).toMatchObject({ handler: 2, dispatch: 1, perRun: 3, listed: 0 });
  });

  it("lists a failure of an unlisted task and a yearly task's success by default, and takes a run that heartbeated out of `running` when it succeeds", async () => {
    const { store } = await createTestTable('unlisted-ends');
    const hold = gate();
    const types: TaskTypes = {
      'unlisted.fails': async () => {
        throw new Error('boom');
      },
      'unlisted.long': async () => {
        await hold.promise;
        return 'long';
      },
      'unlisted.ok': async () => 'ok',
    };
    for (const name of Object.keys(types)) await store.putTaskType({ name, functionName: 'in-process' });
    const handler = createTaskHandler(types, { store, heartbeatIntervalMs: 200, logger: silent });
    const invoker = new RecordingInvoker();
    // The tick's clock stands 1 s after a minute's first second, the slot of every task here, so
    // each is due once and on time (a minute boundary crossed mid-test would make a catch-up).
    const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const clock = { now: () => new Date(slot.getTime() + 1_000) };
    const registry = new TaskTypeRegistry(store, clock);
    await registry.refresh();
    const deps = makeTestDeps({ store, invoker, clock, registry });
    const eventOf = (taskId: string) => invoker.events.find((e) => e.taskId === taskId) as RunEvent;
    const due = { nextSlotAt: slot, listSucceeded: false, schedule: '0 0 1 1 *' };
    const failing = aTask({ ...due, type: 'unlisted.fails' });
    const long = aTask({ ...due, type: 'unlisted.long', idempotent: true });
    // Default listing: a yearly task's scheduled success is listed, an every-minute task's is not.
    const yearly = aTask({ nextSlotAt: due.nextSlotAt, schedule: '0 0 1 1 *', type: 'unlisted.ok' });
    const everyMinute = aTask({ nextSlotAt: due.nextSlotAt, schedule: '* * * * *', type: 'unlisted.ok' });
    for (const task of [failing, long, yearly, everyMinute]) await store.createTask(task);

    expect((await runTick(deps, { now: clock.now(), recordTick: false })).started).toBe(4);
    expect([yearly, everyMinute].map((t) => eventOf(t.id).trigger)).toEqual(['schedule', 'schedule']);
    for (const task of [yearly, everyMinute])
      expect(await handler(JSON.parse(JSON.stringify(eventOf(task.id))), context())).toMatchObject({
        status: 'succeeded',
        recorded: true,
      });
    const failed = await handler(JSON.parse(JSON.stringify(eventOf(failing.id))), context());
    expect(failed).toMatchObject({ status: 'failed', recorded: true });
    const longRun = handler(JSON.parse(JSON.stringify(eventOf(long.id))), context());
    const runId = eventOf(long.id).runId;
    const running = async () => (await store.listRunsAcross({ statuses: ['running'], limit: 5 })).items;
    await waitFor(async () => (await running()).length === 1, 3_000, { what: 'the first heartbeat' });
    expect((await running())[0]).toMatchObject({ runId, status: 'running' });
    hold.open();
    expect(await longRun).toMatchObject({ status: 'succeeded', recorded: true });

    expect(await running()).toEqual([]);
    const across = await store.listRunsAcross({ limit: 10 });
    expect(across.items.map((r) => [r.taskId, r.status]).sort()).toEqual(
      [
        [failing.id, 'failed'],
        [yearly.id, 'succeeded'],
      ].sort(),
    );
    expect((await store.listRuns(everyMinute.id, { limit: 5 })).items).toEqual([
      expect.objectContaining({ status: 'succeeded', result: 'ok' }),
    ]);
    expect(await store.getRun(long.id, runId)).toMatchObject({ status: 'succeeded', result: 'long' });
    expect((await store.listRuns(long.id, { limit: 5 })).items.map((r) => r.runId)).toEqual([runId]);
  });
});
