/**
 * Section 5, lateness:
 * - tick start -> Invoke accepted (the 202), over every run of a tick with N due, beside the floor
 *   the engine sets (the conditional writes of the 99th percentile at the engine's own rate) and the
 *   same tick over the in-memory store (the tick's own path, engine left out);
 * - run-now call -> handler start (after its claim);
 * - cancel call -> the task's cancellation signal firing (its next heartbeat sees the flag).
 *
 * Run-now and cancel are HTTP calls to the real admin API (`src/api/app.ts`, served on 127.0.0.1),
 * and the handlers are run by the real task SDK (`createTaskHandler`) behind the stub Lambda.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { shardGroups } from '../../src/core/due.js';
import type { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { runTick } from '../../src/tick/run-tick.js';
import type { SectionContext } from './context.js';
import {
  benchTask,
  clockMs,
  freshTable,
  makeInvoker,
  ONCE_A_YEAR,
  percentile,
  processCpuMs,
  round,
  seedTasks,
  sleep,
  TimedInvoker,
  taskId,
  tickDeps,
} from './harness.js';
import type { SectionResult } from './report.js';
import { post, sdkHandler, startApi } from './sdk.js';

const stats = (values: number[]) => ({
  samples: values.length,
  p50: round(percentile(values, 50), 1),
  p99: round(percentile(values, 99), 1),
  max: round(Math.max(...values), 1),
});

interface TickRound {
  p50: number;
  p99: number;
  max: number;
  samples: number;
  ticks: number;
  /** CPU time of this process (the tick, the SDK clients and the stub) per run started, ms. */
  tickCpuMsPerRun: number;
  /** CPU time of the DynamoDB Local process per run started, ms (absent: not measurable here). */
  engineCpuMsPerRun?: number;
}

/** One tick over `due` tasks due a second ago on DynamoDB Local, timed from its start to each Invoke's 202. */
async function tickToAccepted(ctx: SectionContext, due: number): Promise<TickRound> {
  const dueAt = new Date(Date.now() - 1000);
  const { tableName, store } = await freshTable(ctx.env, 'late-tick');
  await seedTasks(
    ctx.env,
    tableName,
    Array.from({ length: due }, (_, i) =>
      benchTask({ id: taskId('due', i), schedule: ONCE_A_YEAR, nextSlotAt: dueAt }),
    ),
  );
  ctx.stub.reset();
  ctx.stub.latencyMs = 20;
  const invoker = new TimedInvoker(makeInvoker(ctx.env.lambdaEndpoint));
  const deps = await tickDeps(store, invoker);
  const engine0 = processCpuMs(ctx.env.enginePid);
  const cpu0 = process.cpuUsage();
  const t0 = clockMs();
  let started = 0;
  let ticks = 0;
  while (started < due && ticks < 10) {
    const report = await runTick(deps, { concurrency: ctx.concurrency });
    ticks++;
    started += report.started;
    if (report.started === 0) break;
  }
  const cpu = process.cpuUsage(cpu0);
  const engine1 = processCpuMs(ctx.env.enginePid);
  const perRun = (ms: number) => round(ms / Math.max(1, started), 2);
  return {
    ticks,
    ...stats(invoker.acceptedAt.map((t) => t - t0)),
    tickCpuMsPerRun: perRun((cpu.user + cpu.system) / 1000),
    ...(engine0 !== undefined && engine1 !== undefined
      ? { engineCpuMsPerRun: perRun(engine1 - engine0) }
      : {}),
  };
}

/**
 * The tick's own path with the engine left out, whole or split over shard groups: `groups`
 * processes (`split-tick-worker.ts`), each a tick over its share of the 4 shards against the
 * in-memory store, with the real Lambda client and a stub endpoint of its own, all started at
 * once as the schedules of a split deployment fire at once. Lateness is from the first start.
 */
