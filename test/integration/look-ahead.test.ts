/**
 * Look-ahead dispatch, against DynamoDB Local and the in-memory store, on the real clock: a tick
 * takes the leases of what falls due in its window ahead of time and invokes each run on its
 * instant, highest priority first at the same instant; what changes between the lease and the
 * instant is obeyed; a tick that dies after taking leases ahead loses nothing.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import { MemorySchedulerControl } from '../../src/api/memory-scheduler-control.js';
import { createTask, patchTask } from '../../src/api/task-service.js';
import { type ActiveRun, RunStatus, type TaskState } from '../../src/core/model.js';
import { dispatchedRecord } from '../../src/core/plan.js';
import type { RunEvent, TaskStore } from '../../src/core/ports.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { createTaskHandler } from '../../src/task/index.js';
import { InvokePace } from '../../src/tick/agenda.js';
import { TaskTypeRegistry } from '../../src/tick/registry.js';
import { runTick, type TickOptions } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps, RecordingInvoker } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';
import { waitFor } from '../support/wait.js';

const clock = { now: () => new Date() };
const silent = new Logger({ serviceName: 'look-ahead-test', logLevel: 'SILENT' });

interface Sent {
  event: RunEvent;
  at: number;
}

async function setup(makeStore: () => Promise<TaskStore>, options: { handle?: boolean } = {}) {
  const store = await makeStore();
  await store.putTaskType({ name: 'ahead.job', functionName: 'in-process' });
  const sent: Sent[] = [];
  const bodies: string[] = [];
  const parameters = new Map<string, unknown>();
  const handler = createTaskHandler(
    {
      'ahead.job': async (ctx) => {
        bodies.push(ctx.runId);
        parameters.set(ctx.taskId, ctx.parameters);
      },
    },
    { store, clock, logger: silent, metrics: false },
  );
  const handled: Promise<unknown>[] = [];
  const invoker = new RecordingInvoker(async (event) => {
    sent.push({ event, at: Date.now() });
    if (options.handle) {
      handled.push(
        handler(JSON.parse(JSON.stringify(event)), {
          awsRequestId: randomUUID(),
          getRemainingTimeInMillis: () => 60_000,
        }),
      );
    }
    return undefined;
  });
  const registry = new TaskTypeRegistry(store, clock);
  await registry.refresh();
  const deps = makeTestDeps({ store, invoker, clock, registry });
  /** A task whose (only) slot is `at`: a yearly schedule with its cursor set there. */
  const taskDueAt = async (at: Date, overrides: Partial<TaskState> = {}) => {
    const now = new Date();
    const task = aTask({
      type: 'ahead.job',
      schedule: '0 0 1 1 *',
      nextSlotAt: at,
      createdAt: now,
      updatedAt: now,
      ...overrides,
    });
    expect((await store.createTask(task)).created).toBe(true);
    return task;
  };
  const tick = (options: TickOptions) => runTick(deps, { recordTick: false, ...options });
  const settled = () => Promise.all(handled);
  const api: ApiDeps = {
    ...deps,
    scheduler: new MemorySchedulerControl(),
    minIntervalMs: 1_000,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  return { store, sent, bodies, parameters, deps, api, taskDueAt, tick, settled };
}

const engines: [string, () => Promise<TaskStore>][] = [
  ['DynamoDB Local', async () => (await createTestTable('ahead')).store],
  ['the in-memory store', async () => new MemoryTaskStore()],
];

