/**
 * Dead-man alerts end to end through the real tick, on DynamoDB Local and in memory: a task that
 * promises `mustSucceedEvery` and keeps failing, cannot be invoked, or never fires is reported
 * overdue exactly once per episode (`Tickwork Task Overdue`), never again until a success, and
 * again when a new episode starts; a task that succeeds in time is never reported.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Notice, TaskOverdueNotice, TaskStore } from '../../src/core/ports.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { publishTickMetrics } from '../../src/tick/handler.js';
import { runTick, type TickDeps, type TickReport } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps, RecordingInvoker } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';

const minute = 60_000;
const t0 = new Date('2026-03-29T01:00:00Z');
const atMinute = (m: number) => new Date(t0.getTime() + m * minute);

type Outcome = 'succeeded' | 'failed' | 'unreachable' | 'hangs';

/** The handler stand-in: claims each run and ends it as `outcome(event)` says, or refuses the invoke. */
function handlers(store: TaskStore, outcome: (scheduledFor: Date) => Outcome): RecordingInvoker {
  return new RecordingInvoker(async (event) => {
    const result = outcome(new Date(event.scheduledFor));
    if (result === 'unreachable') {
      return { accepted: false, error: { name: 'ResourceNotFoundException', message: 'no such function' } };
    }
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
      expiresAt: new Date(t0.getTime() + 30 * 86_400_000),
    });
    if (result === 'hangs') return undefined;
    await store.completeRun(event.taskId, event.runId, fence, {
      status: result as 'succeeded' | 'failed',
      finishedAt: new Date(new Date(event.dispatchedAt).getTime() + 1_000),
      durationMs: 1_000,
      ...(result === 'failed' ? { error: { name: 'Error', message: 'export failed' } } : {}),
    });
    return undefined;
  });
}

function overdueOf(notices: Notice[], taskId: string): TaskOverdueNotice[] {
  return notices.filter((n): n is TaskOverdueNotice => n.status === 'overdue' && n.taskId === taskId);
}

