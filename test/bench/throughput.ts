/**
 * Section 2, tick throughput: N due tasks, ticks until every one has started; runs started per
 * second against the engine ceiling divided by the item writes a dispatch needs (the tick sends
 * them 25 to a request, so requests per run are reported apart).
 */

import type { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { runTick, type TickReport } from '../../src/tick/run-tick.js';
import type { SectionContext } from './context.js';
import {
  benchTask,
  clockMs,
  freshTable,
  makeInvoker,
  ONCE_A_YEAR,
  round,
  seedTasks,
  taskId,
  tickDeps,
} from './harness.js';
import type { Figure, Goal, SectionResult } from './report.js';

export interface DrainResult {
  due: number;
  started: number;
  ticks: number;
  wallMs: number;
  runsPerSec: number;
  /** From the first tick's start to its first dispatch write: the due-index read. */
  queryPhaseMs: number;
  writeRequests: number;
  writeRequestsPerRun: number;
  writeUnitsPerRun: number;
  /** CPU time of this Node process (tick, SDK clients, stub) per started run. */
  cpuMsPerRun: number;
  requestsPerRun: number;
  reports: Omit<TickReport, 'errors' | 'startedAt'>[];
  errors: string[];
}

/** Records when the store's first `saveTask(s)` was called: the end of the tick's read phase. */
function firstSaveProbe(store: DynamoTaskStore): { store: DynamoTaskStore; firstSaveAt: () => number } {
  let first = Number.NaN;
  const probed = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if ((property === 'saveTask' || property === 'saveTasks') && typeof value === 'function') {
        return (...args: unknown[]) => {
          if (Number.isNaN(first)) first = clockMs();
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: probed, firstSaveAt: () => first };
}

/** Seeds `count` due tasks on a fresh table and ticks until all started (at most 20 ticks). */
export async function drain(
  ctx: SectionContext,
  count: number,
  options: { latencyMs?: number; concurrency?: number; name?: string } = {},
): Promise<DrainResult> {
  const { tableName, store } = await freshTable(ctx.env, options.name ?? `drain${count}`);
  const dueAt = new Date(Date.now() - 1000);
  await seedTasks(
    ctx.env,
    tableName,
    Array.from({ length: count }, (_, i) =>
      benchTask({ id: taskId('due', i), schedule: ONCE_A_YEAR, nextSlotAt: dueAt }),
    ),
  );
  ctx.stub.reset();
  ctx.stub.latencyMs = options.latencyMs ?? 20;
  ctx.env.meter.reset(tableName);
  const probe = firstSaveProbe(store);
  const deps = await tickDeps(probe.store, makeInvoker(ctx.env.lambdaEndpoint));
  const reports: DrainResult['reports'] = [];
  const errors: string[] = [];
  let started = 0;
  const t0 = clockMs();
  const cpu0 = process.cpuUsage();
  let queryPhaseMs = Number.NaN;
  for (let tick = 0; tick < 20 && started < count; tick++) {
    const tickStart = clockMs();
    const {
      errors: tickErrors,
      startedAt: _s,
      ...report
    } = await runTick(deps, {
      concurrency: options.concurrency ?? ctx.concurrency,
    });
    if (tick === 0) queryPhaseMs = probe.firstSaveAt() - tickStart;
    reports.push(report);
    errors.push(...tickErrors.map((e) => e.message));
    started += report.started;
    if (report.started === 0) break;
  }
  const wallMs = clockMs() - t0;
  const cpu = process.cpuUsage(cpu0);
  const writeRequests = reports.reduce((n, r) => n + r.writes, 0);
  const capacity = ctx.env.meter.tally(tableName);
  return {
    due: count,
    started,
    ticks: reports.length,
    wallMs,
    runsPerSec: started / (wallMs / 1000),
    queryPhaseMs,
    writeRequests,
    writeRequestsPerRun: writeRequests / Math.max(1, started),
    writeUnitsPerRun: capacity.writeUnits / Math.max(1, started),
    requestsPerRun: capacity.requests / Math.max(1, started),
    cpuMsPerRun: (cpu.user + cpu.system) / 1000 / Math.max(1, started),
    reports,
    errors: errors.slice(0, 10),
  };
}

export async function runThroughput(ctx: SectionContext): Promise<SectionResult> {
  const begun = clockMs();
  const ceiling = ctx.ceiling;
  if (!ceiling) throw new Error('the throughput section needs the ceiling measured first');
  const sizes = ctx.env.quick ? [200] : [1000, 10_000];
  const figures: Figure[] = [];
  const goals: Goal[] = [];
  const runs: Record<string, unknown> = {};
  // The ceiling is measured after a warm-up; so is the tick: one drain first, not counted, so
  // the first measured size is not the one that pays for V8's and the engine's first compiles
  // of its code path (a tick Lambda is warm at every tick but its first).
  const warmupSize = ctx.env.quick ? 100 : 1000;
  ctx.env.log(`  throughput: warm-up, ${warmupSize} due`);
  const warmup = await drain(ctx, warmupSize, { name: 'warmup' });
  for (const size of sizes) {
    ctx.env.log(`  throughput: ${size} due`);
    // The engine keeps speeding up as the JVM warms and slows with the machine's other load:
    // the goal's baseline is the ceiling measured again right before this drain.
    const adjacent = ctx.remeasureCeiling
      ? await ctx.remeasureCeiling(ctx.env.quick ? 800 : 3000)
      : ceiling.plainPerSec;
    const result = await drain(ctx, size);
    const expected = adjacent / result.writeRequestsPerRun;
    const ratio = result.runsPerSec / expected;
    const ratioMoving = result.runsPerSec / (ceiling.indexMovingPerSec / result.writeRequestsPerRun);
    runs[String(size)] = {
      ...result,
      adjacentCeilingPerSec: adjacent,
      expectedPerSec: expected,
      ratio,
      ratioToFirstCeiling: result.runsPerSec / (ceiling.plainPerSec / result.writeRequestsPerRun),
      ratioToIndexMovingCeiling: ratioMoving,
    };
    const label = `${size.toLocaleString('en-US')} due`;
    figures.push(
      {
        section: 'throughput',
        name: `${label}: ceiling measured just before`,
        value: round(adjacent, 0),
        unit: '/s',
      },
      {
        section: 'throughput',
        name: `${label}: tick process CPU per run`,
        value: round(result.cpuMsPerRun, 2),
        unit: 'ms',
      },
      {
        section: 'throughput',
        name: `${label}: runs started/s`,
        value: round(result.runsPerSec, 0),
        unit: '/s',
      },
      { section: 'throughput', name: `${label}: ticks needed`, value: result.ticks, unit: '' },
      {
        section: 'throughput',
        name: `${label}: due-index read phase`,
        value: round(result.queryPhaseMs, 0),
        unit: 'ms',
      },
      {
        section: 'throughput',
        name: `${label}: item writes per run`,
        value: round(result.writeRequestsPerRun),
        unit: '',
      },
      {
        section: 'throughput',
        name: `${label}: DynamoDB requests per run (all kinds)`,
        value: round(result.requestsPerRun, 3),
        unit: '',
      },
      {
        section: 'throughput',
        name: `${label}: ratio to index-moving ceiling`,
        value: round(ratioMoving),
        unit: '',
      },
    );
    goals.push({
      section: 'throughput',
      name: `${label}: ratio to ceiling / writes per dispatch`,
      target: '>= 0.8',
      value: round(ratio),
      unit: '',
      met: ratio >= 0.8,
    });
    if (size >= 10_000 || ctx.env.quick) {
      goals.push({
        section: 'throughput',
        name: `${label}: drained in`,
        target: ctx.env.quick ? '< 15 s (for 10,000)' : '< 15 s',
        value: round(result.wallMs / 1000, 2),
        unit: 's',
        met: result.wallMs < 15_000 && result.started === size,
      });
    }
  }
  return {
    durationMs: clockMs() - begun,
    figures,
    goals,
    details: {
      concurrency: ctx.concurrency,
      invokeLatencyMs: 20,
      ceiling,
      warmup: { due: warmupSize, runsPerSec: warmup.runsPerSec, started: warmup.started },
      runs,
    },
    notes: [
      `warm-up drain of ${warmupSize.toLocaleString('en-US')} due before the measured ones: ${Math.round(warmup.runsPerSec)} runs/s (not counted)`,
    ],
  };
}
