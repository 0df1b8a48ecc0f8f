import { describe, expect, it } from 'vitest';
import { dueAtOf, jitterMs, shardOf } from '../../src/core/due.js';
import type { ActiveRun, RunRecord, TaskState } from '../../src/core/model.js';
import { type PlanInput, planTask, retryDelayMs, settleAfterCompletion } from '../../src/core/plan.js';
import { parseSchedule } from '../../src/core/schedule.js';
import { aRun, aTask } from '../support/builders.js';

/** An instant written out (the builders' `at` is an offset from `T0`). */
const instant = (iso: string) => new Date(iso);
const now = instant('2026-03-29T01:00:00Z');
const later = instant('2026-03-29T01:01:00Z');

function input(task: TaskState, overrides: Partial<PlanInput> = {}): PlanInput {
  let n = 0;
  return {
    now,
    schedule: parseSchedule(task.schedule, { timezone: task.timezone }),
    runs: new Map(),
    newRunId: () => `run-${String(++n).padStart(3, '0')}`,
    ...overrides,
  };
}

function anActive(overrides: Partial<ActiveRun> = {}): ActiveRun {
  return {
    runId: 'old-run',
    token: 1,
    scheduledFor: instant('2026-03-29T00:59:00Z'),
    dispatchedAt: instant('2026-03-29T00:59:00Z'),
    expiresAt: instant('2026-03-29T01:05:00Z'),
    attempt: 1,
    trigger: 'schedule',
    parameters: {},
    ...overrides,
  };
}

function recordOf(active: ActiveRun, overrides: Partial<RunRecord>): RunRecord {
  return aRun({ runId: active.runId, attempt: active.attempt, token: active.token, ...overrides });
}

const busy = (overlap: TaskState['overlap']) =>
  aTask({ overlap, nextSlotAt: now, active: [anActive()], fence: 1 });
const running = (a: ActiveRun = anActive()) =>
  new Map([[a.runId, recordOf(a, { status: 'running', leaseExpiresAt: instant('2026-03-29T01:02:00Z') })]]);

describe('planTask: scheduled slots', () => {
  it('starts an on-time slot with a fresh lease and advances the cursor', () => {
    const task = aTask({ nextSlotAt: now, timeoutSeconds: 300 });

    const plan = planTask(task, input(task));

    expect(plan.changed).toBe(true);
    expect(plan.starts).toHaveLength(1);
    expect(plan.starts[0]).toMatchObject({
      trigger: 'schedule',
      token: 1,
      scheduledFor: now,
      expiresAt: instant('2026-03-29T01:06:00Z'),
    });
    expect(plan.task).toMatchObject({ version: task.version + 1, fence: 1, scheduledStarts: 1 });
    expect(plan.task.nextSlotAt).toEqual(instant('2026-03-29T01:01:00Z'));
    expect(dueAtOf(plan.task)).toEqual(instant('2026-03-29T01:01:00Z'));
  });

  it('leaves a task alone before its slot is due', () => {
    const task = aTask({ nextSlotAt: instant('2026-03-29T01:01:00Z') });

    const plan = planTask(task, input(task));

    expect(plan.changed).toBe(false);
    expect(plan.task.version).toBe(task.version);
  });

  it('waits for the jittered instant of a slot', () => {
    const task = aTask({ id: 'jittery', nextSlotAt: now, jitterSeconds: 30 });
    const jitter = jitterMs('jittery', 30);
    expect(jitter).toBeGreaterThan(0);
    expect(jitter).toBeLessThan(30_000);

    expect(planTask(task, input(task)).starts).toHaveLength(0);
    expect(planTask(task, input(task, { now: new Date(now.getTime() + jitter) })).starts).toHaveLength(1);
  });

  it('stops scheduling after maxRuns scheduled starts', () => {
    const task = aTask({ nextSlotAt: now, maxRuns: 2, scheduledStarts: 1 });

    const plan = planTask(task, input(task));

    expect(plan.starts).toHaveLength(1);
    expect(plan.task.nextSlotAt).toBeUndefined();
  });

  it('does not schedule a disabled task but still starts its run-now request', () => {
    const task = aTask({
      enabled: false,
      nextSlotAt: now,
      pending: [
        {
          runId: 'manual-1',
          trigger: 'manual',
          scheduledFor: now,
          notBefore: now,
          attempt: 1,
          parameters: { a: 1 },
        },
      ],
    });

    const plan = planTask(task, input(task));

    expect(plan.starts.map((s) => [s.runId, s.trigger, s.parameters])).toEqual([
      ['manual-1', 'manual', { a: 1 }],
    ]);
    expect(plan.task.pending).toEqual([]);
    expect(plan.task.scheduledStarts).toBe(0);
  });
});

