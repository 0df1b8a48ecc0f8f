/**
 * The run index's part of the TaskStore contract (runs across tasks, lapsed running records,
 * backfill jobs), run against the in-memory store and DynamoDB Local alike.
 */
import { ulid } from 'ulid';
import { beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/core/errors.js';
import type { RunStatus, Trigger } from '../../src/core/model.js';
import type { BackfillJob, RunQuery, RunSummary, TaskStore } from '../../src/core/ports.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { aClaim, aRun, aTask, at, T0 } from '../support/builders.js';
import { createTestTable } from '../support/dynamo.js';

interface Seed {
  taskId: string;
  offsetMs: number;
  status?: RunStatus;
  type?: string;
  trigger?: Trigger;
}

/**
 * Records a run through the store's own writes: a claim, then a completion, or, for one that runs
 * on, a heartbeat (a run enters the index's `running` partitions at its first).
 */
async function seed(store: TaskStore, s: Seed): Promise<string> {
  const runId = ulid(T0.getTime() + s.offsetMs);
  const fence = { token: 1, requestId: `req-${runId}` };
  await store.claimRun(
    aClaim({
      taskId: s.taskId,
      runId,
      requestId: fence.requestId,
      type: s.type ?? 'Acme.CleanupFiles',
      trigger: s.trigger ?? 'schedule',
      leaseExpiresAt: at(s.offsetMs + 60_000),
    }),
  );
  const status = s.status ?? 'succeeded';
  if (status === 'running') {
    await store.heartbeat(s.taskId, runId, fence, {
      now: at(s.offsetMs + 1000),
      leaseExpiresAt: at(s.offsetMs + 60_000),
    });
    return runId;
  }
  if (status !== 'succeeded' && status !== 'failed' && status !== 'cancelled') {
    throw new Error(`seed cannot record ${status}`);
  }
  await store.completeRun(s.taskId, runId, fence, {
    status,
    finishedAt: at(s.offsetMs + 1000),
    durationMs: 1000,
    ...(status === 'failed' ? { error: { name: 'Error', message: 'boom' } } : {}),
  });
  return runId;
}

/** Every page of a query, in order. */
async function allPages(store: TaskStore, query: Omit<RunQuery, 'nextToken'>): Promise<RunSummary[]> {
  const found: RunSummary[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 100; page++) {
    const got = await store.listRunsAcross({ ...query, ...(nextToken ? { nextToken } : {}) });
    found.push(...got.items);
    if (!got.nextToken) return found;
    nextToken = got.nextToken;
  }
  throw new Error('more than 100 pages');
}

function describeRunIndex(name: string, makeStore: () => Promise<TaskStore>): void {
  describe(`run index: ${name}`, () => {
    let store: TaskStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('lists the runs of every task newest first, page by page, each once', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 23; i++) {
        const status: RunStatus = i % 5 === 0 ? 'failed' : i % 7 === 0 ? 'running' : 'succeeded';
        ids.push(await seed(store, { taskId: `task-${i % 3}`, offsetMs: i * 60_000, status }));
      }
      const runs = await allPages(store, { limit: 4 });
      expect(runs.map((r) => r.runId)).toEqual([...ids].reverse());
      const first = runs.at(-1) as RunSummary;
      expect(first).toMatchObject({
        taskId: 'task-0',
        type: 'Acme.CleanupFiles',
        status: 'failed',
        trigger: 'schedule',
        attempt: 1,
        scheduledFor: T0,
        startedAt: at(200),
        finishedAt: at(1000),
        durationMs: 1000,
      });
      const one = await store.listRunsAcross({ limit: 4 });
      expect(one.items).toHaveLength(4);
      expect(one.nextToken).toBeDefined();
    });

    it('filters by state through the key: a rare state reads only its own runs', async () => {
      const failed: string[] = [];
      for (let i = 0; i < 40; i++) {
        const id = await seed(store, {
          taskId: `task-${i % 4}`,
          offsetMs: i * 1000,
          status: i % 13 === 0 ? 'failed' : 'succeeded',
        });
        if (i % 13 === 0) failed.push(id);
      }
      const page = await store.listRunsAcross({ statuses: ['failed'], limit: 10 });
      expect(page.items.map((r) => r.runId)).toEqual([...failed].reverse());
      expect(page.items.every((r) => r.status === 'failed')).toBe(true);
      expect(page.nextToken).toBeUndefined();
      // Four failed runs over four shards: what was read is those, never the 36 that succeeded.
      expect(page.usage.itemsRead).toBe(failed.length);

      const both = await allPages(store, { statuses: ['failed', 'running'], limit: 2 });
      expect(both.map((r) => r.runId)).toEqual([...failed].reverse());
    });

    it('filters by type, trigger and task, and a time range over run creation', async () => {
      await seed(store, { taskId: 'a', offsetMs: 0, type: 'T.One', trigger: 'manual' });
      const b1 = await seed(store, { taskId: 'b', offsetMs: 60_000, type: 'T.Two', trigger: 'replay' });
      const a2 = await seed(store, { taskId: 'a', offsetMs: 120_000, type: 'T.Two', trigger: 'backfill' });
      await seed(store, { taskId: 'b', offsetMs: 180_000, type: 'T.One', trigger: 'schedule' });

      const ids = async (q: Omit<RunQuery, 'limit'>) =>
        (await allPages(store, { ...q, limit: 2 })).map((r) => r.runId);
      expect(await ids({ type: 'T.Two' })).toEqual([a2, b1]);
      expect(await ids({ trigger: 'replay' })).toEqual([b1]);
      expect(await ids({ taskId: 'a', type: 'T.Two' })).toEqual([a2]);
      expect(await ids({ from: at(60_000), to: at(120_000) })).toEqual([a2, b1]);
      expect(await ids({ from: at(60_001) })).toHaveLength(2);
      expect(await ids({ to: at(59_999) })).toHaveLength(1);
    });

    it('lists a run from its first heartbeat or its end, never from its claim alone', async () => {
      const runId = ulid(T0.getTime());
      const fence = { token: 1, requestId: 'req-1' };
      await store.claimRun(aClaim({ taskId: 'h', runId, requestId: fence.requestId }));
      expect((await store.listRunsAcross({ limit: 5 })).items).toEqual([]);
      await store.heartbeat('h', runId, fence, { now: at(1000), leaseExpiresAt: at(60_000) });
      await store.heartbeat('h', runId, fence, { now: at(2000), leaseExpiresAt: at(61_000) });
      expect((await store.listRunsAcross({ statuses: ['running'], limit: 5 })).items).toMatchObject([
        { runId, status: 'running' },
      ]);

      // A short run, never heartbeating, is listed once it ended, under its end state.
      const short = ulid(T0.getTime() + 1);
      await store.claimRun(aClaim({ taskId: 's', runId: short, requestId: 'req-2' }));
      await store.completeRun(
        's',
        short,
        { token: 1, requestId: 'req-2' },
        {
          status: 'failed',
          finishedAt: at(500),
          durationMs: 400,
          error: { name: 'Error', message: 'boom' },
        },
      );
      expect((await store.listRunsAcross({ statuses: ['failed'], limit: 5 })).items).toMatchObject([
        { runId: short, status: 'failed', durationMs: 400 },
      ]);
      expect((await store.listLapsedRuns(at(3_600_000))).runs.map((r) => r.runId)).toEqual([runId]);
    });

    it('moves a run from `running` to its end state, and a time-out too', async () => {
      const runId = await seed(store, { taskId: 't', offsetMs: 0, status: 'running' });
      expect(
        (await store.listRunsAcross({ statuses: ['running'], limit: 5 })).items.map((r) => r.runId),
      ).toEqual([runId]);
      await store.completeRun(
        't',
        runId,
        { token: 1, requestId: `req-${runId}` },
        {
          status: 'succeeded',
          finishedAt: at(5000),
          durationMs: 4800,
        },
      );
      expect((await store.listRunsAcross({ statuses: ['running'], limit: 5 })).items).toEqual([]);
      expect((await store.listRunsAcross({ statuses: ['succeeded'], limit: 5 })).items).toMatchObject([
        { runId, status: 'succeeded', durationMs: 4800 },
      ]);

      const task = aTask({ id: 't2' });
      await store.createTask(task);
      const lapsed = await seed(store, { taskId: 't2', offsetMs: 0, status: 'running' });
      const saved = await store.saveTask(
        { ...task, version: 2 },
        {
          expectedVersion: 1,
          runWrites: [
            {
              kind: 'time-out',
              now: at(120_000),
              record: aRun({ taskId: 't2', runId: lapsed, status: 'timed-out', finishedAt: at(120_000) }),
            },
          ],
        },
      );
      expect(saved.saved).toBe(true);
      expect(
        (await store.listRunsAcross({ statuses: ['timed-out'], limit: 5 })).items.map((r) => r.runId),
      ).toEqual([lapsed]);
      expect((await store.listRunsAcross({ statuses: ['running'], limit: 5 })).items).toEqual([]);
    });

    it('keeps an unlisted end in its task history only, and takes a heartbeated run out of `running`', async () => {
      const fenceOf = (runId: string) => ({ token: 1, requestId: `req-${runId}` });
      const claimed = async (runId: string) =>
        store.claimRun(aClaim({ taskId: 'u', runId, requestId: fenceOf(runId).requestId }));
      const ok = { status: 'succeeded', finishedAt: at(5000), durationMs: 4800 } as const;
      const unlisted = { listed: false };
      // A short run, completed unlisted: never in the index.
      const short = ulid(T0.getTime());
      await claimed(short);
      await store.completeRun('u', short, fenceOf(short), ok, unlisted);
      // A run that heartbeated (listed `running`), then completed unlisted: it leaves the index.
      const beat = ulid(T0.getTime() + 1);
      await claimed(beat);
      await store.heartbeat('u', beat, fenceOf(beat), { now: at(1000), leaseExpiresAt: at(60_000) });
      expect(
        (await store.listRunsAcross({ statuses: ['running'], limit: 5 })).items.map((r) => r.runId),
      ).toEqual([beat]);
      await store.completeRun('u', beat, fenceOf(beat), ok, unlisted);
      // An unclaimed run's one record (an idempotent task), unlisted.
      const recorded = ulid(T0.getTime() + 2);
      const record = aRun({ taskId: 'u', runId: recorded, status: 'succeeded', finishedAt: at(900) });
      expect((await store.recordRun(record, unlisted)).recorded).toBe(true);
      // A failure written as listed (the task SDK lists every end but a success): listed.
      const failed = ulid(T0.getTime() + 3);
      await claimed(failed);
      await store.completeRun('u', failed, fenceOf(failed), {
        status: 'failed',
        finishedAt: at(500),
        durationMs: 400,
        error: { name: 'Error', message: 'boom' },
      });

      expect((await store.listRunsAcross({ limit: 10 })).items.map((r) => r.runId)).toEqual([failed]);
      expect((await store.listRunsAcross({ statuses: ['running'], limit: 5 })).items).toEqual([]);
      expect((await store.listLapsedRuns(at(3_600_000))).runs).toEqual([]);
      const history = await store.listRuns('u', { limit: 10 });
      expect(history.items.map((r) => [r.runId, r.status])).toEqual([
        [failed, 'failed'],
        [recorded, 'succeeded'],
        [beat, 'succeeded'],
        [short, 'succeeded'],
      ]);
      expect(await store.getRun('u', beat)).toMatchObject({ status: 'succeeded', heartbeatAt: at(1000) });
      // Completing again the same way is still the same completion (a retried write).
      expect((await store.completeRun('u', short, fenceOf(short), ok, unlisted)).completed).toBe(true);
    });

    it('finds `running` records whose own lease ended, and no others', async () => {
      const old = await seed(store, { taskId: 'x', offsetMs: 0, status: 'running' }); // lease ends at +60 s
      const fresh = await seed(store, { taskId: 'y', offsetMs: 120_000, status: 'running' }); // +180 s
      await seed(store, { taskId: 'z', offsetMs: 10_000, status: 'succeeded' });

      const lapsed = await store.listLapsedRuns(at(90_000));
      expect(lapsed.runs.map((r) => r.runId)).toEqual([old]);
      expect(lapsed.runs[0]).toMatchObject({ status: 'running', leaseExpiresAt: at(60_000) });
      expect(lapsed.usage.itemsRead).toBe(4); // two index entries, two records
      expect((await store.listLapsedRuns(at(180_000))).runs.map((r) => r.runId)).toEqual([old, fresh]);
      expect((await store.listLapsedRuns(at(180_000), { limit: 1 })).runs).toHaveLength(1);
    });

    it('keeps `replayOf` on records and on pending and active runs', async () => {
      const runId = ulid();
      await store.claimRun(
        aClaim({ taskId: 'r', runId, trigger: 'replay', replayOf: 'ORIGINAL', requestId: 'req-r' }),
      );
      await store.heartbeat(
        'r',
        runId,
        { token: 1, requestId: 'req-r' },
        { now: at(1), leaseExpiresAt: at(60_000) },
      );
      expect(await store.getRun('r', runId)).toMatchObject({ trigger: 'replay', replayOf: 'ORIGINAL' });
      expect((await store.listRunsAcross({ trigger: 'replay', limit: 5 })).items[0]).toMatchObject({
        replayOf: 'ORIGINAL',
      });
      const task = aTask({
        pending: [
          {
            runId: 'p1',
            trigger: 'replay',
            scheduledFor: T0,
            notBefore: T0,
            attempt: 1,
            parameters: {},
            replayOf: 'A',
          },
        ],
        active: [
          {
            runId: 'a1',
            token: 1,
            scheduledFor: T0,
            dispatchedAt: T0,
            expiresAt: at(60_000),
            attempt: 1,
            trigger: 'replay',
            parameters: { x: 1 },
            replayOf: 'B',
          },
        ],
      });
      await store.createTask(task);
      const stored = await store.getTask(task.id);
      expect(stored?.pending[0]?.replayOf).toBe('A');
      expect(stored?.active[0]?.replayOf).toBe('B');
    });

    it('refuses a page token it did not hand out', async () => {
      await expect(store.listRunsAcross({ limit: 5, nextToken: 'not-ours' })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(
        store.listRunsAcross({ limit: 5, nextToken: Buffer.from('{"below":"a b"}').toString('base64url') }),
      ).rejects.toBeInstanceOf(ValidationError);
    });

    it('stores backfill jobs, moves them by compare-and-set and deletes them', async () => {
      const job: BackfillJob = {
        taskId: 'nightly',
        backfillId: 'bf1',
        from: T0,
        to: at(3_600_000),
        concurrency: 2,
        nextSlotAt: T0,
        queued: 0,
        total: 60,
        createdAt: T0,
      };
      await store.putBackfill(job);
      await store.putBackfill({ ...job, taskId: 'other', backfillId: 'bf2', createdAt: at(1) });
      await expect(store.putBackfill(job)).rejects.toThrow();
      expect((await store.listBackfills()).map((j) => j.backfillId)).toEqual(['bf1', 'bf2']);

      const moved = { ...job, queued: 2, nextSlotAt: at(120_000) };
      expect(await store.saveBackfill(moved, 0)).toBe(true);
      expect(await store.saveBackfill({ ...job, queued: 2 }, 0)).toBe(false);
      expect((await store.listBackfills())[0]).toEqual(moved);

      await store.deleteBackfill('nightly', 'bf1');
      expect((await store.listBackfills()).map((j) => j.backfillId)).toEqual(['bf2']);
      expect(await store.saveBackfill(moved, 2)).toBe(false);
    });
  });
}

describeRunIndex('in memory', async () => new MemoryTaskStore());
describeRunIndex('DynamoDB Local', async () => (await createTestTable('runindex')).store);
