/**
 * Prototypes of tick changes, measured against `runTick` in the same run (not production code):
 *
 * - `streamed`: dispatch each page of the due index as it arrives (pages of 100) instead of
 *   reading every shard to the end first; the same `dispatchTask` per task.
 * - `streamed+async-invoke`: also takes the Invoke out of the write slot: the compare-and-set
 *   slot is freed as soon as the write is done and invokes run in their own pool. (A real
 *   version must record a failed invoke afterwards, as `recordFailedStart` does now.)
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import type { RunRecord, TaskState } from '../../src/core/model.js';
import type { InvokeResult, RunEvent, TaskInvoker } from '../../src/core/ports.js';
import { taskFromItem } from '../../src/store/dynamo-items.js';
import type { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { tableDefinition } from '../../src/store/table-definition.js';
import { dispatchTask, runTick } from '../../src/tick/run-tick.js';
import type { SectionContext } from './context.js';
import {
  benchTask,
  clockMs,
  freshTable,
  makeInvoker,
  ONCE_A_YEAR,
  seedTasks,
  taskId,
  tickDeps,
} from './harness.js';

export type Variant = 'runTick' | 'streamed' | 'streamed+async-invoke';

/** Accepts at once and invokes in its own pool; `settle()` waits for every real invoke. */
class AsyncInvoker implements TaskInvoker {
  private readonly limit = pLimit(64);
  private readonly inflight: Promise<InvokeResult>[] = [];
  constructor(private readonly inner: TaskInvoker) {}
  async invoke(functionName: string, event: RunEvent): Promise<InvokeResult> {
    this.inflight.push(this.limit(() => this.inner.invoke(functionName, event)));
    return { accepted: true };
  }
  async settle(): Promise<number> {
    const results = await Promise.all(this.inflight);
    return results.filter((r) => !r.accepted).length;
  }
}

async function streamedTick(
  ctx: SectionContext,
  store: DynamoTaskStore,
  tableName: string,
  invoker: TaskInvoker,
): Promise<number> {
  const deps = await tickDeps(store, invoker);
  const now = new Date();
  const limit = pLimit(ctx.concurrency);
  let started = 0;
  const dispatches: Promise<void>[] = [];
  const shard = async (s: number) => {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ctx.env.doc.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: tableDefinition.dueIndex.indexName,
          KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
          ExpressionAttributeNames: { '#shard': 'dueShard', '#dueAt': 'dueAt' },
          ExpressionAttributeValues: { ':shard': String(s), ':now': now.getTime() },
          ExclusiveStartKey: start,
          Limit: 100,
        }),
      );
      const tasks: TaskState[] = (out.Items ?? []).map(taskFromItem);
      const keys = tasks.flatMap((t) => t.active.map((a) => ({ taskId: t.id, runId: a.runId })));
      const runs: ReadonlyMap<string, RunRecord> = keys.length ? (await store.getRuns(keys)).runs : new Map();
      for (const task of tasks) {
        dispatches.push(
          limit(async () => {
            const outcome = await dispatchTask(deps, task, runs, now);
            started += outcome.counts.started;
          }),
        );
      }
      start = out.LastEvaluatedKey;
    } while (start);
  };
  await Promise.all(Array.from({ length: store.shardCount }, (_, s) => shard(s)));
  await Promise.all(dispatches);
  return started;
}

/** Seeds `count` due tasks and measures one variant draining them: runs started per second. */
export async function measureVariant(
  ctx: SectionContext,
  variant: Variant,
  count: number,
): Promise<{ variant: Variant; due: number; started: number; wallMs: number; runsPerSec: number }> {
  const { tableName, store } = await freshTable(ctx.env, `proto-${count}`);
  const dueAt = new Date(Date.now() - 1000);
  await seedTasks(
    ctx.env,
    tableName,
    Array.from({ length: count }, (_, i) =>
      benchTask({ id: taskId('due', i), schedule: ONCE_A_YEAR, nextSlotAt: dueAt }),
    ),
  );
  ctx.stub.reset();
  ctx.stub.latencyMs = 20;
  const real = makeInvoker(ctx.env.lambdaEndpoint);
  const t0 = clockMs();
  let started: number;
  if (variant === 'runTick') {
    started = (await runTick(await tickDeps(store, real), { concurrency: ctx.concurrency })).started;
  } else if (variant === 'streamed') {
    started = await streamedTick(ctx, store, tableName, real);
  } else {
    const invoker = new AsyncInvoker(real);
    started = await streamedTick(ctx, store, tableName, invoker);
    started -= await invoker.settle();
  }
  const wallMs = clockMs() - t0;
  return { variant, due: count, started, wallMs, runsPerSec: started / (wallMs / 1000) };
}