function describeDeadMan(name: string, makeStore: () => Promise<TaskStore>) {
  describe(`dead-man alerts (${name})`, () => {
    let store: TaskStore;
    let now = t0;
    const notices: Notice[] = [];

    beforeAll(async () => {
      store = await makeStore();
      await store.putTaskType({ name: 'test.export', functionName: 'export' });
    });
    afterEach(() => {
      notices.length = 0;
    });

    async function depsWith(invoker: RecordingInvoker): Promise<TickDeps> {
      const deps = makeTestDeps({
        store,
        invoker,
        clock: { now: () => now },
        notifier: { notify: async (n: Notice[]) => void notices.push(...n) },
      });
      await deps.registry.refresh();
      return deps;
    }
    /** A tick a minute, from minute `from` through `to` after t0. */
    const tick = async (deps: TickDeps, from: number, to: number) => {
      const reports: TickReport[] = [];
      for (let m = from; m <= to; m++) {
        now = atMinute(m);
        reports.push(await runTick(deps, { now, recordTick: false }));
      }
      return reports;
    };

    it('a task whose every run fails is reported once per episode, and again after a success lapses', async () => {
      const id = `failing-${name}`;
      await store.createTask(
        aTask({
          id,
          type: 'test.export',
          schedule: '*/10 * * * *',
          nextSlotAt: t0,
          createdAt: t0,
          updatedAt: t0,
          mustSucceedEvery: '30m',
        }),
      );
      // Fails, except the run of 02:00, which succeeds; then it fails again.
      const deps = await depsWith(
        handlers(store, (slot) => (slot.getTime() === atMinute(60).getTime() ? 'succeeded' : 'failed')),
      );

      const reports = await tick(deps, 0, 95);

      const overdue = overdueOf(notices, id);
      expect(overdue.map((n) => n.detectedAt.toISOString())).toEqual([
        atMinute(30).toISOString(),
        atMinute(91).toISOString(), // the 02:00 run succeeded at 02:00:01: 30 minutes later
      ]);
      expect(overdue[0]).toMatchObject({
        status: 'overdue',
        taskName: 'Clean up files',
        type: 'test.export',
        mustSucceedEvery: '30m',
        overdueSince: atMinute(30),
        countedFrom: t0,
        lastStatus: 'failed',
        enabled: true,
      });
      expect(overdue[0]?.lastSucceededAt).toBeUndefined();
      expect(overdue[1]).toMatchObject({
        overdueSince: new Date(atMinute(60).getTime() + 1_000 + 30 * minute),
        lastSucceededAt: new Date(atMinute(60).getTime() + 1_000),
      });
      expect(reports.flatMap((r) => r.overdueTasks)).toEqual([id, id]);
      expect(reports.every((r) => r.errors.length === 0)).toBe(true);
      const stored = await store.getTask(id);
      expect(stored?.overdueReportedAt).toEqual(atMinute(91));
    }, 60_000);

    it('a task whose handler cannot be invoked is reported once', async () => {
      const id = `unreachable-${name}`;
      await store.createTask(
        aTask({
          id,
          type: 'test.export',
          schedule: '*/10 * * * *',
          nextSlotAt: t0,
          createdAt: t0,
          updatedAt: t0,
          mustSucceedEvery: '20m',
        }),
      );
      const deps = await depsWith(handlers(store, () => 'unreachable'));

      await tick(deps, 0, 45);

      expect(overdueOf(notices, id).map((n) => n.detectedAt)).toEqual([atMinute(20)]);
      expect(notices.filter((n) => n.status === 'failed' && n.taskId === id).length).toBeGreaterThan(0);
    }, 60_000);

    it('a task whose run hangs, its later slots skipped, is reported once', async () => {
      const id = `hanging-${name}`;
      await store.createTask(
        aTask({
          id,
          type: 'test.export',
          schedule: '*/10 * * * *',
          nextSlotAt: t0,
          createdAt: t0,
          updatedAt: t0,
          timeoutSeconds: 900,
          mustSucceedEvery: '30m',
        }),
      );
      const deps = await depsWith(handlers(store, () => 'hangs'));

      const reports = await tick(deps, 0, 45);

      expect(overdueOf(notices, id).map((n) => n.detectedAt)).toEqual([atMinute(30)]);
      expect(reports.reduce((n, r) => n + r.skipped, 0)).toBeGreaterThan(0);
    }, 60_000);

    it('a disabled task that never fires is read at its deadline, reported once, and then left out of the index', async () => {
      const id = `disabled-${name}`;
      await store.createTask(
        aTask({
          id,
          type: 'test.export',
          enabled: false,
          createdAt: t0,
          updatedAt: t0,
          mustSucceedEvery: '45m',
        }),
      );
      const deps = await depsWith(handlers(store, () => 'succeeded'));

      const before = await tick(deps, 44, 44);
      const at = await tick(deps, 45, 45);
      const after = await tick(deps, 46, 50);

      expect(before[0]?.overdueTasks).toEqual([]);
      expect(at[0]?.overdueTasks).toEqual([id]);
      expect(overdueOf(notices, id)).toHaveLength(1);
      expect(overdueOf(notices, id)[0]).toMatchObject({ enabled: false, overdueSince: atMinute(45) });
      // Reported: nothing keeps it due any more, so later ticks never read it.
      expect(after.every((r) => r.overdueTasks.length === 0)).toBe(true);
      const due = await Promise.all(
        Array.from({ length: store.shardCount }, (_, s) => store.queryDue(s, atMinute(24 * 60))),
      );
      expect(due.flatMap((d) => d.tasks).some((t) => t.id === id)).toBe(false);
    });

    it('a look-ahead tick reports a deadline inside its window at the deadline', async () => {
      const id = `ahead-${name}`;
      await store.createTask(
        aTask({
          id,
          type: 'test.export',
          enabled: false,
          createdAt: new Date(t0.getTime() + 30_000),
          updatedAt: t0,
          mustSucceedEvery: '10m',
        }),
      );
      const deps = await depsWith(handlers(store, () => 'succeeded'));
      now = atMinute(10);

      const report = await runTick(deps, {
        now,
        lookAheadMs: 60_000,
        sleepUntil: async () => {},
        recordTick: false,
      });
      const next = await runTick(deps, { now: atMinute(11), recordTick: false });

      expect(report.overdueTasks).toEqual([id]);
      expect(overdueOf(notices, id)[0]?.overdueSince).toEqual(new Date(atMinute(10).getTime() + 30_000));
      expect(next.overdueTasks).toEqual([]);
    });

    it('a task that succeeds in time is never reported', async () => {
      const id = `healthy-${name}`;
      await store.createTask(
        aTask({
          id,
          type: 'test.export',
          schedule: '*/10 * * * *',
          nextSlotAt: t0,
          createdAt: t0,
          updatedAt: t0,
          mustSucceedEvery: '15m',
        }),
      );
      const deps = await depsWith(handlers(store, () => 'succeeded'));

      const reports = await tick(deps, 0, 60);

      expect(overdueOf(notices, id)).toEqual([]);
      expect(reports.some((r) => r.started > 0)).toBe(true);
      expect((await store.getTask(id))?.lastSucceededAt).toEqual(new Date(atMinute(50).getTime() + 1_000));
    }, 60_000);
  });
}

describeDeadMan('DynamoDB Local', async () => (await createTestTable('dead-man')).store);
describeDeadMan('memory', async () => new MemoryTaskStore());

describe('the tick publishes OverdueTasks', () => {
  it('as a count every tick, zero included, so its alarm has data', async () => {
    const metrics = new Metrics({ namespace: 'Tickwork', serviceName: 'tickwork-tick' });
    const add = vi.spyOn(metrics, 'addMetric');
    vi.spyOn(metrics, 'publishStoredMetrics').mockImplementation(() => metrics);
    const report = await runTick(makeTestDeps({ store: new MemoryTaskStore() }), { recordTick: false });

    publishTickMetrics(metrics, { ...report, overdueTasks: ['a', 'b'] });
    publishTickMetrics(metrics, report);

    expect(add).toHaveBeenCalledWith('OverdueTasks', 'Count', 2);
    expect(add).toHaveBeenCalledWith('OverdueTasks', 'Count', 0);
  });
});
