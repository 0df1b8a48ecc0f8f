/**
 * Benchmark plumbing: DynamoDB clients and tables, fast seeding, tick dependencies and small
 * statistics helpers. No measurement lives here (capacity metering: `capacity.ts`).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { LambdaTaskInvoker } from '../../src/aws/lambda-invoker.js';
import { withoutSdkLogging } from '../../src/aws/sdk-clients.js';
import type { TaskState } from '../../src/core/model.js';
import type { Clock, InvokeResult, RunEvent, TaskInvoker, TaskStore } from '../../src/core/ports.js';
import { newId } from '../../src/ids.js';
import { taskToItem } from '../../src/store/dynamo-items.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { ensureTable } from '../../src/store/table-definition.js';
import { TaskTypeRegistry } from '../../src/tick/registry.js';
import type { TickDeps } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import type { CapacityMeter } from './capacity.js';

export const TASK_TYPE = 'bench.noop';
export const FUNCTION_NAME = 'bench-noop';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';

/** Everything a section needs to reach the engine and the stub Lambda endpoint. */
export interface BenchEnv {
  dynamoEndpoint: string;
  lambdaEndpoint: string;
  /** One DynamoDB client per benchmark, default HTTP settings (as `functions/tick.ts` builds it). */
  client: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  /** Capacity of every call through `client` (and `doc`), per table. */
  meter: CapacityMeter;
  /** The DynamoDB Local process, when the benchmark started it (for its CPU time). */
  enginePid?: number;
  quick: boolean;
  log: (line: string) => void;
}

/**
 * A DynamoDB client for the local engine with the SDK's default HTTP handler (50 sockets) and no
 * logger middleware, as the functions build theirs (`withoutSdkLogging`).
 */
export function makeDynamoClient(endpoint: string): DynamoDBClient {
  return withoutSdkLogging(new DynamoDBClient({ endpoint, region, credentials, maxAttempts: 3 }));
}

/** The real Lambda adapter, pointed at the stub endpoint. */
export function makeInvoker(lambdaEndpoint: string): LambdaTaskInvoker {
  return new LambdaTaskInvoker(
    withoutSdkLogging(new LambdaClient({ endpoint: lambdaEndpoint, region, credentials })),
  );
}

/** A fresh table `bench-<name>-<ulid>` with the task type registered, and a store on it. */
export async function freshTable(
  env: BenchEnv,
  name: string,
): Promise<{ tableName: string; store: DynamoTaskStore }> {
  const tableName = `bench-${name}-${newId().toLowerCase()}`;
  await ensureTable(env.client, tableName);
  const store = new DynamoTaskStore({ client: env.doc, tableName });
  await store.putTaskType({ name: TASK_TYPE, functionName: FUNCTION_NAME });
  env.meter.reset(tableName);
  return { tableName, store };
}

export const systemClock: Clock = { now: () => new Date() };

/** The tick's dependencies, with the registry loaded as at a cold start. */
export async function tickDeps(
  store: TaskStore,
  invoker: TaskInvoker,
  clock: Clock = systemClock,
): Promise<TickDeps> {
  const registry = new TaskTypeRegistry(store, clock);
  await registry.refresh();
  return { store, invoker, clock, registry, newRunId: newId };
}

/** A task like one an administrator creates with the defaults (bench-local builder). */
export function benchTask(overrides: Partial<TaskState> & { id: string }): TaskState {
  const now = new Date();
  const task = aTask({
    name: 'Benchmark task',
    type: TASK_TYPE,
    parameters: { bucket: 'acme-reports', prefix: 'daily/' },
    description: 'A task of realistic size for the benchmark',
    createdAt: now,
    updatedAt: now,
    ...overrides,
  });
  // The builder's slot is a fixed test instant; a benchmark task has one only when it says so.
  if (!('nextSlotAt' in overrides)) delete task.nextSlotAt;
  return task;
}

/** A schedule whose next slot after any instant is months away: a due task is due exactly once. */
export const ONCE_A_YEAR = '0 0 1 1 *';

/** Task ids `<prefix>-000000`... */
export function taskId(prefix: string, i: number): string {
  return `${prefix}-${String(i).padStart(6, '0')}`;
}

/**
 * Writes tasks straight into the table with BatchWriteItem (25 a request, `concurrency` at once),
 * bypassing `createTask`: seeding is not measured, only made fast.
 */
export async function seedTasks(
  env: BenchEnv,
  tableName: string,
  tasks: Iterable<TaskState>,
  options: { shardCount?: number; concurrency?: number } = {},
): Promise<number> {
  const limit = pLimit(options.concurrency ?? 8);
  const pending: Promise<void>[] = [];
  let batch: Record<string, unknown>[] = [];
  let count = 0;
  const flush = (items: Record<string, unknown>[]) =>
    limit(async () => {
      let requests = { [tableName]: items.map((Item) => ({ PutRequest: { Item } })) };
      for (let attempt = 0; attempt < 20; attempt++) {
        const out = await env.doc.send(new BatchWriteCommand({ RequestItems: requests }));
        const left = out.UnprocessedItems?.[tableName];
        if (!left || left.length === 0) return;
        requests = { [tableName]: left as (typeof requests)[string] };
        await sleep(20 * (attempt + 1));
      }
      throw new Error('seeding: DynamoDB Local kept items unprocessed');
    });
  for (const task of tasks) {
    batch.push(taskToItem(task, options.shardCount ?? 4));
    count++;
    if (batch.length === 25) {
      pending.push(flush(batch));
      batch = [];
    }
    // Keep memory flat for 100,000 tasks: wait when many batches are queued.
    if (pending.length >= 400) {
      await Promise.all(pending);
      pending.length = 0;
    }
  }
  if (batch.length > 0) pending.push(flush(batch));
  await Promise.all(pending);
  return count;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * CPU time (user + system) another process has used so far, in ms, from Linux's `/proc`;
 * undefined where that cannot be read (another OS, or no such process).
 */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th,
    // in clock ticks of 10 ms (Linux reports /proc times in USER_HZ, which is 100).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Milliseconds since an arbitrary origin, monotonic. */
export const clockMs = (): number => performance.now();

/** Notes when each invoke was accepted, by `clock` (default {@link clockMs}). */
export class TimedInvoker implements TaskInvoker {
  readonly acceptedAt: number[] = [];
  constructor(
    private readonly inner: TaskInvoker,
    private readonly clock: () => number = clockMs,
  ) {}
  async invoke(functionName: string, event: RunEvent): Promise<InvokeResult> {
    const result = await this.inner.invoke(functionName, event);
    if (result.accepted) this.acceptedAt.push(this.clock());
    return result;
  }
}

/** Nearest-rank percentile of a sample (0 < p <= 100); NaN for an empty one. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Rounds for display and JSON: 3 significant decimals at most. */
export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The document client the store would build, shared by sections that talk to the table directly. */
export function makeDoc(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