describe('planTask: overlap policies', () => {
  it('skip: records a skipped run and advances', () => {
    const task = busy('skip');

    const plan = planTask(task, input(task, { runs: running() }));

    expect(plan.starts).toEqual([]);
    expect(plan.runWrites).toHaveLength(1);
    expect(plan.runWrites[0]).toMatchObject({
      kind: 'record',
      record: { status: 'skipped', scheduledFor: now },
    });
    expect(plan.counts.skipped).toBe(1);
    expect(plan.task.nextSlotAt).toEqual(instant('2026-03-29T01:01:00Z'));
  });

  it('queue-one: queues the first slot and skips the next while one is queued', () => {
    const task = busy('queue-one');

    const first = planTask(task, input(task, { runs: running() }));
    expect(first.starts).toEqual([]);
    expect(first.task.pending).toHaveLength(1);
    expect(first.runWrites).toEqual([]);

    const later = instant('2026-03-29T01:01:00Z');
    const second = planTask(first.task, input(first.task, { now: later, runs: running() }));
    expect(second.task.pending).toHaveLength(1);
    expect(second.runWrites[0]).toMatchObject({ record: { status: 'skipped' } });
  });

  it('queue-one: the queued run starts once the running one is folded', () => {
    const task = busy('queue-one');
    const queued = planTask(task, input(task, { runs: running() })).task;
    const done = new Map([
      [anActive().runId, recordOf(anActive(), { status: 'succeeded', finishedAt: now })],
    ]);

    const plan = planTask(queued, input(queued, { runs: done }));

    expect(plan.starts).toHaveLength(1);
    expect(plan.task.pending).toEqual([]);
    expect(plan.task.active.map((a) => a.runId)).toEqual([plan.starts[0]?.runId]);
  });

  it('allow: starts alongside the running one', () => {
    const task = busy('allow');

    const plan = planTask(task, input(task, { runs: running() }));

    expect(plan.starts).toHaveLength(1);
    expect(plan.task.active).toHaveLength(2);
    expect(plan.starts[0]?.token).toBe(2);
  });

  it('replace: asks the running one to cancel and starts the new one', () => {
    const task = busy('replace');

    const plan = planTask(task, input(task, { runs: running() }));

    expect(plan.cancels.map((c) => c.runId)).toEqual(['old-run']);
    expect(plan.starts).toHaveLength(1);
  });
});

