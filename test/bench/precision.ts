/**
 * Section 6, precision: look-ahead dispatch on a one-minute tick cadence. One real tick with the
 * construct's look-ahead (62 s) and send-ahead (3 s) takes the leases of slots later in its minute
 * ahead of time and invokes each run on its second, or, for a burst too large to send within
 * 250 ms, from just before it with the handler holding the run until its second. Measured per run:
 * slot -> start (the Invoke accepted, the 202, or the end of its hold when sent ahead), and
 * slot -> Invoke accepted:
 *
 * - 1,000 tasks due at the same second, 8 s into the tick's minute;
 * - 100 tasks on distinct instants spread over the minute (every 0.5 s from 4 s on).
 *
 * Against DynamoDB Local and the in-memory store, with the real Lambda client and the stub. Beside
 * each figure, the floor at the slot: with the leases written ahead, only the invokes remain, so
 * the floor is the invokes of the 99th percentile at the rate this process sends bare invokes to
 * the stub, measured in the same run: where a burst sent entirely at its instant would end.
 */
import type { InvokeResult, RunEvent, TaskInvoker, TaskStore } from '../../src/core/ports.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { InvokePace } from '../../src/tick/agenda.js';
import { runTick } from '../../src/tick/run-tick.js';
import type { SectionContext } from './context.js';
import {
  benchTask,
  FUNCTION_NAME,
  freshTable,
  makeInvoker,
  ONCE_A_YEAR,
  percentile,
  round,
  seedTasks,
  TASK_TYPE,
  taskId,
  tickDeps,
} from './harness.js';
import type { Figure, Goal, SectionResult } from './report.js';
import { startStubProcess } from './stub-process.js';

/** The construct's look-ahead: a one-minute tick and 2 s. */
const LOOK_AHEAD_MS = 62_000;
/** The construct's send-ahead (`TICK_SEND_AHEAD`). */
const SEND_AHEAD_MS = 3_000;

/**
 * Per accepted invoke: accepted (wall clock) minus the run's slot, and the run's start: the
 * handler starts at once, or holds a run sent ahead of its instant until then (`dispatchedAt`).
 */
class LatenessInvoker implements TaskInvoker {
  readonly accepted: number[] = [];
  readonly started: number[] = [];
  readonly held: number[] = [];
  constructor(private readonly inner: TaskInvoker) {}
  async invoke(functionName: string, event: RunEvent): Promise<InvokeResult> {
    const result = await this.inner.invoke(functionName, event);
    if (result.accepted) {
      const now = Date.now();
      const slot = Date.parse(event.scheduledFor);
      const start = Math.max(now, Date.parse(event.dispatchedAt));
      this.accepted.push(now - slot);
      this.started.push(start - slot);
      this.held.push(start - now);
    }
    return result;
  }
}

interface Case {
  name: string;
  /** Each task's slot, as an offset from the tick's start, ms. */
  offsets: number[];
}

function cases(quick: boolean): Case[] {
  const same = quick ? 100 : 1_000;
  const distinct = quick ? 10 : 100;
  return [
    {
      name: `${same} due at the same second`,
      offsets: Array.from({ length: same }, () => (quick ? 3_000 : 8_000)),
    },
    {
      name: `${distinct} on distinct instants`,
      offsets: Array.from({ length: distinct }, (_, i) => (quick ? 2_000 + i * 100 : 4_000 + i * 500)),
    },
  ];
}

