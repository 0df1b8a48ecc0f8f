import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { shardOf } from '../../src/core/due.js';
import type { TaskInvoker, TaskStore } from '../../src/core/ports.js';
import { runTick, type TickDeps } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps, RecordingInvoker } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';

const minute = 60_000;
const t0 = new Date('2026-03-29T01:00:00Z');

/** A handler stand-in: claims and completes every run it receives, as the task SDK does, and remembers it. */
function claimingInvoker(store: TaskStore): RecordingInvoker {
  return new RecordingInvoker(async (event) => {
    await store.claimRun({
      taskId: event.taskId,
      runId: event.runId,
      type: event.type,
      token: event.token,
      requestId: `req-${event.runId}`,
      trigger: event.trigger,
      attempt: event.attempt,
      scheduledFor: new Date(event.scheduledFor),
      dispatchedAt: new Date(event.dispatchedAt),
      startedAt: new Date(event.dispatchedAt),
      leaseExpiresAt: new Date(event.leaseExpiresAt),
      parameters: event.parameters,
      expiresAt: new Date(t0.getTime() + 30 * 86_400_000),
    });
    const finishedAt = new Date(event.dispatchedAt);
    await store.completeRun(
      event.taskId,
      event.runId,
      { token: event.token, requestId: `req-${event.runId}` },
      { status: 'succeeded', finishedAt, durationMs: 0 },
    );
    return undefined;
  });
}

async function makeDeps(store: TaskStore, invoker: TaskInvoker, now: () => Date): Promise<TickDeps> {
  const deps = makeTestDeps({ store, invoker, clock: { now } });
  await deps.registry.refresh(); // as at a cold start
  return deps;
}

async function seed(store: TaskStore, count: number, make: (i: number) => Parameters<typeof aTask>[0]) {
  const limit = pLimit(32);
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(() =>
        store.createTask(aTask({ id: `task-${String(i).padStart(5, '0')}`, type: 'test.noop', ...make(i) })),
      ),
    ),
  );
}

describe('runTick against DynamoDB Local', () => {
  let store: TaskStore;

  beforeAll(async () => {
    ({ store } = await createTestTable('tick'));
    await store.putTaskType({ name: 'test.noop', functionName: 'noop' });
  });

  it('8 concurrent ticks over 500 due tasks start every slot exactly once', async () => {
    const invoker = claimingInvoker(store);
    await seed(store, 500, (i) => ({ id: `conc-${i}`, schedule: '* * * * *', nextSlotAt: t0 }));
    let now = t0;
    const ticks = await Promise.all(
      Array.from({ length: 8 }, async () => runTick(await makeDeps(store, invoker, () => now), { now: t0 })),
    );
    // The next minute: overlapping ticks again, now also folding the runs of the first slot.
    now = new Date(t0.getTime() + minute);
    const next = await Promise.all(
      Array.from({ length: 8 }, async () => runTick(await makeDeps(store, invoker, () => now), { now })),
    );

    const started = [...ticks, ...next].reduce((n, r) => n + r.started, 0);
    expect(started).toBe(1000);
    expect([...ticks, ...next].every((r) => r.errors.length === 0)).toBe(true);
    const perSlot = new Map<string, number>();
    for (let i = 0; i < 500; i++) {
      const { items } = await store.listRuns(`conc-${i}`, { limit: 100 });
      for (const run of items) {
        const key = `${run.taskId}@${run.scheduledFor.toISOString()}`;
        perSlot.set(key, (perSlot.get(key) ?? 0) + 1);
      }
    }
    expect(perSlot.size).toBe(1000);
    expect([...perSlot.values()].every((n) => n === 1)).toBe(true);
    expect(invoker.events).toHaveLength(1000);
    // 8 ticks contending for the same 500 tasks twice over: a correctness check, given room on a
    // slow machine.
  }, 120_000);

  it('ticks split over shard groups, disjoint or overlapping, together start every slot exactly once', async () => {
    await seed(store, 200, (i) => ({ id: `split-${i}`, schedule: '* * * * *', nextSlotAt: t0 }));
    // Two groups as a split deployment runs them, plus an overlapping pair (a misconfiguration
    // or a redelivered tick): the leases still allow one start per slot.
    const groups = [
      [0, 1],
      [2, 3],
      [0, 1, 2],
      [1, 2, 3],
    ];
    const invokers = groups.map(() => claimingInvoker(store));
    const reports = await Promise.all(
      groups.map(async (shards, g) =>
        runTick(await makeDeps(store, invokers[g] as RecordingInvoker, () => t0), { now: t0, shards }),
      ),
    );

    expect(reports.map((r) => r.shards)).toEqual(groups);
    expect(reports.every((r) => r.errors.length === 0)).toBe(true);
    const started = invokers.map((invoker) =>
      invoker.events.map((e) => e.taskId).filter((id) => id.startsWith('split-')),
    );
    const all = started.flat();
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
    // Each tick started only tasks of its own shards.
    groups.forEach((shards, g) => {
      expect(started[g]?.every((id) => shards.includes(shardOf(id, store.shardCount)))).toBe(true);
    });
  });

  it('with 5,000 tasks of which 20 are due, a tick reads at most 20 + shard-count items', async () => {
    const { store: big } = await createTestTable('scale');
    await big.putTaskType({ name: 'test.noop', functionName: 'noop' });
    const later = new Date(t0.getTime() + 24 * 3600_000);
    await seed(big, 5000, (i) => ({ nextSlotAt: i % 250 === 0 ? t0 : later, schedule: '0 * * * *' }));
    const invoker = claimingInvoker(big);

    const report = await runTick(await makeDeps(big, invoker, () => t0), { now: t0 });

    expect(report.due).toBe(20);
    expect(report.started).toBe(20);
    expect(report.itemsRead).toBeLessThanOrEqual(20 + big.shardCount);
  }, 120_000);
});