describe('planTask: catch-up', () => {
  const behind = (overrides: Partial<TaskState>) =>
    aTask({ nextSlotAt: instant('2026-03-29T00:50:00Z'), ...overrides });

  it('run-once: one catch-up run stands for every missed slot', () => {
    const task = behind({ catchUp: 'run-once' });

    const plan = planTask(task, input(task));

    expect(plan.starts).toHaveLength(1);
    expect(plan.starts[0]).toMatchObject({ trigger: 'catch-up', scheduledFor: now });
    expect(plan.task.nextSlotAt).toEqual(instant('2026-03-29T01:01:00Z'));
  });

  it('run-once: the catch-up run names the slots it stands for, first, last and count', () => {
    const task = behind({ catchUp: 'run-once' });

    const plan = planTask(task, input(task));

    expect(plan.starts).toEqual([
      expect.objectContaining({
        trigger: 'catch-up',
        scheduledFor: now,
        firstSlotAt: instant('2026-03-29T00:50:00Z'),
        lastSlotAt: now,
        slotCount: 11,
      }),
    ]);
    expect(plan.runWrites).toEqual([]);
  });

  it('run-once behind a running run (overlap skip): one skipped record spans the slots', () => {
    const task = behind({ catchUp: 'run-once', active: [anActive()], fence: 1 });

    const plan = planTask(task, input(task, { runs: running() }));

    expect(plan.starts).toEqual([]);
    expect(plan.runWrites[0]?.record).toMatchObject({
      status: 'skipped',
      scheduledFor: instant('2026-03-29T00:50:00Z'),
      firstSlotAt: instant('2026-03-29T00:50:00Z'),
      lastSlotAt: now,
      slotCount: 11,
    });
    expect(plan.counts.skipped).toBe(11);
  });

  it('run-once behind a running run (queue-one): the queued run keeps its span', () => {
    const task = behind({ catchUp: 'run-once', overlap: 'queue-one', active: [anActive()], fence: 1 });

    const plan = planTask(task, input(task, { runs: running() }));

    expect(plan.task.pending).toEqual([
      expect.objectContaining({
        scheduledFor: now,
        firstSlotAt: instant('2026-03-29T00:50:00Z'),
        slotCount: 11,
      }),
    ]);
  });

  it('skip: records the old slots as skipped and runs the on-time one', () => {
    const task = behind({ catchUp: 'skip' });

    const plan = planTask(task, input(task));

    expect(plan.starts.map((s) => s.trigger)).toEqual(['schedule']);
    expect(plan.runWrites[0]).toMatchObject({ record: { status: 'skipped', slotCount: 10 } });
    expect(plan.counts.skipped).toBe(10);
  });

  it('run-all: runs up to the cap one after another and records the rest as skipped', () => {
    const task = behind({ catchUp: 'run-all', catchUpMaxRuns: 3 });

    const plan = planTask(task, input(task));

    expect(plan.starts).toHaveLength(1);
    expect(plan.task.pending.map((p) => p.scheduledFor)).toEqual([
      instant('2026-03-29T00:59:00Z'),
      instant('2026-03-29T01:00:00Z'),
    ]);
    expect(plan.runWrites[0]).toMatchObject({ record: { status: 'skipped', slotCount: 8 } });
  });

  it('records slots older than the catch-up window as missed, never drops them', () => {
    const task = behind({ catchUpWindowSeconds: 300 });

    const plan = planTask(task, input(task));

    expect(plan.runWrites[0]).toMatchObject({
      record: { status: 'missed', slotCount: 5, scheduledFor: instant('2026-03-29T00:50:00Z') },
    });
    expect(plan.counts.missed).toBe(5);
    expect(plan.starts).toHaveLength(1);
  });

  it('jumps over a very long outage without walking every slot', () => {
    const task = aTask({ nextSlotAt: instant('2025-03-29T01:00:00Z'), catchUpWindowSeconds: 600 });

    const plan = planTask(task, input(task, { settings: { maxSlotsPerPlan: 100 } }));

    expect(plan.runWrites[0]).toMatchObject({ record: { status: 'missed' } });
    expect(plan.starts).toHaveLength(1);
    expect(plan.task.nextSlotAt).toEqual(instant('2026-03-29T01:01:00Z'));
  });
});

