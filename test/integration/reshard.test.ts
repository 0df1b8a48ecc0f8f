/**
 * Changing the due index's shard count of a live table, against DynamoDB Local: every-minute
 * tasks keep coming due while the count changes, ticks of the old and the new count run side by
 * side, and `reshardDueIndex` moves what is left while a tick runs. Every slot starts exactly
 * once; after the move, a store that knows nothing of the old count still finds every task.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import type { TaskStore } from '../../src/core/ports.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { reshardDueIndex } from '../../src/store/reshard.js';
import { dueKeysOf } from '../../src/store/reshard-keys.js';
import { runTick } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps, RecordingInvoker } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';

const minute = 60_000;
const t0 = new Date('2026-03-29T01:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * minute);

/** Claims and completes every run it is sent (as the task SDK does), and counts each slot's starts. */
function claimingInvoker(store: TaskStore, starts: Map<string, number>): RecordingInvoker {
  return new RecordingInvoker(async (event) => {
    const slot = `${event.taskId}@${event.scheduledFor}`;
    starts.set(slot, (starts.get(slot) ?? 0) + 1);
    const fence = { token: event.token, requestId: `req-${event.runId}` };
    await store.claimRun({
      taskId: event.taskId,
      runId: event.runId,
      type: event.type,
      ...fence,
      trigger: event.trigger,
      attempt: event.attempt,
      scheduledFor: new Date(event.scheduledFor),
      dispatchedAt: new Date(event.dispatchedAt),
      startedAt: new Date(event.dispatchedAt),
      leaseExpiresAt: new Date(event.leaseExpiresAt),
      parameters: event.parameters,
      expiresAt: at(60 * 24 * 30),
    });
    await store.completeRun(event.taskId, event.runId, fence, {
      status: 'succeeded',
      finishedAt: new Date(event.dispatchedAt),
      durationMs: 0,
    });
    return undefined;
  });
}

/** One tick of `store` at minute `m` (the clock stands at its instant). */
async function tickAt(store: TaskStore, m: number, starts: Map<string, number>) {
  const deps = makeTestDeps({ store, invoker: claimingInvoker(store, starts), clock: { now: () => at(m) } });
  await deps.registry.refresh();
  const report = await runTick(deps, { now: at(m), recordTick: false });
  expect(report.errors).toEqual([]);
  return report;
}

/** `count` every-minute tasks due at t0, and `yearly` tasks first due at minute `yearlyAt`. */
async function seed(store: TaskStore, count: number, yearly: number, yearlyAt: number) {
  await store.putTaskType({ name: 'test.noop', functionName: 'noop' });
  const limit = pLimit(16);
  const make = (id: string, schedule: string, nextSlotAt: Date) =>
    limit(() => store.createTask(aTask({ id, type: 'test.noop', schedule, nextSlotAt, updatedAt: t0 })));
  await Promise.all([
    ...Array.from({ length: count }, (_, i) => make(`every-${i}`, '* * * * *', t0)),
    ...Array.from({ length: yearly }, (_, i) => make(`yearly-${i}`, '0 0 1 1 *', at(yearlyAt))),
  ]);
}

/** Slots of minute `m` started, and the largest number of starts of any slot. */
function slotsOf(starts: Map<string, number>, m: number) {
  const iso = at(m).toISOString();
  const slots = [...starts.entries()].filter(([slot]) => slot.endsWith(`@${iso}`));
  return { started: slots.length, most: Math.max(0, ...slots.map(([, n]) => n)) };
}

/** Task ids under each due-index key, read from the index. */
async function keysInUse(doc: DynamoDBDocumentClient, tableName: string) {
  const probe = new DynamoTaskStore({ client: doc, tableName, shardCount: 64 });
  const used: number[] = [];
  for (let key = 0; key < 64; key++) {
    if ((await probe.queryDue(key, at(60 * 24 * 400))).tasks.length > 0) used.push(key);
  }
  return used;
}