/** One tick over one case: tasks seeded with their slots, then the tick with look-ahead. */
async function runCase(
  ctx: SectionContext,
  engine: 'dynamodb' | 'memory',
  c: Case,
  endpoint: string,
  pace: InvokePace,
) {
  const start = Date.now() + 1_000;
  const tasks = c.offsets.map((offset, i) =>
    benchTask({ id: taskId('precise', i), schedule: ONCE_A_YEAR, nextSlotAt: new Date(start + offset) }),
  );
  let store: TaskStore;
  if (engine === 'dynamodb') {
    const table = await freshTable(ctx.env, 'precision');
    await seedTasks(ctx.env, table.tableName, tasks);
    store = table.store;
  } else {
    const memory = new MemoryTaskStore();
    await memory.putTaskType({ name: TASK_TYPE, functionName: FUNCTION_NAME });
    for (const task of tasks) await memory.createTask(task);
    store = memory;
  }
  const invoker = new LatenessInvoker(makeInvoker(endpoint));
  const deps = await tickDeps(store, invoker);
  const wait = start - Date.now();
  if (wait > 0) await new Promise((done) => setTimeout(done, wait));
  const report = await runTick(deps, {
    concurrency: ctx.concurrency,
    lookAheadMs: LOOK_AHEAD_MS,
    sendAheadMs: SEND_AHEAD_MS,
    invokePace: pace,
    recordTick: false,
  });
  if (report.started !== tasks.length) {
    throw new Error(
      `precision: ${report.started} of ${tasks.length} runs started (${JSON.stringify(report.errors.slice(0, 3))})`,
    );
  }
  const sentAhead = invoker.held.filter((ms) => ms > 0);
  return {
    p50: round(percentile(invoker.started, 50), 1),
    p99: round(percentile(invoker.started, 99), 1),
    max: round(Math.max(...invoker.started), 1),
    acceptedP99: round(percentile(invoker.accepted, 99), 1),
    acceptedMin: round(Math.min(...invoker.accepted), 1),
    sentAhead: sentAhead.length,
    meanHoldMs: round(invoker.held.reduce((a, b) => a + b, 0) / invoker.held.length, 0),
    leasedAhead: report.leasedAhead,
  };
}

/** Bare invokes to the stub, 64 at a time: how many a second this process sends. */
async function invokeRate(ctx: SectionContext, count: number, endpoint: string): Promise<number> {
  const invoker = makeInvoker(endpoint);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: ctx.concurrency }, async () => {
      while (next < count) await invoker.invoke(FUNCTION_NAME, bareEvent(next++));
    }),
  );
  return count / ((performance.now() - t0) / 1000);
}

/** A run event of no task, for invokes the tick does not send. */
function bareEvent(i: number): RunEvent {
  return {
    tickwork: 1,
    taskId: taskId('bare', i),
    runId: `bare-${i}`,
    type: TASK_TYPE,
    scheduledFor: new Date().toISOString(),
    dispatchedAt: new Date().toISOString(),
    attempt: 1,
    trigger: 'schedule',
    parameters: {},
    token: 1,
    leaseExpiresAt: new Date().toISOString(),
    historyRetentionDays: 1,
  };
}

/**
 * The option not taken, measured for the comparison in docs/architecture.md: the handler waits.
 * Every run of a burst is invoked ahead of its instant, early enough for the last invoke to be
 * accepted before it (the floor's time and half again), and each handler waits for the instant
 * before it starts. Measured is handler start minus the instant, and the Lambda time each run
 * spends waiting (what this option bills). In one process here; on Lambda every handler waits in
 * its own environment, so only the timer's part carries over.
 */
async function handlerWaits(ctx: SectionContext, count: number, rate: number) {
  const leadMs = Math.ceil((count / rate) * 1_500);
  const slot = Date.now() + leadMs + 500;
  const lateness: number[] = [];
  const waited: number[] = [];
  ctx.stub.reset();
  ctx.stub.handler = async (event) => {
    const arrived = Date.now();
    const instant = Date.parse(event.scheduledFor);
    if (instant > arrived) await new Promise((done) => setTimeout(done, instant - arrived));
    const started = Date.now();
    lateness.push(started - instant);
    waited.push(started - arrived);
  };
  const invoker = makeInvoker(ctx.env.lambdaEndpoint);
  await new Promise((done) => setTimeout(done, slot - leadMs - Date.now()));
  let next = 0;
  await Promise.all(
    Array.from({ length: ctx.concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const event = bareEvent(i);
        await invoker.invoke(FUNCTION_NAME, { ...event, scheduledFor: new Date(slot).toISOString() });
      }
    }),
  );
  await new Promise((done) => setTimeout(done, Math.max(0, slot - Date.now()) + 200));
  ctx.stub.reset();
  if (lateness.length !== count)
    throw new Error(`precision: ${lateness.length} of ${count} handlers started`);
  return {
    leadMs,
    p50: round(percentile(lateness, 50), 1),
    p99: round(percentile(lateness, 99), 1),
    meanWaitMs: round(waited.reduce((a, b) => a + b, 0) / waited.length, 0),
  };
}