describe('planTask: leases, folds and retries', () => {
  it('times out a run whose lease ended before any claim, and retries it per policy', () => {
    const active = anActive({ expiresAt: instant('2026-03-29T00:59:30Z') });
    const task = aTask({
      nextSlotAt: later,
      active: [active],
      fence: 1,
      retry: { maxAttempts: 2, backoffSeconds: 10, maxBackoffSeconds: 60 },
    });

    const plan = planTask(task, input(task));

    expect(plan.runWrites[0]).toMatchObject({
      kind: 'time-out',
      record: { runId: 'old-run', status: 'timed-out' },
    });
    expect(plan.task.active).toEqual([]);
    expect(plan.task.summary).toMatchObject({ lastStatus: 'timed-out', runCount: 1 });
    expect(plan.task.pending[0]).toMatchObject({
      trigger: 'retry',
      attempt: 2,
      notBefore: instant('2026-03-29T01:00:10Z'),
    });
    expect(plan.counts.timedOut).toBe(1);
  });

  it('follows a run lease a heartbeat extended instead of timing it out', () => {
    const active = anActive({ expiresAt: instant('2026-03-29T00:59:30Z') });
    const task = aTask({ nextSlotAt: later, active: [active], fence: 1 });
    const runs = new Map([
      [
        active.runId,
        recordOf(active, { status: 'running', leaseExpiresAt: instant('2026-03-29T01:03:00Z') }),
      ],
    ]);

    const plan = planTask(task, input(task, { runs }));

    expect(plan.runWrites).toEqual([]);
    expect(plan.task.active[0]?.expiresAt).toEqual(instant('2026-03-29T01:03:00Z'));
  });

  it('times out a running run whose own lease ended too', () => {
    const active = anActive({ expiresAt: instant('2026-03-29T00:59:30Z') });
    const task = aTask({ nextSlotAt: later, active: [active], fence: 1 });
    const runs = new Map([
      [
        active.runId,
        recordOf(active, { status: 'running', leaseExpiresAt: instant('2026-03-29T00:59:40Z') }),
      ],
    ]);

    const plan = planTask(task, input(task, { runs }));

    expect(plan.runWrites[0]).toMatchObject({ kind: 'time-out' });
  });

  it('folds a finished run into the summary', () => {
    const active = anActive();
    const task = aTask({ nextSlotAt: later, active: [active], fence: 1, summary: { runCount: 4 } });
    const runs = new Map([
      [
        active.runId,
        recordOf(active, {
          status: 'succeeded',
          startedAt: instant('2026-03-29T00:59:01Z'),
          finishedAt: instant('2026-03-29T00:59:03Z'),
          durationMs: 2000,
          result: 'cleaned 3 files',
        }),
      ],
    ]);

    const plan = planTask(task, input(task, { runs }));

    expect(plan.task.active).toEqual([]);
    expect(plan.task.summary).toEqual({
      lastRunAt: instant('2026-03-29T00:59:01Z'),
      lastStatus: 'succeeded',
      lastResult: 'cleaned 3 files',
      lastDurationMs: 2000,
      runCount: 5,
    });
  });

  it('disables the task after the final failed attempt with stopOnError, with a note', () => {
    const active = anActive({ attempt: 3 });
    const task = aTask({
      active: [active],
      stopOnError: true,
      retry: { maxAttempts: 3, backoffSeconds: 1, maxBackoffSeconds: 10 },
    });
    const runs = new Map([
      [
        active.runId,
        recordOf(active, {
          status: 'failed',
          finishedAt: now,
          error: { name: 'Error', message: 'disk full' },
        }),
      ],
    ]);

    const plan = planTask(task, input(task, { runs }));

    expect(plan.task.enabled).toBe(false);
    expect(plan.task.disabledReason).toContain('disk full');
    expect(plan.task.disabledReason).toContain('attempt 3 of 3');
    expect(dueAtOf(plan.task)).toBeUndefined();
  });

  it('records the queued slots that stopOnError drops as skipped; manual requests stay', () => {
    const active = anActive();
    const queued = {
      trigger: 'catch-up' as const,
      scheduledFor: now,
      notBefore: now,
      attempt: 1,
      parameters: {},
    };
    const task = aTask({
      nextSlotAt: later,
      active: [active],
      stopOnError: true,
      pending: [
        {
          ...queued,
          runId: 'q-span',
          firstSlotAt: instant('2026-03-29T00:58:00Z'),
          lastSlotAt: now,
          slotCount: 3,
        },
        { ...queued, runId: 'q-manual', trigger: 'manual' },
      ],
    });
    const runs = new Map([[active.runId, recordOf(active, { status: 'failed', finishedAt: now })]]);

    const plan = planTask(task, input(task, { runs }));

    expect(plan.task.enabled).toBe(false);
    // The manual request stays owed, and starts now that nothing runs.
    expect(plan.starts.map((p) => p.runId)).toEqual(['q-manual']);
    expect(plan.runWrites.map((w) => w.record)).toEqual([
      expect.objectContaining({
        status: 'skipped',
        scheduledFor: instant('2026-03-29T00:58:00Z'),
        slotCount: 3,
        note: expect.stringContaining('stopOnError'),
      }),
    ]);
  });

  it('never retries or disables after a cancel', () => {
    const active = anActive();
    const task = aTask({
      nextSlotAt: later,
      active: [active],
      stopOnError: true,
      retry: { maxAttempts: 3, backoffSeconds: 1, maxBackoffSeconds: 10 },
    });
    const runs = new Map([[active.runId, recordOf(active, { status: 'cancelled', finishedAt: now })]]);

    const plan = planTask(task, input(task, { runs }));

    expect(plan.task.enabled).toBe(true);
    expect(plan.task.pending).toEqual([]);
  });

  it('grows retry delays exponentially up to the cap', () => {
    const task = aTask({ retry: { maxAttempts: 9, backoffSeconds: 10, maxBackoffSeconds: 60 } });
    expect([1, 2, 3, 4, 5].map((a) => retryDelayMs(task, a))).toEqual([
      10_000, 20_000, 40_000, 60_000, 60_000,
    ]);
  });
});

