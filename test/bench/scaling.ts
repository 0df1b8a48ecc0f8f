/**
 * Section 3, scaling: a tick over a big table (100,000 tasks) and a small one (1,000), 100 due in
 * each. Items read must follow what is due, and the tick's duration must not follow the table.
 * The two are measured alternately, several times, each time with the same 100 tasks made due
 * again (unmeasured), and compared by their medians.
 */
import { runTick } from '../../src/tick/run-tick.js';
import type { SectionContext } from './context.js';
import {
  benchTask,
  clockMs,
  freshTable,
  makeInvoker,
  median,
  ONCE_A_YEAR,
  round,
  seedTasks,
  taskId,
  tickDeps,
} from './harness.js';
import type { SectionResult } from './report.js';

const DUE = 100;

async function seedTable(ctx: SectionContext, name: string, total: number) {
  const { tableName, store } = await freshTable(ctx.env, name);
  const inADay = new Date(Date.now() + 86_400_000);
  function* idle() {
    for (let i = 0; i < total - DUE; i++)
      yield benchTask({ id: taskId('idle', i), schedule: ONCE_A_YEAR, nextSlotAt: inADay });
  }
  const t = clockMs();
  await seedTasks(ctx.env, tableName, idle(), { concurrency: 6 });
  ctx.env.log(
    `  scaling: seeded ${total.toLocaleString('en-US')} tasks in ${((clockMs() - t) / 1000).toFixed(1)} s`,
  );
  return { tableName, store };
}

/** The same 100 tasks, due again (fresh state), before each measured tick. */
async function makeDue(ctx: SectionContext, tableName: string) {
  const dueAt = new Date(Date.now() - 1000);
  await seedTasks(
    ctx.env,
    tableName,
    Array.from({ length: DUE }, (_, i) =>
      benchTask({ id: taskId('due', i), schedule: ONCE_A_YEAR, nextSlotAt: dueAt }),
    ),
  );
}

export async function runScaling(ctx: SectionContext): Promise<SectionResult> {
  const begun = clockMs();
  const quick = ctx.env.quick;
  const bigTotal = quick ? 2000 : 100_000;
  const smallTotal = 1000;
  const reps = quick ? 2 : 7;
  const small = await seedTable(ctx, 'scale-small', smallTotal);
  const big = await seedTable(ctx, 'scale-big', bigTotal);
  ctx.stub.reset();
  ctx.stub.latencyMs = 20;
  const invoker = makeInvoker(ctx.env.lambdaEndpoint);
  const samples = {
    small: [] as number[],
    big: [] as number[],
    smallRead: [] as number[],
    bigRead: [] as number[],
  };
  const starts: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    // Alternate which goes first; the first round warms up and is not counted.
    const order = r % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
    for (const which of order) {
      const table = which === 'small' ? small : big;
      await makeDue(ctx, table.tableName);
      const deps = await tickDeps(table.store, invoker);
      const report = await runTick(deps, { concurrency: ctx.concurrency });
      if (report.started !== DUE)
        throw new Error(`scaling: ${which} tick started ${report.started} of ${DUE}`);
      if (r === 0) continue;
      samples[which].push(report.durationMs);
      samples[which === 'small' ? 'smallRead' : 'bigRead'].push(report.itemsRead);
      starts.push(report.started);
    }
  }
  const bigMs = median(samples.big);
  const smallMs = median(samples.small);
  const itemsRead = Math.max(...samples.bigRead);
  const ratio = bigMs / smallMs;
  const bigLabel = bigTotal.toLocaleString('en-US');
  return {
    durationMs: clockMs() - begun,
    figures: [
      { section: 'scaling', name: `tick, ${bigLabel} tasks / ${DUE} due (median)`, value: bigMs, unit: 'ms' },
      {
        section: 'scaling',
        name: `tick, ${smallTotal.toLocaleString('en-US')} tasks / ${DUE} due (median)`,
        value: smallMs,
        unit: 'ms',
      },
    ],
    goals: [
      {
        section: 'scaling',
        name: `items read, ${bigLabel} tasks / ${DUE} due`,
        target: '<= 110',
        value: itemsRead,
        unit: '',
        met: itemsRead <= 110,
      },
      {
        section: 'scaling',
        name: `duration ${bigLabel} vs ${smallTotal.toLocaleString('en-US')} tasks`,
        target: '<= 1.5x',
        value: round(ratio, 2),
        unit: 'x',
        met: ratio <= 1.5,
      },
    ],
    details: { due: DUE, bigTotal, smallTotal, reps, samples },
    notes: [],
  };
}
