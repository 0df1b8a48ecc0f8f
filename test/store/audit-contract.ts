/**
 * The audit trail's part of the TaskStore contract, run against both adapters: an entry is written
 * with the change it records or not at all, outlives its task, and lists newest first, all of it
 * or one task's, page by page.
 */
import { monotonicFactory } from 'ulid';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/core/audit.js';
import { ValidationError } from '../../src/core/errors.js';
import type { BackfillJob, TaskStore } from '../../src/core/ports.js';
import { aClaim, aRun, aTask, at, T0 } from '../support/builders.js';

const entryId = monotonicFactory();

/** An entry by `local`, kept 90 days (a whole second, as the TTL attribute keeps it). */
export function anEntry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id: entryId(T0.getTime()),
    at: T0,
    actor: { kind: 'jwt', id: 'sub-123', name: 'ada' },
    action: 'update',
    via: 'api',
    taskId: 'task-1',
    changes: [{ field: 'schedule', before: '* * * * *', after: '*/5 * * * *' }],
    expiresAt: at(90 * 86_400_000 + 1000),
    ...overrides,
  };
}

async function everything(store: TaskStore, taskId?: string, limit = 100): Promise<AuditEntry[]> {
  const all: AuditEntry[] = [];
  let nextToken: string | undefined;
  do {
    const page = await store.listAudit({
      limit,
      ...(taskId !== undefined ? { taskId } : {}),
      ...(nextToken !== undefined ? { nextToken } : {}),
    });
    all.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken !== undefined);
  return all;
}