describe('due index math', () => {
  it('takes a disabled idle task out of the index', () => {
    expect(dueAtOf(aTask({ enabled: false, nextSlotAt: now }))).toBeUndefined();
  });

  it('is due at the earliest of slot, startable pending run and lease end', () => {
    const pending = {
      runId: 'p',
      trigger: 'manual' as const,
      scheduledFor: now,
      notBefore: instant('2026-03-29T00:30:00Z'),
      attempt: 1,
      parameters: {},
    };
    expect(dueAtOf(aTask({ nextSlotAt: now, pending: [pending] }))).toEqual(instant('2026-03-29T00:30:00Z'));
    // A pending run blocked by a running one keeps the task due: each tick looks again.
    const blocked = aTask({
      nextSlotAt: instant('2026-03-29T02:00:00Z'),
      pending: [pending],
      active: [anActive()],
    });
    expect(dueAtOf(blocked)).toEqual(instant('2026-03-29T00:30:00Z'));
  });

  it('spreads shards and keeps them stable', () => {
    const counts = new Map<number, number>();
    for (let i = 0; i < 4000; i++)
      counts.set(shardOf(`task-${i}`, 4), (counts.get(shardOf(`task-${i}`, 4)) ?? 0) + 1);
    expect(counts.size).toBe(4);
    for (const c of counts.values()) expect(c).toBeGreaterThan(800);
    expect(shardOf('abc', 4)).toBe(shardOf('abc', 4));
  });
});

describe('settleAfterCompletion', () => {
  it('does not write the task after a plain success: the next dispatch folds it', () => {
    const active = anActive();
    const task = aTask({ active: [active], nextSlotAt: later });
    const record = recordOf(active, { status: 'succeeded', finishedAt: now });

    const { write } = settleAfterCompletion(task, record, {
      now,
      schedule: parseSchedule(task.schedule),
      newRunId: () => 'r',
    });

    expect(write).toBe(false);
  });

  it('writes the task when a failure schedules a retry', () => {
    const active = anActive();
    const task = aTask({
      nextSlotAt: later,
      active: [active],
      retry: { maxAttempts: 2, backoffSeconds: 5, maxBackoffSeconds: 5 },
    });
    const record = recordOf(active, {
      status: 'failed',
      finishedAt: now,
      error: { name: 'Error', message: 'x' },
    });

    const { write, plan } = settleAfterCompletion(task, record, {
      now,
      schedule: parseSchedule(task.schedule),
      newRunId: () => 'r',
    });

    expect(write).toBe(true);
    expect(dueAtOf(plan.task)).toEqual(instant('2026-03-29T01:00:05Z'));
  });
});
