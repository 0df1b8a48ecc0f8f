import { describe, expect, it } from 'vitest';
import { shardOf } from '../../src/core/due.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { MAX_PLAN_TASKS, makeTickHandler, readTickEvent, shardsOfEvent } from '../../src/tick/handler.js';
import { runTick, tickShards } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps, RecordingInvoker } from '../support/deps.js';

const now = new Date('2026-03-29T01:00:00Z');

async function setUp(count: number) {
  const store = new MemoryTaskStore({ shardCount: 4 });
  await store.putTaskType({ name: 'Acme.CleanupFiles', functionName: 'cleanup' });
  for (let i = 0; i < count; i++) await store.createTask(aTask({ id: `t${i}`, nextSlotAt: now }));
  const invoker = new RecordingInvoker();
  const deps = makeTestDeps({ store, invoker, clock: { now: () => now } });
  return { store, invoker, deps };
}

describe('ticks over shard groups', () => {
  it('a tick over some shards starts exactly the due tasks of those shards', async () => {
    const { invoker, deps } = await setUp(40);
    const shardsOfTask = (id: string) => shardOf(id, 4);

    const first = await runTick(deps, { now, shards: [2, 0] });
    expect(first.shards).toEqual([0, 2]);
    expect(invoker.taskIds.length).toBeGreaterThan(0);
    expect(invoker.taskIds.every((id) => [0, 2].includes(shardsOfTask(id)))).toBe(true);

    const second = await runTick(deps, { now, shards: [1, 3] });
    expect(first.started + second.started).toBe(40);
    expect(new Set(invoker.taskIds).size).toBe(40);
  });

  it('every shard when none are named', async () => {
    const { deps } = await setUp(12);
    const report = await runTick(deps, { now });
    expect(report).toMatchObject({ shards: [0, 1, 2, 3], started: 12 });
  });

  it('refuses shards the due index does not have', () => {
    expect(() => tickShards(4, [4])).toThrow('shard 4 does not exist: the due index has shards 0 to 3');
    expect(() => tickShards(4, [-1])).toThrow(/shard -1 does not exist/);
    expect(() => tickShards(4, [1.5])).toThrow(/shard 1.5 does not exist/);
    expect(() => tickShards(4, [])).toThrow('a tick needs at least one shard');
    expect(tickShards(4, [3, 1, 3])).toEqual([1, 3]);
  });
});

describe('the tick handler event', () => {
  it('names all shards when empty, and a group with { shards }', () => {
    expect(shardsOfEvent(undefined)).toBeUndefined();
    expect(shardsOfEvent(null)).toBeUndefined();
    expect(shardsOfEvent({})).toBeUndefined();
    // EventBridge Scheduler may add fields of its own; they are ignored.
    expect(shardsOfEvent({ shards: [0, 1], 'detail-type': 'Scheduled Event' })).toEqual([0, 1]);
  });

  it('rejects a malformed event with a readable error', () => {
    expect(() => shardsOfEvent({ shards: 'all' })).toThrow(/malformed tick event:[\s\S]*shards/);
    expect(() => shardsOfEvent({ shards: [] })).toThrow(/malformed tick event/);
    expect(() => shardsOfEvent({ shards: [0.5] })).toThrow(/malformed tick event/);
    expect(() => shardsOfEvent('tick')).toThrow(/malformed tick event/);
  });

  it('runs the tick over the event’s shards, and fails for a shard the table does not have', async () => {
    const { invoker, deps } = await setUp(20);
    const handler = makeTickHandler(deps, { reserveMs: 1000 });
    const context = { getRemainingTimeInMillis: () => 60_000 };

    const report = await handler({ shards: [3] }, context);
    expect(report.shards).toEqual([3]);
    expect(invoker.taskIds.every((id) => shardOf(id, 4) === 3)).toBe(true);
    await expect(handler({ shards: [9] }, context)).rejects.toThrow(/shard 9 does not exist/);
  });

  it('reads a plan request { tasks }, and refuses it with shards, empty, or over the limit', () => {
    expect(readTickEvent({ tasks: ['a', 'b'] })).toEqual({ tasks: ['a', 'b'] });
    expect(() => readTickEvent({ tasks: ['a'], shards: [0] })).toThrow(/shards or tasks, not both/);
    expect(() => readTickEvent({ tasks: [] })).toThrow(/malformed tick event/);
    expect(() => readTickEvent({ tasks: [''] })).toThrow(/malformed tick event/);
    const tooMany = Array.from({ length: MAX_PLAN_TASKS + 1 }, (_, i) => `t${i}`);
    expect(() => readTickEvent({ tasks: tooMany })).toThrow(/malformed tick event/);
  });

  it('plans only the named tasks on a plan request, and records no tick', async () => {
    const { store, invoker, deps } = await setUp(10);
    const handler = makeTickHandler(deps, { reserveMs: 1000 });
    const context = { getRemainingTimeInMillis: () => 60_000 };

    const report = await handler({ tasks: ['t3', 't7', 'missing'] }, context);

    expect(report).toMatchObject({ due: 2, started: 2 });
    expect(invoker.taskIds.sort()).toEqual(['t3', 't7']);
    expect((await store.getSchedulerState()).lastTickAt).toBeUndefined();
  });
});