async function splitTick(due: number, groups: number) {
  const worker = fileURLToPath(new URL('./split-tick-worker.ts', import.meta.url));
  const children = shardGroups(4, groups).map((shards) =>
    spawn(process.execPath, ['--import', 'tsx', worker, String(due), JSON.stringify(shards)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    }),
  );
  try {
    const outputs = children.map((child) => createInterface({ input: child.stdout })[Symbol.asyncIterator]());
    const nextLine = async (k: number) => {
      const line = await outputs[k]?.next();
      if (!line || line.done) throw new Error(`split tick: worker ${k} exited early`);
      return line.value;
    };
    await Promise.all(children.map((_, k) => nextLine(k)));
    for (const child of children) child.stdin.write('go\n');
    const results = (await Promise.all(children.map((_, k) => nextLine(k)))).map(
      (line) =>
        JSON.parse(line) as { startedAt: number; cpuMs: number; started: number; acceptedAt: number[] },
    );
    const t0 = Math.min(...results.map((r) => r.startedAt));
    const started = results.reduce((n, r) => n + r.started, 0);
    if (started !== due) throw new Error(`split tick: ${started} runs started of ${due}`);
    return {
      groups,
      ...stats(results.flatMap((r) => r.acceptedAt.map((t) => t - t0))),
      /** CPU time of the tick processes per run started, summed over the processes. */
      cpuMsPerRun: round(results.reduce((ms, r) => ms + r.cpuMs, 0) / due, 2),
    };
  } finally {
    for (const child of children) child.kill();
  }
}

/** The round whose p99 is the median of the rounds' (the rounds sorted by p99, the middle one). */
function medianRound<R extends { p99: number }>(rounds: R[]): R {
  const sorted = [...rounds].sort((a, b) => a.p99 - b.p99);
  return sorted[Math.floor((sorted.length - 1) / 2)] as R;
}

/** Wraps a store to time one method's calls. */
function timing(store: DynamoTaskStore, method: 'heartbeat'): { store: DynamoTaskStore; samples: number[] } {
  const samples: number[] = [];
  const timed = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property !== method) return value.bind(target);
      return async (...args: unknown[]) => {
        const t = clockMs();
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } finally {
          samples.push(clockMs() - t);
        }
      };
    },
  });
  return { store: timed, samples };
}

async function runNowToStart(ctx: SectionContext, samples: number) {
  const { tableName, store } = await freshTable(ctx.env, 'late-runnow');
  const later = new Date(Date.now() + 86_400_000);
  await seedTasks(
    ctx.env,
    tableName,
    Array.from({ length: samples }, (_, i) =>
      benchTask({ id: taskId('now', i), schedule: ONCE_A_YEAR, nextSlotAt: later }),
    ),
  );
  const startedAt = new Map<string, number>();
  ctx.stub.reset();
  ctx.stub.latencyMs = 20;
  ctx.stub.handler = sdkHandler(store, (task) => {
    startedAt.set(task.taskId, clockMs());
    return 'ok';
  });
  const api = await startApi(store, await tickDeps(store, makeInvoker(ctx.env.lambdaEndpoint)));
  const latencies: number[] = [];
  try {
    const limit = pLimit(4);
    await Promise.all(
      Array.from({ length: samples }, (_, i) =>
        limit(async () => {
          const id = taskId('now', i);
          const t = clockMs();
          const accepted = await post(api, `/tasks/${id}/run`);
          const until = clockMs() + 10_000;
          while (!startedAt.has(id) && clockMs() < until) await sleep(2);
          const at = startedAt.get(id);
          if (at === undefined) throw new Error(`run-now: ${id} never started (${JSON.stringify(accepted)})`);
          latencies.push(at - t);
        }),
      ),
    );
  } finally {
    await api.close();
  }
  return { ...stats(latencies), handlerErrors: ctx.stub.handlerErrors.slice(0, 5) };
}