export async function runPrecision(ctx: SectionContext): Promise<SectionResult> {
  const quick = ctx.env.quick;
  const began = performance.now();
  const out: Measured = { figures: [], goals: [], details: {} };
  // The stub out of this process, as the Lambda service is out of the tick's.
  const remote = await startStubProcess({ latencyMs: 20 });
  try {
    const rate = await invokeRate(ctx, quick ? 200 : 2_000, remote.endpoint);
    out.details.invokesPerSec = round(rate, 0);
    out.figures.push({
      section: 'precision',
      name: 'bare invokes to the stub',
      value: round(rate, 0),
      unit: '/s',
    });
    // One pace for every tick, as a warm tick keeps the one it learned; it starts cold (1 ms).
    const pace = new InvokePace();
    for (const engine of ['dynamodb', 'memory'] as const) {
      for (const c of cases(quick)) {
        measured(out, c, engine, await runCase(ctx, engine, c, remote.endpoint, pace), rate);
      }
    }
    out.details.learnedMsPerInvoke = round(pace.msPerInvoke, 2);
  } finally {
    await remote.close();
  }
  // Its lead follows the rate to the in-process stub, whose handlers do the waiting.
  const localRate = await invokeRate(ctx, quick ? 100 : 500, ctx.env.lambdaEndpoint);
  const waits = await handlerWaits(ctx, quick ? 100 : 1_000, localRate);
  out.details['the handler waits (option not used)'] = waits;
  out.figures.push(
    {
      section: 'precision',
      name: `option not used, the handler waits: ${quick ? 100 : 1_000} invoked ${waits.leadMs} ms ahead, start -> instant p99`,
      value: waits.p99,
      unit: 'ms',
    },
    {
      section: 'precision',
      name: 'option not used, the handler waits: Lambda time spent waiting per run, mean',
      value: waits.meanWaitMs,
      unit: 'ms',
    },
  );
  return {
    durationMs: performance.now() - began,
    ...out,
    notes: [
      'one tick looking 62 s ahead, started on the minute (the construct looks to 2 s into the minute after next); leases written ahead, each run invoked on its instant, a burst too large for 250 ms sent up to 3 s ahead and held by its handler until its instant',
      'start: the Invoke accepted, or the end of the hold for a run sent ahead (the task SDK claims then); the pace of invokes is learned over the section, from 1 ms cold',
      "invoke floor at p99: the invokes of the 99th percentile at this process's bare invoke rate to the stub",
      "the stub runs in a process of its own for the tick and the floor (the Lambda service is not on the tick's CPU); the handler-waits option uses the in-process stub, whose handlers wait",
    ],
  };
}

interface Measured {
  figures: Figure[];
  goals: Goal[];
  details: Record<string, unknown>;
}

/** One case's figures and goal, beside the floor at this process's bare invoke rate. */
function measured(
  out: Measured,
  c: Case,
  engine: 'dynamodb' | 'memory',
  result: Awaited<ReturnType<typeof runCase>>,
  rate: number,
): void {
  const floorMs = round((Math.ceil(0.99 * c.offsets.length) / rate) * 1000, 0);
  const label = `${c.name}, ${engine === 'dynamodb' ? 'DynamoDB Local' : 'in-memory store'}`;
  out.details[label] = { ...result, floorMs };
  out.figures.push(
    { section: 'precision', name: `${label}: slot -> start p50`, value: result.p50, unit: 'ms' },
    {
      section: 'precision',
      name: `${label}: slot -> Invoke accepted p99`,
      value: result.acceptedP99,
      unit: 'ms',
    },
    { section: 'precision', name: `${label}: runs sent ahead`, value: result.sentAhead, unit: 'runs' },
    {
      section: 'precision',
      name: `${label}: held in the handler per run, mean`,
      value: result.meanHoldMs,
      unit: 'ms',
    },
    {
      section: 'precision',
      name: `${label}: invoke floor at p99 (all at the instant)`,
      value: floorMs,
      unit: 'ms',
    },
  );
  out.goals.push({
    section: 'precision',
    name: `${label}: slot -> start p99`,
    target: '< 1000',
    value: result.p99,
    unit: 'ms',
    met: result.p99 < 1_000,
  });
}
