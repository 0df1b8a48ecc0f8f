/**
 * The TaskStore contract: one suite, run against every adapter (in memory, DynamoDB Local), so
 * the fake can never drift from the real thing. `makeStore` must return an empty store.
 */
import { monotonicFactory } from 'ulid';
import { beforeEach, describe, expect, it } from 'vitest';
import { dueIndexKey, shardOf } from '../../src/core/due.js';
import { ValidationError } from '../../src/core/errors.js';
import type { RunRecord, TaskState } from '../../src/core/model.js';
import type { RunFence, RunOutcome, RunWrite, TaskStore } from '../../src/core/ports.js';
import { aClaim, aRun, aTask, at, T0 } from '../support/builders.js';

/** Saves the next version of `task` (with `changes`) over the current one. */
function saveNext(
  store: TaskStore,
  task: TaskState,
  changes: Partial<TaskState> = {},
  runWrites: RunWrite[] = [],
) {
  return store.saveTask(
    { ...task, ...changes, version: task.version + 1 },
    { expectedVersion: task.version, runWrites },
  );
}

/** A task as a store reads it back: with the due-index key it was written under. */
function asStored(task: TaskState): TaskState {
  const dueKey = dueIndexKey(task);
  const { dueKey: _, ...rest } = task;
  return dueKey ? { ...rest, dueKey } : rest;
}

/** A task whose id falls into `shard`. */
function aTaskInShard(shard: number, shardCount: number, overrides: Partial<TaskState> = {}): TaskState {
  for (;;) {
    const task = aTask(overrides);
    if (shardOf(task.id, shardCount) === shard) return task;
  }
}

async function expectValidationError(promise: Promise<unknown>, field: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ValidationError);
  expect((error as ValidationError).issues.map((i) => i.field)).toEqual([field]);
}

const succeeded: RunOutcome = {
  status: 'succeeded',
  finishedAt: at(90_000),
  durationMs: 89_800,
  result: 'done',
};
const fence = { token: 1, requestId: 'req-1' };