async function cancelToSignal(ctx: SectionContext, samples: number, batch: number, heartbeatMs: number) {
  const { tableName, store } = await freshTable(ctx.env, 'late-cancel');
  const later = new Date(Date.now() + 86_400_000);
  await seedTasks(
    ctx.env,
    tableName,
    Array.from({ length: samples }, (_, i) =>
      benchTask({ id: taskId('cancel', i), schedule: ONCE_A_YEAR, nextSlotAt: later }),
    ),
  );
  const started = new Set<string>();
  const signalled = new Map<string, number>();
  const timed = timing(store, 'heartbeat');
  ctx.stub.reset();
  ctx.stub.latencyMs = 20;
  ctx.stub.handler = sdkHandler(
    timed.store,
    async (task) => {
      started.add(task.taskId);
      await new Promise<void>((done) => {
        const timer = setTimeout(done, 120_000);
        task.signal.addEventListener('abort', () => {
          signalled.set(task.taskId, clockMs());
          clearTimeout(timer);
          done();
        });
      });
      task.throwIfCancelled();
      return 'not cancelled';
    },
    { heartbeatIntervalMs: heartbeatMs },
  );
  const api = await startApi(store, await tickDeps(store, makeInvoker(ctx.env.lambdaEndpoint)));
  const latencies: number[] = [];
  try {
    // In batches: every running handler heartbeats, and on this engine that load is not free.
    for (let first = 0; first < samples; first += batch) {
      const ids = Array.from({ length: Math.min(batch, samples - first) }, (_, k) =>
        taskId('cancel', first + k),
      );
      const limit = pLimit(8);
      await Promise.all(ids.map((id) => limit(() => post(api, `/tasks/${id}/run`))));
      const until = clockMs() + 20_000;
      while (ids.some((id) => !started.has(id)) && clockMs() < until) await sleep(10);
      if (ids.some((id) => !started.has(id))) throw new Error('cancel: runs did not start');
      // Cancels spread over one heartbeat interval, so they land at every phase of the heartbeat.
      await Promise.all(
        ids.map(async (id, k) => {
          await sleep((k / ids.length) * heartbeatMs);
          const t = clockMs();
          await post(api, `/tasks/${id}/cancel`);
          const stop = clockMs() + heartbeatMs + 15_000;
          while (!signalled.has(id) && clockMs() < stop) await sleep(5);
          const at = signalled.get(id);
          if (at === undefined) throw new Error(`cancel: ${id} never saw its cancel`);
          latencies.push(at - t);
        }),
      );
    }
  } finally {
    await api.close();
  }
  return {
    heartbeatMs,
    concurrentRuns: batch,
    ...stats(latencies),
    heartbeatCall: stats(timed.samples),
    handlerErrors: ctx.stub.handlerErrors.slice(0, 5),
  };
}