describe('changing the shard count of a live table', () => {
  it('8 -> 2 shards: old and new ticks side by side, the move during a tick, every slot once', async () => {
    const { client, tableName, store: old8 } = await createTestTable('reshard-down', { shardCount: 8 });
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    await seed(old8, 120, 30, 5);
    const starts = new Map<string, number>();
    const new2 = new DynamoTaskStore({ client: doc, tableName, shardCount: 2, formerShardCount: 8 });

    // Minute 0: the old count alone.
    await tickAt(old8, 0, starts);
    // Minute 1: a deployment under way: a tick of each count at once.
    await Promise.all([tickAt(old8, 1, starts), tickAt(new2, 1, starts)]);
    // Minute 2: the new count only, with the move running at the same time.
    const [, first] = await Promise.all([
      tickAt(new2, 2, starts),
      reshardDueIndex({ doc, tableName, shardCount: 2, now: at(2) }),
    ]);
    // Minutes 3 to 5: a store that no longer knows the former count (the yearly tasks come due at 5).
    const plain2 = new DynamoTaskStore({ client: doc, tableName, shardCount: 2 });
    for (const m of [3, 4, 5]) await tickAt(plain2, m, starts);

    for (const m of [0, 1, 2, 3, 4])
      expect(slotsOf(starts, m), `minute ${m}`).toEqual({ started: 120, most: 1 });
    expect(slotsOf(starts, 5)).toEqual({ started: 150, most: 1 });
    // The yearly tasks not already under their new key moved (the every-minute ones were due: deferred).
    expect(first.moved).toBeGreaterThan(0);
    expect(await keysInUse(doc, tableName)).toEqual([0, 1]);
    // A second run has nothing left to move or leave.
    expect(await reshardDueIndex({ doc, tableName, shardCount: 2, now: at(5) })).toMatchObject({
      deferred: 0,
      moved: 0,
    });
  }, 180_000);

  it('2 -> 8 shards needs no former count: the new ticks read the old keys, tasks move as rewritten', async () => {
    const { client, tableName, store: old2 } = await createTestTable('reshard-up', { shardCount: 2 });
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    await seed(old2, 80, 20, 5);
    const starts = new Map<string, number>();
    const new8 = new DynamoTaskStore({ client: doc, tableName, shardCount: 8 });

    await tickAt(old2, 0, starts);
    await Promise.all([tickAt(old2, 1, starts), tickAt(new8, 1, starts)]);
    const [, moved] = await Promise.all([
      tickAt(new8, 2, starts),
      reshardDueIndex({ doc, tableName, shardCount: 8, now: at(2) }),
    ]);
    for (const m of [3, 4, 5]) await tickAt(new8, m, starts);

    for (const m of [0, 1, 2, 3, 4])
      expect(slotsOf(starts, m), `minute ${m}`).toEqual({ started: 80, most: 1 });
    expect(slotsOf(starts, 5)).toEqual({ started: 100, most: 1 });
    expect(moved.moved).toBeGreaterThan(0);
    const used = await keysInUse(doc, tableName);
    expect(used.every((key) => key < 8)).toBe(true);
    expect(used.length).toBeGreaterThan(2);
    expect((await reshardDueIndex({ doc, tableName, shardCount: 8, now: at(5) })).moved).toBe(0);
  }, 180_000);
});

describe('dueKeysOf', () => {
  it('folds the former keys into the new shards, each into exactly one', () => {
    expect(dueKeysOf(0, 2, 8)).toEqual([0, 2, 4, 6]);
    expect(dueKeysOf(1, 2, 8)).toEqual([1, 3, 5, 7]);
    expect(dueKeysOf(3, 4)).toEqual([3]);
    expect(dueKeysOf(1, 8, 2)).toEqual([1]);
    const all = [0, 1, 2].flatMap((s) => dueKeysOf(s, 3, 16)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 16 }, (_, k) => k));
  });

  it('a store refuses a former count that is not a shard count', () => {
    expect(() => new DynamoTaskStore({ client: {} as never, tableName: 't', formerShardCount: 0 })).toThrow(
      'formerShardCount must be a whole number from 1 to 64, not 0',
    );
  });
});
