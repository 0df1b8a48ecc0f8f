/**
 * Every slot accounted for: over a simulated day of ticks with an outage inside the catch-up
 * window and one beyond it, every slot each task's schedule produced ends in exactly one record:
 * a run, a `skipped` or `missed` record, or a place in the span of a `run-once` catch-up run.
 * For every catch-up policy × overlap policy, on DynamoDB Local and in memory.
 *
 * Runs take 150 s (two and a half slots of an every-minute task), so the overlap policies all
 * come into play; a handler stand-in claims each run at its dispatch (copying the event's slot
 * span, as the task SDK does), completes it when its time is up (`cancelled` when a `replace`
 * asked it to stop) and settles the task, as the task SDK does.
 */
import { describe, expect, it } from 'vitest';
import {
  CatchUpPolicy,
  OverlapPolicy,
  type RunRecord,
  type TaskState,
  Trigger,
} from '../../src/core/model.js';
import type { RunEvent, TaskStore } from '../../src/core/ports.js';
import { slotSpanOfEvent } from '../../src/core/run-event.js';
import { nextSlot } from '../../src/core/schedule.js';
import { scheduleFor } from '../../src/core/schedule-cache.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { runTick } from '../../src/tick/run-tick.js';
import { settleTask } from '../../src/tick/settle.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps, RecordingInvoker } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';

const minute = 60_000;
const t0 = new Date('2026-03-29T01:00:00Z');
const runMs = 150_000;
const endMinute = 50;

/**
 * Tick instants, in minutes after `t0` (each 5 s past the minute): on time for 6 minutes, an
 * outage of 4 minutes (inside the 10-minute window), on time again, an outage of 20 minutes
 * (beyond the window) ended by a late tick (100 s past its minute, so the latest slot is not on
 * time either), then on time to the end of the schedule and on until every run has finished.
 */
function tickMinutes(): number[] {
  const on = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
  return [...on(0, 5), ...on(10, 15), 36 + 95 / 60, ...on(37, endMinute + 8)];
}

/** A handler stand-in on simulated time: claims at dispatch, completes `runMs` later. */
class SimulatedWorker {
  private readonly running: { event: RunEvent; endsAt: number }[] = [];
  readonly invoker: RecordingInvoker;

  constructor(
    private readonly store: TaskStore,
    private readonly now: () => Date,
  ) {
    this.invoker = new RecordingInvoker(async (event) => {
      const startedAt = this.now();
      const claim = await this.store.claimRun({
        taskId: event.taskId,
        runId: event.runId,
        type: event.type,
        token: event.token,
        requestId: `req-${event.runId}`,
        trigger: event.trigger,
        attempt: event.attempt,
        scheduledFor: new Date(event.scheduledFor),
        dispatchedAt: new Date(event.dispatchedAt),
        startedAt,
        leaseExpiresAt: new Date(startedAt.getTime() + runMs + minute),
        parameters: event.parameters,
        ...slotSpanOfEvent(event),
        expiresAt: new Date(t0.getTime() + 30 * 86_400_000),
      });
      if (claim.claimed) this.running.push({ event, endsAt: startedAt.getTime() + runMs });
      return undefined;
    });
  }

  /** Completes (and settles) every run whose time is up, or that was asked to stop. */
  async finishDue(): Promise<void> {
    const now = this.now();
    for (const entry of [...this.running]) {
      const { event } = entry;
      const record = await this.store.getRun(event.taskId, event.runId);
      const stop = record?.cancelRequested === true;
      if (!stop && entry.endsAt > now.getTime()) continue;
      this.running.splice(this.running.indexOf(entry), 1);
      const done = await this.store.completeRun(
        event.taskId,
        event.runId,
        { token: event.token, requestId: `req-${event.runId}` },
        stop
          ? { status: 'cancelled', finishedAt: now, durationMs: 0, cancelReason: 'cancelled' }
          : { status: 'succeeded', finishedAt: now, durationMs: runMs },
      );
      if (done.completed)
        await settleTask(this.store, done.run, { clock: { now: () => now }, newRunId: () => ulidLike() });
    }
  }

  get idle(): boolean {
    return this.running.length === 0;
  }
}

let counter = 0;
/** Run ids for settling: sortable, unique, ULID-shaped. */
function ulidLike(): string {
  counter++;
  return `01KZZZZZZZ${String(counter).padStart(16, '0')}`;
}

const policies = Object.values(CatchUpPolicy).flatMap((catchUp) =>
  Object.values(OverlapPolicy).map((overlap) => ({ catchUp, overlap })),
);

