/**
 * Section `runs`: runs across tasks (`GET /runs`, the run index) over a short history and a long
 * one (100 and 10,000 run records; 100 and 1,000 in the quick run), one failed in fifty. A page of
 * 25 must read about as many index items and capacity units over either history: the cost follows
 * the page. Measured for the newest runs of every state, for failed runs only (a key condition),
 * and for one rare trigger (a filter, whose pages may run short), with the consumed read units.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ulid } from 'ulid';
import type { RunRecord, RunStatus } from '../../src/core/model.js';
import type { RunQuery } from '../../src/core/ports.js';
import { runToItem } from '../../src/store/dynamo-items.js';
import type { SectionContext } from './context.js';
import { clockMs, freshTable, round } from './harness.js';
import type { Figure, Goal, SectionResult } from './report.js';

const PAGE = 25;

function record(i: number, at: number): RunRecord {
  const status: RunStatus = i % 50 === 0 ? 'failed' : 'succeeded';
  return {
    taskId: `task-${i % 40}`,
    runId: ulid(at),
    type: 'bench.noop',
    status,
    trigger: i % 500 === 0 ? 'replay' : 'schedule',
    attempt: 1,
    scheduledFor: new Date(at),
    startedAt: new Date(at + 50),
    finishedAt: new Date(at + 1050),
    durationMs: 1000,
    parameters: { batch: i },
    expiresAt: new Date(at + 30 * 86_400_000),
  };
}

async function seedRuns(ctx: SectionContext, tableName: string, count: number): Promise<void> {
  const start = Date.now() - count * 60_000;
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < count; i += 25) {
    batches.push(
      Array.from({ length: Math.min(25, count - i) }, (_, j) =>
        runToItem(record(i + j, start + (i + j) * 60_000)),
      ),
    );
  }
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches.slice(i, i + 8).map(async (items) => {
        let requests = { [tableName]: items.map((Item) => ({ PutRequest: { Item } })) };
        for (let attempt = 0; attempt < 20 && requests[tableName]?.length; attempt++) {
          const out = await ctx.env.doc.send(new BatchWriteCommand({ RequestItems: requests }));
          requests = { [tableName]: (out.UnprocessedItems?.[tableName] ?? []) as (typeof requests)[string] };
        }
      }),
    );
  }
}

const queries: [string, Omit<RunQuery, 'limit'>][] = [
  ['newest', {}],
  ['failed', { statuses: ['failed'] }],
  ['replays', { trigger: 'replay' }],
];

interface PageCost {
  items: number;
  itemsRead: number;
  readUnits: number;
}

export async function runRunsIndex(ctx: SectionContext): Promise<SectionResult> {
  const begun = clockMs();
  const sizes = ctx.env.quick ? [100, 1000] : [100, 10_000];
  const details: Record<string, Record<string, PageCost>> = {};
  for (const size of sizes) {
    const { tableName, store } = await freshTable(ctx.env, `runs-${size}`);
    const t = clockMs();
    await seedRuns(ctx, tableName, size);
    ctx.env.log(
      `  runs: seeded ${size.toLocaleString('en-US')} run records in ${((clockMs() - t) / 1000).toFixed(1)} s`,
    );
    const costs: Record<string, PageCost> = {};
    for (const [name, query] of queries) {
      ctx.env.meter.reset(tableName);
      const page = await store.listRunsAcross({ ...query, limit: PAGE });
      costs[name] = {
        items: page.items.length,
        itemsRead: page.usage.itemsRead,
        readUnits: round(ctx.env.meter.tally(tableName).readUnits),
      };
    }
    details[String(size)] = costs;
  }
  const [small, large] = sizes.map((s) => details[String(s)] as Record<string, PageCost>) as [
    Record<string, PageCost>,
    Record<string, PageCost>,
  ];
  const figures: Figure[] = [];
  for (const [name] of queries) {
    for (const size of sizes) {
      const cost = details[String(size)]?.[name] as PageCost;
      const label = `${name}: ${size.toLocaleString('en-US')} in history`;
      figures.push({ section: 'runs', name: `${label}, runs listed`, value: cost.items, unit: 'runs' });
      figures.push({
        section: 'runs',
        name: `${label}, index items read`,
        value: cost.itemsRead,
        unit: 'items',
      });
      figures.push({ section: 'runs', name: `${label}, read units`, value: cost.readUnits, unit: 'RCU' });
    }
  }
  const ratio = (name: string) => (large[name]?.itemsRead ?? 0) / Math.max(1, small[name]?.itemsRead ?? 0);
  const failed = large.failed as PageCost;
  const perRun = failed.itemsRead / Math.max(1, failed.items);
  const goals: Goal[] = [
    ...(['newest', 'replays'] as const).map(
      (name): Goal => ({
        section: 'runs',
        name: `${name}: items read per page, long history over short`,
        target: '<= 2',
        value: round(ratio(name)),
        unit: '×',
        met: ratio(name) <= 2,
      }),
    ),
    {
      section: 'runs',
      name: 'failed (a rare state): index items read per run listed, long history',
      target: '<= 2.5',
      value: round(perRun),
      unit: 'items',
      met: perRun <= 2.5,
    },
  ];
  return {
    durationMs: Math.round(clockMs() - begun),
    figures,
    goals,
    details,
    notes: [
      `a page of ${PAGE}; one run in 50 failed, one in 500 a replay; a filter (trigger) may end a page short, with a token`,
    ],
  };
}
