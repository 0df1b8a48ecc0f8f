/**
 * Section 1, the engine ceiling: how many conditional UpdateItem calls per second this engine
 * takes at the tick's concurrency, on task items of the real size in a table with the real due
 * index. Two kinds: `plain` bumps the version (the index entry is rewritten in place), and
 * `index-moving` also moves `dueAt`, as every dispatch does (index delete + put).
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SectionContext } from './context.js';
import { benchTask, clockMs, freshTable, ONCE_A_YEAR, round, seedTasks, sleep, taskId } from './harness.js';
import type { SectionResult } from './report.js';

interface Rate {
  perSec: number;
  /** CPU time of this Node process per successful call (SDK marshalling, signing, HTTP). */
  cpuMsPerCall: number;
  calls: number;
  failed: number;
}

async function measure(
  ctx: SectionContext,
  tableName: string,
  versions: number[],
  moveIndex: boolean,
  warmupMs: number,
  durationMs: number,
): Promise<Rate> {
  const items = versions.length;
  let next = 0;
  let counting = false;
  let calls = 0;
  let failed = 0;
  const stopAt = clockMs() + warmupMs + durationMs;
  let dueAt = Date.now() + 86_400_000;
  const worker = async () => {
    while (clockMs() < stopAt) {
      const i = next++ % items;
      const expected = versions[i] as number;
      const values: Record<string, unknown> = { ':v': expected, ':n': expected + 1, ':t': Date.now() };
      let set = 'SET #version = :n, #updatedAt = :t';
      if (moveIndex) {
        values[':d'] = dueAt++;
        set += ', #dueAt = :d';
      }
      try {
        await ctx.env.doc.send(
          new UpdateCommand({
            TableName: tableName,
            Key: { pk: `TASK#${taskId('ceiling', i)}`, sk: 'TASK' },
            UpdateExpression: set,
            ConditionExpression: '#version = :v',
            ExpressionAttributeNames: {
              '#version': 'version',
              '#updatedAt': 'updatedAt',
              ...(moveIndex ? { '#dueAt': 'dueAt' } : {}),
            },
            ExpressionAttributeValues: values,
            ReturnConsumedCapacity: 'INDEXES',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        versions[i] = expected + 1;
        if (counting) calls++;
      } catch (error) {
        if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
        // The raw AttributeValue, or already unmarshalled by the document client.
        const stored = (error as { Item?: { version?: { N?: string } | number } }).Item?.version;
        const value = typeof stored === 'number' ? stored : Number(stored?.N);
        if (Number.isFinite(value)) versions[i] = value;
        if (counting) failed++;
      }
    }
  };
  const workers = Array.from({ length: ctx.concurrency }, worker);
  await sleep(warmupMs);
  counting = true;
  const t0 = clockMs();
  const cpu0 = process.cpuUsage();
  await Promise.all(workers);
  const seconds = (clockMs() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    perSec: calls / seconds,
    cpuMsPerCall: (cpu.user + cpu.system) / 1000 / Math.max(1, calls),
    calls,
    failed,
  };
}

export async function runCeiling(ctx: SectionContext): Promise<SectionResult> {
  const started = clockMs();
  const quick = ctx.env.quick;
  const items = quick ? 500 : 4000;
  const warmupMs = quick ? 200 : 1000;
  const durationMs = quick ? 800 : 4000;
  const { tableName } = await freshTable(ctx.env, 'ceiling');
  const inADay = new Date(Date.now() + 86_400_000);
  await seedTasks(
    ctx.env,
    tableName,
    Array.from({ length: items }, (_, i) =>
      benchTask({ id: taskId('ceiling', i), schedule: ONCE_A_YEAR, nextSlotAt: inADay }),
    ),
  );
  // Alternate the two kinds so that load from elsewhere on the machine hits both alike.
  const versions = new Array<number>(items).fill(1);
  const plain: Rate[] = [];
  const moving: Rate[] = [];
  const rounds = quick ? 1 : 2;
  // A cold JVM is several times slower: warm the engine up on this workload first.
  await measure(ctx, tableName, versions, true, quick ? 300 : 6000, 0);
  for (let r = 0; r < rounds; r++) {
    plain.push(await measure(ctx, tableName, versions, false, warmupMs, durationMs / rounds));
    moving.push(await measure(ctx, tableName, versions, true, warmupMs, durationMs / rounds));
  }
  const mean = (rates: Rate[]) => rates.reduce((s, r) => s + r.perSec, 0) / rates.length;
  const plainPerSec = mean(plain);
  const indexMovingPerSec = mean(moving);
  if (!(plainPerSec > 0 && indexMovingPerSec > 0)) {
    throw new Error(`ceiling: no successful write measured (${JSON.stringify({ plain, moving })})`);
  }
  ctx.ceiling = { plainPerSec, indexMovingPerSec };
  ctx.remeasureCeiling = async (ms, moveIndex = false) =>
    (await measure(ctx, tableName, versions, moveIndex, 300, ms)).perSec;
  return {
    durationMs: clockMs() - started,
    figures: [
      {
        section: 'ceiling',
        name: 'conditional UpdateItem (plain)',
        value: round(plainPerSec, 0),
        unit: '/s',
      },
      {
        section: 'ceiling',
        name: 'conditional UpdateItem moving dueAt',
        value: round(indexMovingPerSec, 0),
        unit: '/s',
      },
      {
        section: 'ceiling',
        name: 'client CPU per conditional UpdateItem',
        value: round(mean(plain.map((p) => ({ ...p, perSec: p.cpuMsPerCall }))), 2),
        unit: 'ms',
      },
    ],
    goals: [],
    details: {
      concurrency: ctx.concurrency,
      items,
      measuredMsPerKind: durationMs,
      plain,
      indexMoving: moving,
    },
    notes: [],
  };
}