export function describeTaskStoreContract(name: string, makeStore: () => Promise<TaskStore>): void {
  describe(`TaskStore contract: ${name}`, () => {
    let store: TaskStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    describe('task types', () => {
      it('puts, overwrites and lists types by name', async () => {
        await store.putTaskType({ name: 'B.Type', functionName: 'fn-b' });
        await store.putTaskType({
          name: 'A.Type',
          functionName: 'fn-a',
          description: 'first',
          timeoutSeconds: 60,
        });
        await store.putTaskType({ name: 'B.Type', functionName: 'fn-b2' });

        expect(await store.listTaskTypes()).toEqual([
          { name: 'A.Type', functionName: 'fn-a', description: 'first', timeoutSeconds: 60 },
          { name: 'B.Type', functionName: 'fn-b2' },
        ]);
      });
    });

    describe('tasks', () => {
      it('creates a task once and reads it back exactly, optional fields included', async () => {
        const task = aTask({
          description: 'nightly',
          startAt: at(-3_600_000),
          endAt: at(86_400_000),
          maxRuns: 10,
          disabledReason: 'none',
          parameters: { dir: '/tmp', depth: 2, nested: { list: [1, 'a', true, null] } },
          fence: 3,
          active: [
            {
              runId: 'run-a',
              token: 3,
              scheduledFor: T0,
              dispatchedAt: at(1),
              expiresAt: at(360_000),
              attempt: 1,
              trigger: 'schedule',
              parameters: { x: 1 },
            },
          ],
          pending: [
            {
              runId: 'run-p',
              trigger: 'manual',
              scheduledFor: T0,
              notBefore: at(5),
              attempt: 1,
              parameters: {},
            },
            {
              runId: 'run-q',
              trigger: 'catch-up',
              scheduledFor: T0,
              notBefore: at(5),
              attempt: 1,
              parameters: {},
              firstSlotAt: at(-180_000),
              lastSlotAt: T0,
              slotCount: 4,
            },
          ],
          summary: {
            runCount: 4,
            lastRunAt: at(-60_000),
            lastStatus: 'failed',
            lastError: { name: 'Error', message: 'boom', stack: 'at x' },
            lastDurationMs: 12,
            lastResult: 'partial',
          },
        });

        expect(await store.createTask(task)).toEqual({ created: true });
        expect(await store.createTask({ ...task, name: 'other' })).toEqual({ created: false });

        expect(await store.getTask(task.id)).toEqual(asStored(task));
        expect(await store.getTask('no-such-task')).toBeUndefined();
      });

      it('reads several tasks at once, in batches past 100, skipping ids that do not exist', async () => {
        const tasks = Array.from({ length: 130 }, (_, i) =>
          aTask({ id: `many-${String(i).padStart(3, '0')}` }),
        );
        for (const task of tasks) await store.createTask(task);
        const first = tasks[0] as TaskState;
        await store.saveTask({ ...first, name: 'renamed', version: 2 }, { expectedVersion: 1 });

        const ids = [...tasks.map((t) => t.id), 'no-such-task', first.id];
        const read = (await store.getTasks(ids)).sort((a, b) => a.id.localeCompare(b.id));

        expect(read.map((t) => t.id)).toEqual(tasks.map((t) => t.id));
        expect(read[0]).toEqual(asStored({ ...first, name: 'renamed', version: 2 }));
        expect(await store.getTasks([])).toEqual([]);
      });

      it('copies values in and out, so callers cannot change what is stored', async () => {
        const task = aTask({ parameters: { a: 1 } });
        await store.createTask(task);
        task.parameters.a = 2;
        task.name = 'changed';
        const read = await store.getTask(task.id);
        if (!read) throw new Error('task missing');
        read.parameters.a = 3;
        read.active.push({
          runId: 'x',
          token: 1,
          scheduledFor: T0,
          dispatchedAt: T0,
          expiresAt: T0,
          attempt: 1,
          trigger: 'manual',
          parameters: {},
        });

        const again = await store.getTask(task.id);
        expect(again?.parameters).toEqual({ a: 1 });
        expect(again?.name).toBe('Clean up files');
        expect(again?.active).toEqual([]);
      });

      it('keeps the system flag through create, save (set and cleared) and the task list', async () => {
        const task = aTask({ system: true });
        await store.createTask(task);
        expect((await store.getTask(task.id))?.system).toBe(true);

        await saveNext(store, task, { system: false });
        expect((await store.getTask(task.id))?.system).toBe(false);
        const cleared = await store.getTask(task.id);
        if (!cleared) throw new Error('task missing');
        await saveNext(store, cleared, { system: true });

        const listed = await store.listTasks({ limit: 100 });
        expect(listed.items.find((t) => t.id === task.id)).toMatchObject({ system: true, version: 3 });
      });

      it('saves by compare-and-set on the version', async () => {
        const task = aTask();
        await store.createTask(task);

        const won = await saveNext(store, task, { name: 'renamed' });
        const lost = await saveNext(store, task, { name: 'stale' });

        const renamed = asStored({ ...task, name: 'renamed', version: 2 });
        expect(won).toEqual({ saved: true, task: renamed });
        expect(lost).toEqual({ saved: false, reason: 'version' });
        expect(await store.getTask(task.id)).toEqual(renamed);
      });

      it('saves a batch of tasks, each by its own compare-and-set, results in order', async () => {
        const tasks = Array.from({ length: 30 }, (_, i) =>
          aTask({ name: `task ${i}`, nextSlotAt: at(60_000) }),
        );
        for (const task of tasks) await store.createTask(task);
        // Every third task changed since it was read: its save must lose, and only its save.
        for (const [i, task] of tasks.entries())
          if (i % 3 === 0) await saveNext(store, task, { name: 'moved on' });

        const results = await store.saveTasks(
          tasks.map((task) => ({
            task: { ...task, name: `${task.name}, saved`, version: task.version + 1 },
            expectedVersion: task.version,
          })),
        );

        expect(results).toHaveLength(30);
        for (const [i, task] of tasks.entries()) {
          const stored = await store.getTask(task.id);
          if (i % 3 === 0) {
            expect(results[i]).toEqual({ saved: false, reason: 'version' });
            expect(stored?.name).toBe('moved on');
          } else {
            const saved = asStored({ ...task, name: `${task.name}, saved`, version: task.version + 1 });
            expect(results[i]).toEqual({ saved: true, task: saved });
            expect(stored).toEqual(saved);
          }
        }
      });

      it('removes in a batched save what the new task no longer has', async () => {
        const full = aTask({
          description: 'nightly',
          startAt: at(-3_600_000),
          endAt: at(86_400_000),
          maxRuns: 10,
          disabledReason: 'paused by an admin',
          nextSlotAt: at(60_000),
          idempotent: true,
          listSucceeded: false,
        });
        const other = aTask();
        await store.createTask(full);
        await store.createTask(other);
        expect(await store.getTask(full.id)).toEqual(asStored(full));
        const {
          description: _d,
          startAt: _s,
          endAt: _e,
          maxRuns: _m,
          disabledReason: _r,
          nextSlotAt: _n,
          idempotent: _i,
          listSucceeded: _l,
          ...bare
        } = full;

        const results = await store.saveTasks([
          { task: { ...bare, version: full.version + 1 }, expectedVersion: full.version },
          { task: { ...other, version: other.version + 1 }, expectedVersion: other.version },
        ]);

        expect(results.map((r) => r.saved)).toEqual([true, true]);
        expect(await store.getTask(full.id)).toEqual(asStored({ ...bare, version: full.version + 1 }));
        const due = await store.queryDue(shardOf(full.id, store.shardCount), at(86_400_000));
        expect(due.tasks.map((t) => t.id)).not.toContain(full.id);
      });

      it('refuses a batch that saves one task twice, and a version that is not the next', async () => {
        const task = aTask();
        await store.createTask(task);
        const next = { task: { ...task, version: task.version + 1 }, expectedVersion: task.version };

        await expect(store.saveTasks([next, next])).rejects.toThrow(RangeError);
        await expect(
          store.saveTasks([next, { task: { ...aTask(), version: 7 }, expectedVersion: 1 }]),
        ).rejects.toThrow(RangeError);
        expect(await store.getTask(task.id)).toEqual(asStored(task));
      });

      it('refuses to save a task that does not exist', async () => {
        expect(await saveNext(store, aTask())).toEqual({ saved: false, reason: 'version' });
      });

      it('throws when the saved version is not the expected one plus one (a broken invariant)', async () => {
        const task = aTask();
        await store.createTask(task);
        await expect(store.saveTask({ ...task, version: 5 }, { expectedVersion: 1 })).rejects.toThrow(
          RangeError,
        );
      });

      it('lets exactly one of two concurrent saves of the same version win', async () => {
        const task = aTask();
        await store.createTask(task);

        const results = await Promise.all([
          saveNext(store, task, { name: 'first' }),
          saveNext(store, task, { name: 'second' }),
        ]);

        expect(results.filter((r) => r.saved)).toHaveLength(1);
        expect(results.filter((r) => !r.saved)).toEqual([{ saved: false, reason: 'version' }]);
        const winner = results.find((r) => r.saved);
        expect(await store.getTask(task.id)).toEqual(winner?.saved ? winner.task : undefined);
      });

      it('lists every task once, in pages sorted by id, then refuses bad tokens', async () => {
        const tasks = [1, 2, 3, 4, 5].map(() => aTask());
        for (const task of tasks) await store.createTask(task);
        await store.putTaskType({ name: 'A.Type', functionName: 'fn' });
        await saveNext(store, tasks[0] as TaskState, {}, [
          { kind: 'record', record: aRun({ taskId: tasks[0]?.id }) },
        ]);

        const seen: string[] = [];
        let nextToken: string | undefined;
        let pages = 0;
        do {
          const page = await store.listTasks({ limit: 2, ...(nextToken ? { nextToken } : {}) });
          const ids = page.items.map((t) => t.id);
          expect(ids.length).toBeLessThanOrEqual(2);
          expect(ids).toEqual([...ids].sort());
          seen.push(...ids);
          nextToken = page.nextToken;
          pages++;
        } while (nextToken && pages < 10);

        expect(nextToken).toBeUndefined();
        expect(seen.sort()).toEqual(tasks.map((t) => t.id).sort());
      });

      it('refuses a malformed nextToken or limit with a ValidationError', async () => {
        await store.createTask(aTask());
        const runsToken = Buffer.from(JSON.stringify({ pk: 'TASK#x', sk: 'RUN#1' })).toString('base64url');

        await expectValidationError(store.listTasks({ limit: 2, nextToken: 'not a token!' }), 'nextToken');
        await expectValidationError(store.listTasks({ limit: 2, nextToken: 'bm90IGpzb24' }), 'nextToken');
        await expectValidationError(store.listTasks({ limit: 2, nextToken: runsToken }), 'nextToken');
        await expectValidationError(store.listTasks({ limit: 0 }), 'limit');
      });

      it('deletes a task and its history only at the expected version', async () => {
        const task = aTask();
        const other = aTask();
        await store.createTask(task);
        await store.createTask(other);
        await saveNext(store, task, {}, [{ kind: 'record', record: aRun({ taskId: task.id }) }]);
        const otherRun = aRun({ taskId: other.id });
        await saveNext(store, other, {}, [{ kind: 'record', record: otherRun }]);

        expect(await store.deleteTask(task.id, { expectedVersion: 1 })).toEqual({ deleted: false });
        expect(await store.getTask(task.id)).toBeDefined();
        expect(await store.deleteTask(task.id, { expectedVersion: 2 })).toEqual({ deleted: true });
        expect(await store.deleteTask('no-such-task', { expectedVersion: 1 })).toEqual({ deleted: false });

        expect(await store.getTask(task.id)).toBeUndefined();
        expect((await store.listRuns(task.id, { limit: 10 })).items).toEqual([]);
        expect((await store.listRuns(other.id, { limit: 10 })).items).toEqual([otherRun]);
      });
    });

    describe('due index', () => {
      it('returns a task at and after its due instant, not before', async () => {
        const task = aTaskInShard(0, store.shardCount, { nextSlotAt: at(60_000) });
        await store.createTask(task);

        const before = await store.queryDue(0, at(59_999));
        const onTime = await store.queryDue(0, at(60_000));

        expect(before.tasks).toEqual([]);
        expect(onTime.tasks).toEqual([asStored(task)]);
        expect(onTime.usage).toEqual({ itemsRead: 1, writes: 0 });
      });

      it('holds the index key of a task due again within one tick, and moves it otherwise', async () => {
        // Written at 60 s, indexed at 60 s (its slot); the next slot is at 120 s.
        const task = aTaskInShard(0, store.shardCount, { nextSlotAt: at(60_000), updatedAt: at(0) });
        await store.createTask(task);
        const inView = (await store.queryDue(0, at(60_000))).tasks[0];
        if (!inView) throw new Error('task not due');
        expect(inView.dueKey).toEqual(at(60_000));

        // Dispatched at 60.5 s: due again at 120 s, within one minute, so the key stays at 60 s.
        const soon = await saveNext(store, inView, { nextSlotAt: at(120_000), updatedAt: at(60_500) });
        if (!soon.saved) throw new Error('lost the save');
        expect(soon.task.dueKey).toEqual(at(60_000));
        expect((await store.queryDue(0, at(60_000))).tasks.map((t) => t.id)).toEqual([task.id]);

        // Dispatched at 120.5 s: next due at 600 s, beyond one tick, so the key moves there.
        const later = await saveNext(store, soon.task, { nextSlotAt: at(600_000), updatedAt: at(120_500) });
        if (!later.saved) throw new Error('lost the save');
        expect(later.task.dueKey).toEqual(at(600_000));
        expect((await store.queryDue(0, at(599_999))).tasks).toEqual([]);
        expect((await store.queryDue(0, at(600_000))).tasks.map((t) => t.id)).toEqual([task.id]);
      });

      it('keeps tasks with nothing to do out of the index (sparse)', async () => {
        const disabled = aTaskInShard(0, store.shardCount, { enabled: false });
        const exhausted = aTaskInShard(0, store.shardCount, { nextSlotAt: undefined });
        const becomesIdle = aTaskInShard(0, store.shardCount);
        for (const task of [disabled, exhausted, becomesIdle]) await store.createTask(task);

        expect((await store.queryDue(0, at(3_600_000))).tasks.map((t) => t.id)).toEqual([becomesIdle.id]);
        await saveNext(store, becomesIdle, { enabled: false });

        expect((await store.queryDue(0, at(3_600_000))).tasks).toEqual([]);
      });

      it('finds a task only in its own shard, oldest first, up to the limit', async () => {
        const n = store.shardCount;
        const tasks = [0, 1, 2, 3, 4, 5].map((i) =>
          aTaskInShard(i % n, n, { nextSlotAt: at(60_000 + (6 - i) * 1000) }),
        );
        for (const task of tasks) await store.createTask(task);

        for (let shard = 0; shard < n; shard++) {
          const expected = tasks
            .filter((t) => shardOf(t.id, n) === shard)
            .sort((a, b) => (a.nextSlotAt?.getTime() ?? 0) - (b.nextSlotAt?.getTime() ?? 0));
          const { tasks: due } = await store.queryDue(shard, at(3_600_000));
          expect(due.map((t) => t.id)).toEqual(expected.map((t) => t.id));
        }
        const limited = await store.queryDue(0, at(3_600_000), { limit: 1 });
        expect(limited.tasks).toHaveLength(1);
        expect(limited.usage.itemsRead).toBe(1);
      });

      it('moves a task to the instant of its earliest pending run or lease end', async () => {
        const task = aTaskInShard(0, store.shardCount, { nextSlotAt: at(3_600_000) });
        await store.createTask(task);
        await saveNext(store, task, {
          pending: [
            {
              runId: 'p',
              trigger: 'manual',
              scheduledFor: T0,
              notBefore: at(1000),
              attempt: 1,
              parameters: {},
            },
          ],
        });

        expect((await store.queryDue(0, at(1000))).tasks.map((t) => t.id)).toEqual([task.id]);
      });
    });

    describe('run writes with a task save', () => {
      it('writes run records atomically with the task', async () => {
        const task = aTask();
        await store.createTask(task);
        const skipped = aRun({
          taskId: task.id,
          status: 'skipped',
          note: 'overlap',
          slotCount: 2,
          firstSlotAt: T0,
          lastSlotAt: at(60_000),
        });

        expect((await saveNext(store, task, {}, [{ kind: 'record', record: skipped }])).saved).toBe(true);
        expect(await store.getRun(task.id, skipped.runId)).toEqual(skipped);
      });

      it('fails with reason "run" and leaves the task unchanged when a record already exists', async () => {
        const task = aTask();
        await store.createTask(task);
        const run = aRun({ taskId: task.id });
        await saveNext(store, task, {}, [{ kind: 'record', record: run }]);
        const stored = await store.getTask(task.id);
        if (!stored) throw new Error('task missing');

        const result = await saveNext(store, stored, { name: 'changed' }, [
          { kind: 'record', record: aRun({ taskId: task.id }) },
          { kind: 'record', record: { ...run, status: 'failed' } },
        ]);

        expect(result).toEqual({ saved: false, reason: 'run' });
        expect(await store.getTask(task.id)).toEqual(stored);
        expect(await store.getRun(task.id, run.runId)).toEqual(run);
        expect((await store.listRuns(task.id, { limit: 10 })).items).toHaveLength(1);
      });

      it('fails with reason "version" and writes no run when the task changed', async () => {
        const task = aTask();
        await store.createTask(task);
        await saveNext(store, task);
        const run = aRun({ taskId: task.id });

        expect(await saveNext(store, task, {}, [{ kind: 'record', record: run }])).toEqual({
          saved: false,
          reason: 'version',
        });
        expect(await store.getRun(task.id, run.runId)).toBeUndefined();
      });

      it('times out a never-claimed run by creating its record', async () => {
        const task = aTask();
        await store.createTask(task);
        const timedOut = aRun({
          taskId: task.id,
          status: 'timed-out',
          startedAt: undefined,
          durationMs: undefined,
          finishedAt: at(400_000),
          note: 'lease expired before the handler claimed the run',
          error: { name: 'TimeoutError', message: 'the run did not finish before its lease expired' },
        });

        const result = await saveNext(store, task, {}, [
          { kind: 'time-out', record: timedOut, now: at(400_000) },
        ]);

        expect(result.saved).toBe(true);
        expect(await store.getRun(task.id, timedOut.runId)).toEqual(timedOut);
      });

      it('times out a running run whose own lease ended, keeping what its claim wrote', async () => {
        const task = aTask();
        await store.createTask(task);
        const claim = aClaim({ taskId: task.id, leaseExpiresAt: at(300_000) });
        await store.claimRun(claim);
        const progress = { value: 3, max: 10, message: 'files', updatedAt: at(1000) };
        await store.heartbeat(task.id, claim.runId, fence, {
          now: at(1000),
          leaseExpiresAt: at(300_000),
          progress,
        });
        const timedOut = aRun({
          taskId: task.id,
          runId: claim.runId,
          status: 'timed-out',
          requestId: undefined,
          startedAt: claim.startedAt,
          finishedAt: at(300_000),
          durationMs: 299_800,
          note: 'lease expired while running',
          error: { name: 'TimeoutError', message: 'the run did not finish before its lease expired' },
        });

        const result = await saveNext(store, task, {}, [
          { kind: 'time-out', record: timedOut, now: at(300_000) },
        ]);

        expect(result.saved).toBe(true);
        expect(await store.getRun(task.id, claim.runId)).toEqual({
          ...timedOut,
          requestId: 'req-1',
          dispatchedAt: claim.dispatchedAt,
          leaseExpiresAt: at(300_000),
          heartbeatAt: at(1000),
          progress,
        });
      });

      it('refuses to time out a running run whose lease is fresh, or a finished run', async () => {
        const task = aTask();
        await store.createTask(task);
        const running = aClaim({ taskId: task.id, leaseExpiresAt: at(300_000) });
        await store.claimRun(running);
        const finished = aRun({ taskId: task.id });
        await saveNext(store, task, {}, [{ kind: 'record', record: finished }]);
        const current = await store.getTask(task.id);
        if (!current) throw new Error('task missing');
        const timeOut = (runId: string): RunWrite => ({
          kind: 'time-out',
          record: aRun({ taskId: task.id, runId, status: 'timed-out' }),
          now: at(299_999),
        });

        expect(await saveNext(store, current, {}, [timeOut(running.runId)])).toEqual({
          saved: false,
          reason: 'run',
        });
        expect(await saveNext(store, current, {}, [timeOut(finished.runId)])).toEqual({
          saved: false,
          reason: 'run',
        });
        expect((await store.getRun(task.id, running.runId))?.status).toBe('running');
        expect(await store.getRun(task.id, finished.runId)).toEqual(finished);
        expect(await store.getTask(task.id)).toEqual(current);
      });
    });

    describe('claims', () => {
      it('claims a run once: a running record with the claim fields', async () => {
        const claim = aClaim({
          logs: 'http://logs/1',
          functionName: 'acme-reports',
          functionVersion: '7',
          logStream: '2026/11/30/[7]abc',

          firstSlotAt: at(-120_000),
          lastSlotAt: T0,
          slotCount: 3,
        });

        const result = await store.claimRun(claim);

        const run: RunRecord = {
          taskId: claim.taskId,
          runId: claim.runId,
          type: claim.type,
          status: 'running',
          trigger: claim.trigger,
          attempt: claim.attempt,
          scheduledFor: claim.scheduledFor,
          dispatchedAt: claim.dispatchedAt,
          startedAt: claim.startedAt,
          parameters: claim.parameters,
          token: claim.token,
          requestId: claim.requestId,
          leaseExpiresAt: claim.leaseExpiresAt,
          logs: 'http://logs/1',
          functionName: 'acme-reports',
          functionVersion: '7',
          logStream: '2026/11/30/[7]abc',

          firstSlotAt: at(-120_000),
          lastSlotAt: T0,
          slotCount: 3,
          expiresAt: claim.expiresAt,
        };
        expect(result).toEqual({ claimed: true, run });
        expect(await store.getRun(claim.taskId, claim.runId)).toEqual(run);
      });

      it('lets exactly one of three concurrent claims win; the others get the winner back', async () => {
        const claim = aClaim();

        const results = await Promise.all(
          ['req-a', 'req-b', 'req-c'].map((requestId) => store.claimRun({ ...claim, requestId })),
        );

        const winners = results.flatMap((r) => (r.claimed ? [r.run] : []));
        const losers = results.flatMap((r) => (r.claimed ? [] : [r.existing]));
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(2);
        for (const existing of losers) expect(existing).toEqual(winners[0]);
      });

      it("records an unclaimed run's end once (an idempotent task): the first record wins", async () => {
        const run = aRun({ status: 'succeeded', result: 'first', finishedAt: at(5_000), durationMs: 5 });

        const results = await Promise.all([
          store.recordRun(run),
          store.recordRun({ ...run, result: 'second', requestId: 'req-other' }),
        ]);

        const winners = results.flatMap((r) => (r.recorded ? [r.run] : []));
        const losers = results.flatMap((r) => (r.recorded ? [] : [r.existing]));
        expect(winners).toHaveLength(1);
        expect(losers).toEqual(winners);
        expect(await store.getRun(run.taskId, run.runId)).toEqual(winners[0]);
        // Listed across tasks under its end state, as a completed claim would be.
        const { items } = await store.listRunsAcross({ statuses: ['succeeded'], limit: 5 });
        expect(items.map((r) => r.runId)).toEqual([run.runId]);
        // A claim after it, or a record after a claim, finds the record there.
        expect(await store.claimRun(aClaim({ taskId: run.taskId, runId: run.runId }))).toMatchObject({
          claimed: false,
          existing: { status: 'succeeded' },
        });
        const claimed = aClaim();
        await store.claimRun(claimed);
        expect(
          await store.recordRun(aRun({ taskId: claimed.taskId, runId: claimed.runId, status: 'failed' })),
        ).toMatchObject({ recorded: false, existing: { status: 'running' } });
      });

      it('reads runs in a batch, keyed by run id, without the missing ones', async () => {
        const a = aClaim();
        const b = aClaim({ taskId: 'task-2' });
        await store.claimRun(a);
        await store.claimRun(b);
        const missing = Array.from({ length: 120 }, (_, i) => ({ taskId: 'task-1', runId: `missing-${i}` }));

        const { runs, usage } = await store.getRuns([
          { taskId: a.taskId, runId: a.runId },
          ...missing,
          { taskId: b.taskId, runId: b.runId },
          { taskId: a.taskId, runId: a.runId },
        ]);

        expect([...runs.keys()].sort()).toEqual([a.runId, b.runId].sort());
        expect(runs.get(b.runId)?.taskId).toBe('task-2');
        expect(usage).toEqual({ itemsRead: 2, writes: 0 });
        expect((await store.getRuns([])).runs.size).toBe(0);
      });
    });

    describe('heartbeat', () => {
      it('extends the lease and stores progress while held', async () => {
        const claim = aClaim();
        await store.claimRun(claim);
        const progress = { value: 1, updatedAt: at(5000) };

        const result = await store.heartbeat(claim.taskId, claim.runId, fence, {
          now: at(5000),
          leaseExpiresAt: at(600_000),
          progress,
        });

        expect(result).toEqual({ held: true, cancelRequested: false });
        const run = await store.getRun(claim.taskId, claim.runId);
        expect(run).toMatchObject({ heartbeatAt: at(5000), leaseExpiresAt: at(600_000), progress });
      });

      it('reports a cancel request', async () => {
        const claim = aClaim();
        await store.claimRun(claim);
        await store.requestCancel(aRun({ taskId: claim.taskId, runId: claim.runId }), at(1000));

        expect(
          await store.heartbeat(claim.taskId, claim.runId, fence, {
            now: at(2000),
            leaseExpiresAt: at(600_000),
          }),
        ).toEqual({ held: true, cancelRequested: true });
      });

      it('is refused with the wrong token or request id, after a time-out, and for an unknown run', async () => {
        const task = aTask();
        await store.createTask(task);
        const claim = aClaim({ taskId: task.id, leaseExpiresAt: at(300_000) });
        await store.claimRun(claim);
        const beat = (f: RunFence, runId = claim.runId) =>
          store.heartbeat(task.id, runId, f, { now: at(1000), leaseExpiresAt: at(600_000) });

        expect(await beat({ token: 2, requestId: 'req-1' })).toEqual({ held: false, status: 'running' });
        expect(await beat({ token: 1, requestId: 'req-2' })).toEqual({ held: false, status: 'running' });
        expect(await beat(fence, 'no-such-run')).toEqual({ held: false });

        const timedOut = aRun({ taskId: task.id, runId: claim.runId, status: 'timed-out' });
        await saveNext(store, task, {}, [{ kind: 'time-out', record: timedOut, now: at(300_000) }]);
        expect(await beat(fence)).toEqual({ held: false, status: 'timed-out' });
        expect((await store.getRun(task.id, claim.runId))?.leaseExpiresAt).toEqual(at(300_000));
      });
    });

    describe('completeRun', () => {
      it('records the end of a run it holds', async () => {
        const claim = aClaim();
        await store.claimRun(claim);
        const progress = { value: 10, max: 10, updatedAt: at(89_000) };

        const result = await store.completeRun(claim.taskId, claim.runId, fence, {
          ...succeeded,
          progress,
        });

        expect(result.completed).toBe(true);
        const stored = await store.getRun(claim.taskId, claim.runId);
        expect(stored).toMatchObject({
          status: 'succeeded',
          finishedAt: at(90_000),
          durationMs: 89_800,
          result: 'done',
          progress,
          startedAt: claim.startedAt,
        });
        expect(result.completed && result.run).toEqual(stored);
      });

      it('records a failure with its error and note', async () => {
        const claim = aClaim();
        await store.claimRun(claim);
        const outcome: RunOutcome = {
          status: 'failed',
          finishedAt: at(5000),
          durationMs: 4800,
          error: { name: 'TypeError', message: 'x is undefined', stack: 'at y' },
          note: 'attempt 1 of 1',
        };

        const result = await store.completeRun(claim.taskId, claim.runId, fence, outcome);

        expect(result.completed && result.run).toMatchObject({
          status: 'failed',
          error: outcome.error,
          note: 'attempt 1 of 1',
        });
      });

      it('refuses a writer with the wrong fence, after a time-out, and for an unknown run', async () => {
        const task = aTask();
        await store.createTask(task);
        const claim = aClaim({ taskId: task.id, leaseExpiresAt: at(300_000) });
        const { run } = (await store.claimRun(claim)) as { run: RunRecord };

        expect(
          await store.completeRun(task.id, claim.runId, { token: 2, requestId: 'req-1' }, succeeded),
        ).toEqual({
          completed: false,
          current: run,
        });
        expect(
          await store.completeRun(task.id, claim.runId, { token: 1, requestId: 'other' }, succeeded),
        ).toEqual({
          completed: false,
          current: run,
        });
        expect(await store.completeRun(task.id, 'no-such-run', fence, succeeded)).toEqual({
          completed: false,
        });

        const timedOut = aRun({
          taskId: task.id,
          runId: claim.runId,
          status: 'timed-out',
          finishedAt: at(300_000),
        });
        await saveNext(store, task, {}, [{ kind: 'time-out', record: timedOut, now: at(300_000) }]);
        const late = await store.completeRun(task.id, claim.runId, fence, succeeded);
        expect(late.completed).toBe(false);
        expect(!late.completed && late.current?.status).toBe('timed-out');
      });

      it('is idempotent for the same outcome, and refuses a different second outcome', async () => {
        const claim = aClaim();
        await store.claimRun(claim);
        const first = await store.completeRun(claim.taskId, claim.runId, fence, succeeded);

        const again = await store.completeRun(claim.taskId, claim.runId, fence, succeeded);
        const different = await store.completeRun(claim.taskId, claim.runId, fence, {
          ...succeeded,
          status: 'failed',
        });

        expect(again).toEqual(first);
        expect(different.completed).toBe(false);
      });
    });

    describe('requestCancel', () => {
      it('sets the flag of a running run', async () => {
        const claim = aClaim();
        await store.claimRun(claim);

        const result = await store.requestCancel(
          aRun({ taskId: claim.taskId, runId: claim.runId }),
          at(1000),
        );

        expect(result).toEqual({ requested: true, status: 'running' });
        expect((await store.getRun(claim.taskId, claim.runId))?.cancelRequested).toBe(true);
      });

      it('records a never-claimed run as cancelled, so a later claim fails', async () => {
        const record = aRun({
          status: 'dispatched',
          startedAt: undefined,
          finishedAt: undefined,
          durationMs: undefined,
        });

        const result = await store.requestCancel(record, at(1000));
        const claim = await store.claimRun(aClaim({ taskId: record.taskId, runId: record.runId }));

        expect(result).toEqual({ requested: true, status: 'cancelled' });
        const cancelled = { ...record, status: 'cancelled', finishedAt: at(1000) };
        expect(await store.getRun(record.taskId, record.runId)).toEqual(cancelled);
        expect(claim).toEqual({ claimed: false, existing: cancelled });
      });

      it('reports a run that already ended', async () => {
        const claim = aClaim();
        await store.claimRun(claim);
        await store.completeRun(claim.taskId, claim.runId, fence, succeeded);

        expect(
          await store.requestCancel(aRun({ taskId: claim.taskId, runId: claim.runId }), at(100_000)),
        ).toEqual({
          requested: false,
          status: 'succeeded',
        });
      });
    });

    describe('listRuns', () => {
      it('lists a task history newest first, in pages', async () => {
        const task = aTask();
        const other = aTask();
        await store.createTask(task);
        await store.createTask(other);
        const nextId = monotonicFactory();
        const runs = [0, 1, 2, 3, 4].map((i) =>
          aRun({ taskId: task.id, runId: nextId(T0.getTime() + i * 60_000), scheduledFor: at(i * 60_000) }),
        );
        await saveNext(
          store,
          task,
          {},
          runs.map((record): RunWrite => ({ kind: 'record', record })),
        );
        await saveNext(store, other, {}, [{ kind: 'record', record: aRun({ taskId: other.id }) }]);

        const first = await store.listRuns(task.id, { limit: 2 });
        const second = await store.listRuns(task.id, { limit: 2, nextToken: first.nextToken as string });
        const third = await store.listRuns(task.id, { limit: 2, nextToken: second.nextToken as string });

        expect(first.items).toEqual([runs[4], runs[3]]);
        expect(second.items).toEqual([runs[2], runs[1]]);
        expect(third).toEqual({ items: [runs[0]] });
        expect(await store.listRuns(task.id, { limit: 5 })).toEqual({ items: [...runs].reverse() });
        expect(await store.listRuns('no-such-task', { limit: 5 })).toEqual({ items: [] });
      });

      it('refuses a malformed nextToken, or one of another task, with a ValidationError', async () => {
        const otherTasksToken = Buffer.from(JSON.stringify({ pk: 'TASK#other', sk: 'RUN#1' })).toString(
          'base64url',
        );
        const extraFields = Buffer.from(JSON.stringify({ pk: 'TASK#t', sk: 'RUN#1', x: 1 })).toString(
          'base64url',
        );

        await expectValidationError(store.listRuns('t', { limit: 2, nextToken: '%%%' }), 'nextToken');
        await expectValidationError(store.listRuns('t', { limit: 2, nextToken: 'e30' }), 'nextToken');
        await expectValidationError(
          store.listRuns('t', { limit: 2, nextToken: otherTasksToken }),
          'nextToken',
        );
        await expectValidationError(store.listRuns('t', { limit: 2, nextToken: extraFields }), 'nextToken');
        await expectValidationError(store.listRuns('t', { limit: -1 }), 'limit');
      });
    });

    describe('scheduler state', () => {
      it('is running by default and merges updates', async () => {
        expect(await store.getSchedulerState()).toEqual({ paused: false });

        await store.updateSchedulerState({ paused: true });
        await store.updateSchedulerState({ lastTickAt: T0, lastTickDurationMs: 120, lastTickStarted: 3 });
        await store.updateSchedulerState({ lastTickStarted: 4, lastTickAt: undefined });

        expect(await store.getSchedulerState()).toEqual({
          paused: true,
          lastTickAt: T0,
          lastTickDurationMs: 120,
          lastTickStarted: 4,
        });
      });
    });

    describe('run-now idempotency keys', () => {
      const day = 24 * 3_600_000;
      it('ties a key to the first run, refuses a second until it expires, and unties on delete', async () => {
        const record = {
          taskId: 'idem-task',
          key: 'retry-1',
          runId: 'run-a',
          expiresAt: new Date(T0.getTime() + day),
        };
        expect(await store.putIdempotencyKey(record, T0)).toEqual({ created: true });
        expect(await store.putIdempotencyKey({ ...record, runId: 'run-b' }, T0)).toEqual({
          created: false,
          runId: 'run-a',
        });
        // Another key of the same task, or the same key of another task, is its own.
        expect(await store.putIdempotencyKey({ ...record, key: 'retry-2', runId: 'run-c' }, T0)).toEqual({
          created: true,
        });
        expect(await store.putIdempotencyKey({ ...record, taskId: 'other', runId: 'run-d' }, T0)).toEqual({
          created: true,
        });
        // Past its expiry the key is free again, even before the TTL deletes the item.
        const later = new Date(T0.getTime() + day + 1_000);
        expect(
          await store.putIdempotencyKey(
            { ...record, runId: 'run-e', expiresAt: new Date(later.getTime() + day) },
            later,
          ),
        ).toEqual({ created: true });
        await store.deleteIdempotencyKey('idem-task', 'retry-1');
        expect(await store.putIdempotencyKey({ ...record, runId: 'run-f' }, T0)).toEqual({ created: true });
        // Keys are not runs: the history does not list them.
        expect((await store.listRuns('idem-task', { limit: 10 })).items).toEqual([]);
      });
    });
  });
}