export function describeAuditContract(name: string, makeStore: () => Promise<TaskStore>): void {
  describe(`TaskStore contract, audit trail: ${name}`, () => {
    let store: TaskStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('writes an entry with a created task, and none when the create loses', async () => {
      const task = aTask();
      const entry = anEntry({ action: 'create', taskId: task.id, changes: [] });

      expect(await store.createTask(task, { audit: entry })).toEqual({ created: true });
      expect(await store.createTask(task, { audit: anEntry({ taskId: task.id }) })).toEqual({
        created: false,
      });

      expect(await store.getTask(task.id)).toMatchObject({ id: task.id, version: 1 });
      expect(await everything(store)).toEqual([entry]);
      expect(await everything(store, task.id)).toEqual([entry]);
    });

    it('writes an entry with a saved task, and none when the save loses its version or a run write', async () => {
      const task = aTask();
      await store.createTask(task);
      const lost = await store.saveTask(
        { ...task, name: 'x', version: 3 },
        { expectedVersion: 2, audit: anEntry({ taskId: task.id }) },
      );
      const existing = aRun({ taskId: task.id });
      await store.saveTask(
        { ...task, version: 2 },
        { expectedVersion: 1, runWrites: [{ kind: 'record', record: existing }] },
      );
      const runLost = await store.saveTask(
        { ...task, version: 3 },
        {
          expectedVersion: 2,
          runWrites: [{ kind: 'record', record: existing }],
          audit: anEntry({ taskId: task.id }),
        },
      );
      const entry = anEntry({ taskId: task.id });
      const saved = await store.saveTask(
        { ...task, name: 'Renamed', version: 3 },
        { expectedVersion: 2, audit: entry },
      );

      expect(lost).toEqual({ saved: false, reason: 'version' });
      expect(runLost).toEqual({ saved: false, reason: 'run' });
      expect(saved.saved).toBe(true);
      expect(await everything(store, task.id)).toEqual([entry]);
    });

    it('keeps a task’s entries when the task and its history are deleted', async () => {
      const task = aTask();
      const created = anEntry({ action: 'create', taskId: task.id });
      await store.createTask(task, { audit: created });
      await store.saveTask(
        { ...task, version: 2 },
        {
          expectedVersion: 1,
          runWrites: [{ kind: 'record', record: aRun({ taskId: task.id }) }],
        },
      );

      const refused = await store.deleteTask(task.id, {
        expectedVersion: 1,
        audit: anEntry({ taskId: task.id }),
      });
      const deleted = anEntry({ action: 'delete', taskId: task.id });
      const done = await store.deleteTask(task.id, { expectedVersion: 2, audit: deleted });

      expect(refused).toEqual({ deleted: false });
      expect(done).toEqual({ deleted: true });
      expect(await store.getTask(task.id)).toBeUndefined();
      expect((await store.listRuns(task.id, { limit: 10 })).items).toEqual([]);
      expect(await everything(store, task.id)).toEqual([deleted, created]);
    });

    it('writes an entry with a cancel that takes, and none for a run that already ended', async () => {
      const claim = aClaim({ taskId: 'task-c' });
      await store.claimRun(claim);
      const flagged = anEntry({ action: 'cancel', taskId: 'task-c', runId: claim.runId, changes: [] });
      const never = aRun({ taskId: 'task-c', status: 'dispatched', finishedAt: undefined });
      const unclaimed = anEntry({ action: 'cancel', taskId: 'task-c', runId: never.runId, changes: [] });
      const ended = aClaim({ taskId: 'task-c' });
      await store.claimRun(ended);
      await store.completeRun(
        'task-c',
        ended.runId,
        { token: 1, requestId: 'req-1' },
        {
          status: 'succeeded',
          finishedAt: at(5000),
          durationMs: 4800,
        },
      );

      expect(
        await store.requestCancel(aRun({ taskId: 'task-c', runId: claim.runId }), at(1000), {
          audit: flagged,
        }),
      ).toEqual({
        requested: true,
        status: 'running',
      });
      expect(await store.requestCancel(never, at(1000), { audit: unclaimed })).toEqual({
        requested: true,
        status: 'cancelled',
      });
      expect(
        await store.requestCancel(aRun({ taskId: 'task-c', runId: ended.runId }), at(6000), {
          audit: anEntry({ action: 'cancel', taskId: 'task-c' }),
        }),
      ).toEqual({ requested: false, status: 'succeeded' });

      expect((await store.getRun('task-c', claim.runId))?.cancelRequested).toBe(true);
      expect(await everything(store, 'task-c')).toEqual([unclaimed, flagged]);
    });

    it('writes a pause with the scheduler state, outside every task’s trail', async () => {
      const { taskId: _, ...rest } = anEntry({ action: 'pause', changes: [] });
      const pause: AuditEntry = rest;

      await store.updateSchedulerState({ paused: true }, { audit: pause });

      expect(await store.getSchedulerState()).toEqual({ paused: true });
      expect(await everything(store)).toEqual([pause]);
      expect(await everything(store, 'task-1')).toEqual([]);
    });

    it('writes an entry with a new backfill job, and none when a job with its id exists', async () => {
      const job: BackfillJob = {
        taskId: 'task-bf',
        backfillId: 'bf-1',
        from: T0,
        to: at(3_600_000),
        concurrency: 2,
        nextSlotAt: T0,
        queued: 0,
        total: 60,
        createdAt: T0,
      };
      const entry = anEntry({ action: 'backfill', taskId: 'task-bf', changes: [] });

      await store.putBackfill(job, { audit: entry });
      await expect(
        store.putBackfill(
          { ...job, total: 1 },
          { audit: anEntry({ action: 'backfill', taskId: 'task-bf' }) },
        ),
      ).rejects.toThrow('exists');

      expect(await store.listBackfills()).toEqual([job]);
      expect(await everything(store, 'task-bf')).toEqual([entry]);
    });

    it('lists newest first, page by page, the whole trail or one task’s', async () => {
      const written: AuditEntry[] = [];
      for (const taskId of ['task-a', 'task-b', 'task-a', 'task-a', 'task-b', 'task-a', 'task-a']) {
        const task = aTask({ id: `${taskId}-${written.length}` });
        const entry = anEntry({ taskId, action: 'create' });
        await store.createTask(task, { audit: entry });
        written.push(entry);
      }
      const newestFirst = [...written].reverse();

      const first = await store.listAudit({ limit: 3 });
      expect(first.items).toEqual(newestFirst.slice(0, 3));
      expect(first.nextToken).toBeDefined();
      expect(await everything(store, undefined, 3)).toEqual(newestFirst);
      expect(await everything(store, 'task-a', 2)).toEqual(newestFirst.filter((e) => e.taskId === 'task-a'));
      expect(await everything(store, 'task-b', 1)).toEqual(newestFirst.filter((e) => e.taskId === 'task-b'));
      const lastPage = await store.listAudit({ taskId: 'task-b', limit: 2 });
      expect(lastPage.nextToken).toBeUndefined();
    });

    it('refuses a token of another list, or one it never returned', async () => {
      for (const taskId of ['task-a', 'task-a', 'task-b']) {
        await store.createTask(aTask(), { audit: anEntry({ taskId }) });
      }
      const token = (await store.listAudit({ taskId: 'task-a', limit: 1 })).nextToken as string;

      for (const bad of [
        store.listAudit({ taskId: 'task-b', limit: 1, nextToken: token }),
        store.listAudit({ limit: 1, nextToken: 'garbage' }),
        store.listAudit({
          limit: 1,
          nextToken: Buffer.from('{"pk":"TASK#x","sk":"TASK"}').toString('base64url'),
        }),
      ]) {
        await expect(bad).rejects.toBeInstanceOf(ValidationError);
      }
      // A task's token continues the whole trail too: both are entry keys.
      expect((await store.listAudit({ limit: 5, nextToken: token })).items.length).toBeGreaterThan(0);
    });
  });
}