function taskOf(catchUp: CatchUpPolicy, overlap: OverlapPolicy): TaskState {
  return aTask({
    id: `acct-${catchUp}-${overlap}`,
    type: 'test.noop',
    schedule: '* * * * *',
    catchUp,
    overlap,
    catchUpWindowSeconds: 600,
    catchUpMaxRuns: 3,
    nextSlotAt: t0,
    endAt: new Date(t0.getTime() + endMinute * minute),
    createdAt: t0,
    updatedAt: t0,
  });
}

async function allRecords(store: TaskStore, taskId: string): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = await store.listRuns(taskId, { limit: 100, ...(nextToken ? { nextToken } : {}) });
    records.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return records;
}

/** The slots of `task`'s schedule from `first` through `last`, both included. */
function slotsBetween(task: TaskState, first: Date, last: Date): number[] {
  const schedule = scheduleFor(task);
  const out: number[] = [];
  for (let s: Date | undefined = first; s && s.getTime() <= last.getTime(); s = nextSlot(schedule, s))
    out.push(s.getTime());
  return out;
}

/** How many records name each slot, and the records whose span does not match their count. */
function account(task: TaskState, records: RunRecord[]) {
  const named = new Map<number, number>();
  const badSpans: string[] = [];
  for (const r of records) {
    if (r.trigger === Trigger.Retry || r.trigger === Trigger.Manual) continue;
    let slots = [r.scheduledFor.getTime()];
    if (r.slotCount !== undefined) {
      if (!r.firstSlotAt || !r.lastSlotAt) badSpans.push(`${r.runId}: count without bounds`);
      else slots = slotsBetween(task, r.firstSlotAt, r.lastSlotAt);
      if (slots.length !== r.slotCount) badSpans.push(`${r.runId}: ${slots.length} ≠ ${r.slotCount}`);
    }
    for (const s of slots) named.set(s, (named.get(s) ?? 0) + 1);
  }
  return { named, badSpans };
}

async function simulate(store: TaskStore) {
  await store.putTaskType({ name: 'test.noop', functionName: 'noop' });
  for (const p of policies) await store.createTask(taskOf(p.catchUp, p.overlap));
  let now = t0;
  const worker = new SimulatedWorker(store, () => now);
  const deps = makeTestDeps({ store, invoker: worker.invoker, clock: { now: () => now } });
  await deps.registry.refresh();
  for (const m of tickMinutes()) {
    now = new Date(t0.getTime() + m * minute + 5_000);
    await worker.finishDue();
    const report = await runTick(deps, { now, recordTick: false });
    expect(report.errors).toEqual([]);
  }
  // Past the end of the schedule: let the last runs finish and be folded.
  for (let i = 1; !worker.idle || i < 3; i++) {
    now = new Date(now.getTime() + minute);
    await worker.finishDue();
    await runTick(deps, { now, recordTick: false });
    if (i > 20) throw new Error('runs still going 20 minutes after the schedule ended');
  }
}

function describeAccounting(name: string, makeStore: () => Promise<TaskStore>) {
  describe(`slot accounting (${name})`, () => {
    it('names every slot of every policy pair exactly once, across outages inside and beyond the window', async () => {
      const store = await makeStore();
      await simulate(store);
      const produced = slotsBetween(taskOf('skip', 'skip'), t0, new Date(t0.getTime() + endMinute * minute));
      expect(produced).toHaveLength(endMinute + 1);
      const seen = new Set<string>();
      for (const p of policies) {
        const task = taskOf(p.catchUp, p.overlap);
        const stored = await store.getTask(task.id);
        expect(stored?.active, `${task.id} active`).toEqual([]);
        expect(stored?.pending, `${task.id} pending`).toEqual([]);
        const records = await allRecords(store, task.id);
        for (const r of records) seen.add(`${r.status}${r.slotCount ? '+span' : ''}`);
        const { named, badSpans } = account(task, records);
        expect(badSpans, task.id).toEqual([]);
        const unaccounted = produced.filter((s) => !named.has(s)).map((s) => new Date(s).toISOString());
        const twice = [...named].filter(([, n]) => n > 1).map(([s]) => new Date(s).toISOString());
        const foreign = [...named.keys()].filter((s) => !produced.includes(s));
        expect({ task: task.id, unaccounted, twice, foreign }).toEqual({
          task: task.id,
          unaccounted: [],
          twice: [],
          foreign: [],
        });
      }
      // The simulation reached every kind of record, spans included (a check on the check).
      for (const kind of [
        'succeeded',
        'cancelled',
        'skipped',
        'skipped+span',
        'missed+span',
        'succeeded+span',
      ])
        expect(seen).toContain(kind);
    }, 180_000);
  });
}

describeAccounting('in memory', async () => new MemoryTaskStore());
describeAccounting('DynamoDB Local', async () => (await createTestTable('slots')).store);
