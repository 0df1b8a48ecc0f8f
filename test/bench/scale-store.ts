/**
 * A store that behaves like DynamoDB under load, for the scale section: the in-memory store
 * behind a meter that charges every write its units on the partitions DynamoDB would charge
 * (the task's table partition, and the `due` index partition of its shard), refuses a write whose
 * partition has no units left, and adds a request latency. A refused write is retried as the AWS
 * SDK does (exponential backoff with full jitter from 500 ms for throttling, 3 attempts) and then
 * fails with the error the DynamoDB adapter raises (`translateError` of a
 * `ProvisionedThroughputExceededException`: a `StoreUnavailableError`). A batch of saves is charged
 * statement by statement, and a refused statement is sent again on its own, as
 * `dynamo-batch-save.ts` does.
 */
import { fnv1a, shardOf } from '../../src/core/due.js';
import type { TaskState } from '../../src/core/model.js';
import type { RunFence, RunListing, RunOutcome, SaveTaskResult, TaskStore } from '../../src/core/ports.js';
import { attr, taskToItem } from '../../src/store/dynamo-items.js';
import { translateError } from '../../src/store/dynamo-support.js';

/** A token bucket: `rate` units a second, holding at most `burst` units. */
class Bucket {
  private units: number;
  private at = performance.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.units = burst;
  }

  /** Takes `units` if they are there now. */
  take(units: number): boolean {
    const now = performance.now();
    this.units = Math.min(this.burst, this.units + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.units < units) return false;
    this.units -= units;
    return true;
  }
}

export interface PartitionLimits {
  /** Write units a second of one `due` index partition (one shard each). */
  dueIndexPartitionWrites: number;
  /** Base-table partitions, and the write units a second of each. */
  tablePartitions: number;
  tablePartitionWrites: number;
  /** Latency of every request, ms. */
  latencyMs: number;
  /** SDK attempts per request. @default 3 */
  maxAttempts?: number;
}

/** What the meter saw. */
export interface MeterCounts {
  tableUnits: number;
  dueIndexUnits: number;
  throttled: number;
  /** Of which on the `due` index. */
  throttledDueIndex: number;
  /** Requests that failed after every attempt. */
  failed: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The SDK's delay before retry `attempt` (1, 2, ...) of a throttled request: full jitter from 500 ms. */
function backoffMs(attempt: number): number {
  return Math.random() * Math.min(20_000, 500 * 2 ** attempt);
}

/** The partitions of one deployment and their buckets. */
export class PartitionMeter {
  readonly counts: MeterCounts = {
    tableUnits: 0,
    dueIndexUnits: 0,
    throttled: 0,
    throttledDueIndex: 0,
    failed: 0,
  };
  /** When the first and the last due-index write (a dispatch) were charged, ms (performance.now). */
  firstDispatchAt = Number.NaN;
  lastDispatchAt = Number.NaN;
  private readonly table: Bucket[];
  private readonly dueIndex: Bucket[];

  constructor(
    readonly limits: PartitionLimits,
    readonly shardCount: number,
  ) {
    // A partition serves a second of its rate at once (DynamoDB meters it per second).
    const bucket = (rate: number) => new Bucket(rate, Math.max(2, rate));
    this.table = Array.from({ length: limits.tablePartitions }, () => bucket(limits.tablePartitionWrites));
    this.dueIndex = Array.from({ length: shardCount }, () => bucket(limits.dueIndexPartitionWrites));
  }

  /** Charges one write of `taskId`'s items: table units, and due-index units on `shard`. */
  charge(taskId: string, tableUnits: number, due?: { shard: number; units: number }): boolean {
    const partition = this.table[fnv1a(`table:${taskId}`) % this.table.length] as Bucket;
    const index = due && due.units > 0 ? (this.dueIndex[due.shard] as Bucket) : undefined;
    // Both must take: DynamoDB refuses a table write whose index cannot keep up (back-pressure).
    if (index && !index.take(due?.units ?? 0)) {
      this.counts.throttledDueIndex++;
      return this.refuse();
    }
    if (!partition.take(tableUnits)) return this.refuse();
    this.counts.tableUnits += tableUnits;
    this.counts.dueIndexUnits += due?.units ?? 0;
    if (index) {
      const now = performance.now();
      if (Number.isNaN(this.firstDispatchAt)) this.firstDispatchAt = now;
      this.lastDispatchAt = now;
    }
    return true;
  }

  private refuse(): false {
    this.counts.throttled++;
    return false;
  }

  /** One request: latency, the charge, the SDK's retries, then the adapter's error. */
  async request<T>(charge: () => boolean, write: () => Promise<T>): Promise<T> {
    const attempts = this.limits.maxAttempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      await sleep(this.limits.latencyMs);
      if (charge()) return write();
      if (attempt >= attempts) {
        this.counts.failed++;
        throw translateError(
          Object.assign(
            new Error('The level of configured provisioned throughput for the table was exceeded'),
            {
              name: 'ProvisionedThroughputExceededException',
            },
          ),
        );
      }
      await sleep(backoffMs(attempt));
    }
  }
}

/** The `due` index units of a task save: 1 when its index key stays, 2 when it moves, 1 in or out. */
function dueIndexUnits(task: TaskState, shardCount: number): { shard: number; units: number } {
  const item = taskToItem(task, shardCount);
  const next = item[attr.dueAt] as number | undefined;
  const before = task.dueKey?.getTime();
  const units =
    next === undefined && before === undefined
      ? 0
      : next !== undefined && before !== undefined && next !== before
        ? 2
        : 1;
  return { shard: shardOf(task.id, shardCount), units };
}

/**
 * `inner` with every task and run write metered and throttled by `meter`; reads go through
 * with the latency alone.
 */
export function partitionedStore(inner: TaskStore, meter: PartitionMeter): TaskStore {
  const latency = () => sleep(meter.limits.latencyMs);
  const saveOne = (task: TaskState, options: Parameters<TaskStore['saveTask']>[1]) =>
    meter.request(
      () =>
        meter.charge(task.id, 1 + (options.runWrites?.length ?? 0), dueIndexUnits(task, inner.shardCount)),
      () => inner.saveTask(task, options),
    );
  const overrides: Partial<TaskStore> = {
    saveTask: saveOne,
    async saveTasks(saves) {
      await latency();
      return Promise.all(
        saves.map(({ task, expectedVersion }): Promise<SaveTaskResult> => {
          if (meter.charge(task.id, 1, dueIndexUnits(task, inner.shardCount))) {
            return inner.saveTasks([{ task, expectedVersion }]).then((r) => r[0] as SaveTaskResult);
          }
          return saveOne(task, { expectedVersion });
        }),
      );
    },
    claimRun: (claim) =>
      meter.request(
        () => meter.charge(claim.taskId, 1),
        () => inner.claimRun(claim),
      ),
    completeRun: (
      taskId: string,
      runId: string,
      fence: RunFence,
      outcome: RunOutcome,
      listing?: RunListing,
    ) =>
      meter.request(
        () => meter.charge(taskId, 1),
        () => inner.completeRun(taskId, runId, fence, outcome, listing),
      ),
    async queryDue(shard, now, options) {
      await latency();
      return inner.queryDue(shard, now, options);
    },
    async getRuns(keys) {
      await latency();
      return inner.getRuns(keys);
    },
    async getTask(taskId) {
      await latency();
      return inner.getTask(taskId);
    },
    async getTasks(taskIds) {
      await latency();
      return inner.getTasks(taskIds);
    },
  };
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property in overrides) return overrides[property as keyof TaskStore];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