describe.each(engines)('look-ahead dispatch on %s', (_name, makeStore) => {
  it('takes the leases ahead and invokes each run on its instant, not before', async () => {
    const h = await setup(makeStore);
    const base = Date.now() + 3_000;
    const instants = Array.from({ length: 20 }, (_, i) => new Date(base + i * 75));
    const tasks = await Promise.all(instants.map((at) => h.taskDueAt(at)));
    let lastSave = 0;
    const saveTasks = h.store.saveTasks.bind(h.store);
    h.store.saveTasks = async (saves) => {
      const result = await saveTasks(saves);
      lastSave = Date.now();
      return result;
    };

    const report = await h.tick({ lookAheadMs: 5_000 });

    expect(report).toMatchObject({ due: 20, started: 20, leasedAhead: 20, failed: 0 });
    expect(lastSave, 'every lease was written before the first instant').toBeLessThan(base);
    for (const [i, task] of tasks.entries()) {
      const sent = h.sent.find((s) => s.event.taskId === task.id);
      const instant = instants[i]?.getTime() ?? 0;
      expect(sent, task.id).toBeDefined();
      expect(sent?.at).toBeGreaterThanOrEqual(instant);
      expect((sent?.at ?? 0) - instant, 'started within half a second of its instant').toBeLessThan(500);
      expect(new Date(sent?.event.dispatchedAt ?? 0).getTime()).toBe(instant);
    }
    expect(report.lateness).toHaveLength(20);
  }, 30_000);

  it('invokes higher priority first when runs share an instant and only one invoke goes at a time', async () => {
    const h = await setup(makeStore);
    const at = new Date(Date.now() + 1_500);
    const priorities = [3, 9, 0, 7, 5, 1, 8, 2, 6, 4];
    await Promise.all(priorities.map((priority) => h.taskDueAt(at, { priority })));

    await h.tick({ lookAheadMs: 3_000, concurrency: 1 });

    const order = await Promise.all(
      h.sent.map(async (s) => (await h.store.getTask(s.event.taskId))?.priority),
    );
    expect(order).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  }, 30_000);

  it('withdraws the runs whose scheduler was paused between their lease and their instant', async () => {
    const h = await setup(makeStore);
    const at = new Date(Date.now() + 2_000);
    const tasks = await Promise.all([1, 2, 3].map(() => h.taskDueAt(at)));

    const ticking = h.tick({ lookAheadMs: 3_000 });
    await waitFor(async () => (await h.store.getTask(tasks[2]?.id ?? ''))?.active.length === 1, 1_800, {
      what: 'the leases to be taken ahead',
    });
    await h.store.updateSchedulerState({ paused: true });
    const report = await ticking;

    expect(h.sent).toEqual([]);
    expect(report.withdrawn).toBe(3);
    for (const task of tasks) {
      const runId = (await h.store.getTask(task.id))?.active[0]?.runId ?? '';
      expect(await h.store.getRun(task.id, runId)).toMatchObject({
        status: 'cancelled',
        note: 'the scheduler was paused before its slot',
      });
    }
  }, 30_000);

  it('runs nothing for a run cancelled, or a task deleted, between the lease and the instant', async () => {
    const h = await setup(makeStore, { handle: true });
    const at = new Date(Date.now() + 2_000);
    const cancelled = await h.taskDueAt(at);
    const deleted = await h.taskDueAt(at);
    const kept = await h.taskDueAt(at);

    const ticking = h.tick({ lookAheadMs: 3_000 });
    await waitFor(async () => (await h.store.getTask(kept.id))?.active.length === 1, 1_800, {
      what: 'the leases to be taken ahead',
    });
    const leased = await h.store.getTask(cancelled.id);
    const run = leased?.active[0];
    if (!leased || !run) throw new Error('no lease taken ahead');
    await h.store.requestCancel(
      {
        taskId: leased.id,
        runId: run.runId,
        type: leased.type,
        status: 'cancelled',
        trigger: run.trigger,
        attempt: run.attempt,
        scheduledFor: run.scheduledFor,
        parameters: run.parameters,
        expiresAt: new Date(Date.now() + 86_400_000),
      },
      new Date(),
    );
    const gone = await h.store.getTask(deleted.id);
    await h.store.deleteTask(deleted.id, { expectedVersion: gone?.version ?? 0 });
    await ticking;
    await h.settled();

    expect(h.sent.map((s) => s.event.taskId).sort()).toEqual([cancelled.id, deleted.id, kept.id].sort());
    expect(h.bodies, 'only the untouched task ran').toHaveLength(1);
    const keptRun = (await h.store.getTask(kept.id))?.active[0]?.runId ?? '';
    expect(await h.store.getRun(kept.id, keptRun)).toMatchObject({ status: 'succeeded' });
  }, 30_000);

  it('obeys an edit between the lease and the instant: disabled or rescheduled runs nothing, new parameters are used', async () => {
    const h = await setup(makeStore, { handle: true });
    const at = new Date(Date.now() + 2_000);
    const disabled = await h.taskDueAt(at, { parameters: { v: 1 } });
    const rescheduled = await h.taskDueAt(at, { parameters: { v: 1 } });
    const reparametered = await h.taskDueAt(at, { parameters: { v: 1 } });

    const ticking = h.tick({ lookAheadMs: 3_000 });
    await waitFor(
      async () => {
        const tasks = await Promise.all(
          [disabled, rescheduled, reparametered].map((t) => h.store.getTask(t.id)),
        );
        return tasks.every((t) => t?.active.length === 1);
      },
      1_800,
      { what: 'the leases to be taken ahead' },
    );
    const leased = (await h.store.getTask(disabled.id))?.active[0]?.runId ?? '';
    const leasedToo = (await h.store.getTask(rescheduled.id))?.active[0]?.runId ?? '';
    await patchTask(h.api, disabled.id, { enabled: false });
    await patchTask(h.api, rescheduled.id, { schedule: '0 0 1 7 *' });
    await patchTask(h.api, reparametered.id, { parameters: { v: 2 } });
    await ticking;
    await h.settled();

    expect(await h.store.getRun(disabled.id, leased)).toMatchObject({
      status: 'cancelled',
      note: 'the task was disabled before its slot',
    });
    expect(await h.store.getRun(rescheduled.id, leasedToo)).toMatchObject({
      status: 'cancelled',
      note: 'the task was edited before its slot',
    });
    expect(h.parameters.has(disabled.id)).toBe(false);
    expect(h.parameters.has(rescheduled.id)).toBe(false);
    expect(h.parameters.get(reparametered.id), 'the run took the edited parameters').toEqual({ v: 2 });
  }, 30_000);

  it('loses nothing when a tick dies after taking leases ahead: a later tick delivers them, once', async () => {
    const h = await setup(makeStore, { handle: true });
    // An every-second task (runs may overlap), so later ticks read it and find the dead tick's lease.
    const first = new Date(Math.ceil((Date.now() + 1_000) / 1_000) * 1_000);
    const task = await h.taskDueAt(first, { schedule: '* * * * * *', overlap: 'allow' });

    // The dead tick: it takes the lease ahead, then never wakes up for the instant.
    void h.tick({ lookAheadMs: 2_500, sleepUntil: () => new Promise(() => {}) });
    await waitFor(async () => ((await h.store.getTask(task.id))?.active.length ?? 0) >= 1, 2_000, {
      what: 'the dead tick to take a lease ahead',
    });
    const orphan = (await h.store.getTask(task.id))?.active[0]?.runId ?? '';
    await new Promise((done) => setTimeout(done, first.getTime() + 1_200 - Date.now()));

    const report = await h.tick({ lookAheadMs: 1_500, redeliverAfterMs: 1_000 });
    await h.settled();

    expect(report.redelivered).toBe(1);
    expect(h.sent.filter((s) => s.event.runId === orphan)).toHaveLength(1);
    expect(h.bodies.filter((id) => id === orphan)).toHaveLength(1);
    expect(await h.store.getRun(task.id, orphan)).toMatchObject({ status: 'succeeded' });
    // Every run sent ran its body exactly once.
    expect(new Set(h.bodies).size).toBe(h.bodies.length);
  }, 30_000);
  it('starts a task created or rescheduled between ticks on its second: the API asks a tick to plan it', async () => {
    const h = await setup(makeStore, { handle: true });
    const planned: Promise<unknown>[] = [];
    const asked: (readonly string[] | undefined)[] = [];
    const api: ApiDeps = {
      ...h.api,
      tickPlanner: {
        plan: async (taskIds) => {
          asked.push(taskIds);
          planned.push(h.tick({ lookAheadMs: 3_000, ...(taskIds ? { taskIds } : {}) }));
        },
      },
    };
    const later = await h.taskDueAt(new Date(Date.now() + 86_400_000));
    const far = await createTask(api, { name: 'far', type: 'ahead.job', schedule: '0 0 1 1 *' });
    const createdAt = Date.now();
    const created = await createTask(api, {
      name: 'every second',
      type: 'ahead.job',
      schedule: '* * * * * *',
    });
    await patchTask(api, later.id, { schedule: '* * * * * *' });
    await Promise.all(planned);
    await h.settled();

    expect(asked, 'a task due in a year is left to its tick').toEqual([[created.id], [later.id]]);
    expect(h.sent.some((s) => s.event.taskId === far.id)).toBe(false);
    for (const id of [created.id, later.id]) {
      const sent = h.sent.filter((s) => s.event.taskId === id);
      const slots = sent.map((s) => Date.parse(s.event.scheduledFor));
      expect(slots.length, id).toBeGreaterThanOrEqual(2);
      expect(new Set(slots).size).toBe(slots.length);
      for (const [i, s] of sent.entries()) {
        const slot = slots[i] ?? 0;
        expect(slot % 1_000).toBe(0);
        expect(s.at).toBeGreaterThanOrEqual(slot);
        expect(s.at - slot, 'started within half a second of its slot').toBeLessThan(500);
      }
    }
    const firstSlot = Math.min(
      ...h.sent.filter((s) => s.event.taskId === created.id).map((s) => Date.parse(s.event.scheduledFor)),
    );
    expect(firstSlot, 'its first slot after creation ran').toBe(Math.ceil((createdAt + 1) / 1_000) * 1_000);
  }, 30_000);

  it('plans nothing on a request while the scheduler is paused', async () => {
    const h = await setup(makeStore);
    const task = await h.taskDueAt(new Date(Date.now() + 1_000), { schedule: '* * * * * *' });
    await h.store.updateSchedulerState({ paused: true });

    const report = await h.tick({ lookAheadMs: 2_000, taskIds: [task.id] });

    expect(report).toMatchObject({ due: 0, started: 0, leasedAhead: 0 });
    expect(h.sent).toEqual([]);
  }, 30_000);

  it('goes on planning a task after another writer changed it first: every slot of its window starts once', async () => {
    const h = await setup(makeStore);
    const first = new Date(Math.ceil((Date.now() + 1_000) / 1_000) * 1_000);
    const task = await h.taskDueAt(first, { schedule: '* * * * * *', overlap: 'allow' });
    // Another writer (the API, another tick) lands between this tick's read and its lease.
    const saveTasks = h.store.saveTasks.bind(h.store);
    let raced = false;
    h.store.saveTasks = async (saves) => {
      if (!raced) {
        raced = true;
        const current = (await h.store.getTask(task.id)) as TaskState;
        await h.store.saveTask(
          { ...current, description: 'edited meanwhile', version: current.version + 1 },
          { expectedVersion: current.version },
        );
      }
      return saveTasks(saves);
    };

    const report = await h.tick({ lookAheadMs: first.getTime() - Date.now() + 2_500 });

    expect(report.errors).toEqual([]);
    expect(report.contended).toBeGreaterThanOrEqual(1);
    const slots = h.sent.map((s) => Date.parse(s.event.scheduledFor)).sort((a, b) => a - b);
    expect(slots).toEqual([0, 1, 2].map((i) => first.getTime() + i * 1_000));
  }, 30_000);
  it('plans the tasks whose previous run may still be going together, just before their instant: one read, batched saves', async () => {
    const h = await setup(makeStore);
    const at = new Date(Date.now() + 2_500);
    const before = new Date();
    const tasks = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        const lease: ActiveRun = {
          runId: `01PREVIOUS${String(i).padStart(16, '0')}`,
          token: 1,
          scheduledFor: before,
          dispatchedAt: before,
          expiresAt: new Date(before.getTime() + 600_000),
          attempt: 1,
          trigger: 'schedule',
          parameters: {},
        };
        return h.taskDueAt(at, { schedule: '* * * * *', active: [lease], fence: 1 });
      }),
    );
    const calls = { getTask: 0, getTasks: [] as number[], saveTasks: [] as number[] };
    const { getTask, getTasks, saveTasks } = h.store;
    h.store.getTask = (id) => {
      calls.getTask++;
      return getTask.call(h.store, id);
    };
    h.store.getTasks = (ids) => {
      calls.getTasks.push(ids.length);
      return getTasks.call(h.store, ids);
    };
    h.store.saveTasks = (saves) => {
      calls.saveTasks.push(saves.length);
      return saveTasks.call(h.store, saves);
    };

    // The tick reads every task with its previous run not yet recorded, so it may still be
    // going at the instant: each is planned just before it. Those runs end right after the read.
    const { getRuns } = h.store;
    let ended = false;
    h.store.getRuns = async (keys) => {
      const read = await getRuns.call(h.store, keys);
      if (!ended) {
        ended = true;
        for (const task of tasks) {
          const lease = task.active[0] as ActiveRun;
          await h.store.recordRun({
            ...dispatchedRecord(task, lease),
            status: RunStatus.Succeeded,
            startedAt: before,
            finishedAt: new Date(),
          });
        }
      }
      return read;
    };
    const report = await h.tick({ lookAheadMs: 5_000 });

    expect(report).toMatchObject({ due: 30, started: 30, skipped: 0, failed: 0, errors: [] });
    expect(calls.getTask, 'no task read one at a time').toBe(0);
    expect(calls.getTasks).toEqual([30]);
    expect(calls.saveTasks.sort((a, b) => b - a)).toEqual([25, 5]);
    for (const sent of h.sent) expect(sent.at).toBeGreaterThanOrEqual(at.getTime());
    expect(new Set(h.sent.map((s) => s.event.taskId)).size).toBe(30);
  }, 30_000);
  it("leaves a run's next slot in the window's margin to the next tick", async () => {
    const h = await setup(makeStore);
    const first = new Date(Math.ceil((Date.now() + 1_000) / 1_000) * 1_000);
    await h.taskDueAt(first, { schedule: '* * * * * *', overlap: 'allow' });

    // Horizon 2.5 s after the first slot, its last second a margin: the slot at +2 s is not followed.
    await h.tick({ lookAheadMs: first.getTime() - Date.now() + 2_500, followMarginMs: 1_000 });

    const slots = h.sent.map((s) => Date.parse(s.event.scheduledFor)).sort((a, b) => a - b);
    expect(slots).toEqual([first.getTime(), first.getTime() + 1_000]);
  }, 30_000);
  it('follows a sub-minute task that was already due when the tick started into the rest of its window', async () => {
    const h = await setup(makeStore);
    const first = new Date(Math.floor(Date.now() / 1_000) * 1_000);
    await h.taskDueAt(first, { schedule: '* * * * * *', overlap: 'allow' });

    await h.tick({ lookAheadMs: 2_500 });

    const slots = h.sent.map((s) => Date.parse(s.event.scheduledFor)).sort((a, b) => a - b);
    expect(slots.length).toBeGreaterThanOrEqual(3);
    expect(slots).toEqual(slots.map((_, i) => first.getTime() + i * 1_000));
  }, 30_000);
  it('sends a burst too large for its tail ahead of its instant, and each handler holds its run until then', async () => {
    const h = await setup(makeStore, { handle: true });
    const burstAt = new Date(Date.now() + 6_000);
    const smallAt = new Date(burstAt.getTime() + 1_000);
    const burst = await Promise.all(Array.from({ length: 60 }, () => h.taskDueAt(burstAt)));
    const small = await Promise.all(Array.from({ length: 5 }, () => h.taskDueAt(smallAt)));
    // 20 ms an invoke: 60 runs take 1,200 ms to send, 950 ms more than the 250 ms tail.
    const report = await h.tick({ lookAheadMs: 8_000, sendAheadMs: 3_000, invokePace: new InvokePace(20) });
    await h.settled();

    expect(report).toMatchObject({ due: 65, started: 65, leasedAhead: 65, sentAhead: 60, failed: 0 });
    expect(
      Math.min(...report.lateness),
      'a held run is late from its instant, never early',
    ).toBeGreaterThanOrEqual(0);
    const sentAt = (ids: string[]) => h.sent.filter((s) => ids.includes(s.event.taskId)).map((s) => s.at);
    const burstSent = sentAt(burst.map((t) => t.id));
    expect(burstSent).toHaveLength(60);
    expect(Math.min(...burstSent), 'the burst starts sending about 950 ms ahead').toBeLessThan(
      burstAt.getTime() - 500,
    );
    expect(
      Math.min(...sentAt(small.map((t) => t.id))),
      'five runs fit the tail: sent on their instant',
    ).toBeGreaterThanOrEqual(smallAt.getTime());
    expect(h.bodies).toHaveLength(65);
    for (const task of [...burst, ...small]) {
      const runId = h.sent.find((s) => s.event.taskId === task.id)?.event.runId ?? '';
      const run = await h.store.getRun(task.id, runId);
      const instant = (burst.includes(task) ? burstAt : smallAt).getTime();
      expect(run?.status, task.id).toBe('succeeded');
      expect(run?.startedAt?.getTime(), 'no run starts before its instant').toBeGreaterThanOrEqual(instant);
      expect(
        (run?.startedAt?.getTime() ?? 0) - instant,
        'and each starts within a second of it',
      ).toBeLessThan(1_000);
    }
  }, 30_000);

  it('withdraws the runs of a burst sent ahead when the scheduler is paused before their instant', async () => {
    const h = await setup(makeStore, { handle: true });
    const at = new Date(Date.now() + 6_000);
    const tasks = await Promise.all(Array.from({ length: 60 }, () => h.taskDueAt(at)));

    const ticking = h.tick({ lookAheadMs: 8_000, sendAheadMs: 3_000, invokePace: new InvokePace(20) });
    await waitFor(() => h.sent.length > 0, 6_000, { what: 'the burst to be sent ahead' });
    expect(Date.now(), 'sent before the instant').toBeLessThan(at.getTime() - 300);
    await h.store.updateSchedulerState({ paused: true });
    const report = await ticking;
    await h.settled();

    expect(h.sent).toHaveLength(60);
    expect(report.withdrawn).toBe(60);
    expect(h.bodies, 'no held run starts once the scheduler is paused').toEqual([]);
    for (const task of tasks) {
      const runId = (await h.store.getTask(task.id))?.active[0]?.runId ?? '';
      expect(await h.store.getRun(task.id, runId)).toMatchObject({ status: 'cancelled' });
    }
  }, 30_000);
});