export async function runLateness(ctx: SectionContext): Promise<SectionResult> {
  const begun = clockMs();
  const quick = ctx.env.quick;
  const due = quick ? 200 : 1000;
  const samples = quick ? 50 : 200;
  const heartbeatMs = quick ? 500 : 2000;
  const rounds = quick ? 1 : 3;
  // The engine's own rate for the write a dispatch makes (conditional, moving `dueAt`), measured
  // right before: no tick making one such write per run can start the 99th percentile's runs
  // sooner than that many writes take on this engine.
  const ceilingPerSec = ctx.remeasureCeiling
    ? await ctx.remeasureCeiling(quick ? 800 : 3000, true)
    : ctx.ceiling?.indexMovingPerSec;
  const p99Writes = Math.ceil(0.99 * due);
  const floorMs = ceilingPerSec ? (p99Writes / ceilingPerSec) * 1000 : Number.NaN;
  ctx.env.log(`  lateness: tick with ${due} due, ${rounds} round(s) on DynamoDB Local`);
  const onEngine: TickRound[] = [];
  for (let r = 0; r < rounds; r++) onEngine.push(await tickToAccepted(ctx, due));
  const tick = medianRound(onEngine);
  // Engine left out, one tick process and two (shard groups), alternated round by round.
  ctx.env.log(`  lateness: engine-free tick with ${due} due, whole and split in 2, ${rounds} round(s)`);
  const whole: Awaited<ReturnType<typeof splitTick>>[] = [];
  const split: Awaited<ReturnType<typeof splitTick>>[] = [];
  for (let r = 0; r < rounds; r++) {
    whole.push(await splitTick(due, 1));
    split.push(await splitTick(due, 2));
  }
  const free = medianRound(whole);
  const freeSplit = medianRound(split);
  ctx.env.log(`  lateness: ${samples} run-now calls`);
  const now = await runNowToStart(ctx, samples);
  ctx.env.log(`  lateness: ${samples} cancels, heartbeat every ${heartbeatMs} ms`);
  const cancel = await cancelToSignal(ctx, samples, quick ? 25 : 50, heartbeatMs);
  ctx.stub.reset();
  return {
    durationMs: clockMs() - begun,
    figures: [
      {
        section: 'lateness',
        name: `tick start -> Invoke accepted p50 (${due} due)`,
        value: tick.p50,
        unit: 'ms',
      },
      {
        section: 'lateness',
        name: `engine floor for that p99: ${p99Writes} dispatch writes at the ceiling just before`,
        value: round(floorMs, 0),
        unit: 'ms',
      },
      {
        section: 'lateness',
        name: 'tick p99 / engine floor',
        value: round(tick.p99 / floorMs, 2),
        unit: 'x',
      },
      {
        section: 'lateness',
        name: 'tick CPU per run (this process: tick, SDK clients, stub)',
        value: tick.tickCpuMsPerRun,
        unit: 'ms',
      },
      ...(tick.engineCpuMsPerRun !== undefined
        ? [
            {
              section: 'lateness' as const,
              name: 'DynamoDB Local CPU per run',
              value: tick.engineCpuMsPerRun,
              unit: 'ms',
            },
          ]
        : []),
      {
        section: 'lateness',
        name: `engine-free tick, 1 process (in-memory store, real Lambda client) p99`,
        value: free.p99,
        unit: 'ms',
      },
      {
        section: 'lateness',
        name: `engine-free tick split over 2 shard groups (2 processes) p99`,
        value: freeSplit.p99,
        unit: 'ms',
      },
      {
        section: 'lateness',
        name: 'engine-free tick CPU per run: split in 2 / 1 process',
        value: round(freeSplit.cpuMsPerRun / free.cpuMsPerRun, 2),
        unit: 'x',
      },
      { section: 'lateness', name: 'run-now -> handler start p50', value: now.p50, unit: 'ms' },
      { section: 'lateness', name: 'cancel -> signal p50', value: cancel.p50, unit: 'ms' },
      {
        section: 'lateness',
        name: 'heartbeat call p99 (during cancels)',
        value: cancel.heartbeatCall.p99,
        unit: 'ms',
      },
    ],
    goals: [
      {
        section: 'lateness',
        name: `tick start -> Invoke accepted p99 (${due} due)`,
        target: '< 1000 ms',
        value: tick.p99,
        unit: 'ms',
        met: tick.p99 < 1000,
      },
      {
        section: 'lateness',
        name: 'run-now -> handler start p99',
        target: '< 1000 ms',
        value: now.p99,
        unit: 'ms',
        met: now.p99 < 1000,
      },
      {
        section: 'lateness',
        name: `cancel -> signal p99 (heartbeat ${heartbeatMs} ms)`,
        target: `<= ${heartbeatMs + 1000} ms`,
        value: cancel.p99,
        unit: 'ms',
        met: cancel.p99 <= heartbeatMs + 1000,
      },
    ],
    details: {
      tick,
      tickRounds: onEngine,
      engineFree: { whole, split },
      ceilingJustBeforePerSec: ceilingPerSec === undefined ? null : round(ceilingPerSec, 0),
      floorMs: round(floorMs, 0),
      runNow: now,
      cancel,
    },
    notes: [
      `tick lateness: the median of ${rounds} round(s) by p99; the engine floor is ${p99Writes} writes at the conditional-UpdateItem rate (moving dueAt) measured just before; the engine-free ticks run the same ${due} dispatches against the in-memory store with the real Lambda client and a stub, in 1 process or split over 2 shard groups in 2 processes started at once`,
      `run-now and cancel: HTTP calls to the admin API (src/api/app.ts) on 127.0.0.1; handlers run by the task SDK (createTaskHandler), heartbeat every ${heartbeatMs} ms; ${samples} samples each`,
    ],
  };
}
