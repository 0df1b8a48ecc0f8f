/**
 * The scale model of docs/scaling.md: what a burst of due runs costs a Tickwork deployment, and
 * which of AWS's limits bounds how fast it starts. Pure arithmetic over the units and CPU
 * Tickwork measured per run (docs/performance.md) and the limits AWS publishes (cited in
 * docs/scaling.md). The construct checks a declared load with it at synth (`expectedLoad`);
 * `npm run bench -- --only scale` drives the real tick against a throttling store and compares
 * what it sees with {@link assessLoad}.
 */

/** AWS's published limits and defaults (docs/scaling.md, "Limits", names each source). */
export interface AwsLimits {
  /** A DynamoDB partition, of a table or of a global secondary index: write units a second. */
  readonly partitionWriteUnits: number;
  /** A partition's eventually consistent reads: read units a second. */
  readonly partitionReadUnits: number;
  /** The default per-table quota of an on-demand table: write request units a second. */
  readonly tableWriteQuota: number;
  /** A new on-demand table's (or GSI's) warm throughput: writes a second it serves at once. */
  readonly newTableWarmWrites: number;
  /** The account's concurrent executions (Lambda's default quota). */
  readonly lambdaConcurrency: number;
  /** Invoke requests a second per unit of concurrency quota (asynchronous, non-AWS callers). */
  readonly invokesPerConcurrency: number;
  /** New execution environments a function gains a second (1,000 every 10 s). */
  readonly lambdaScaleUpPerSecond: number;
  /** Function memory that buys one vCPU. */
  readonly memoryPerVcpuMb: number;
}

export const awsLimits: AwsLimits = {
  partitionWriteUnits: 1000,
  partitionReadUnits: 3000,
  tableWriteQuota: 40_000,
  newTableWarmWrites: 4000,
  lambdaConcurrency: 1000,
  invokesPerConcurrency: 10,
  lambdaScaleUpPerSecond: 100,
  memoryPerVcpuMb: 1769,
};

/** What Tickwork costs per run, as measured (docs/performance.md, "Cost per run"). */
export interface RunCosts {
  /** Base-table write units: the dispatch's task write, the claim, the completion. */
  readonly tableWriteUnits: number;
  /** `due` index write units of one dispatch: 1 when the key is held (every-minute tasks), else 2. */
  readonly dueIndexWriteUnits: number;
  /** `due` index read units per due task returned (eventually consistent, ~860-byte items). */
  readonly dueIndexReadUnits: number;
  /** The tick's CPU per run at one full vCPU, ms (1.44-2.08 measured; SDK and Invoke included). */
  readonly tickCpuMs: number;
  /**
   * The tick's CPU per dispatch write, ms at one vCPU (a share of `tickCpuMs`): what bounds how
   * fast its write phase, which runs ahead of the invokes, offers writes to the partitions.
   */
  readonly tickWriteCpuMs: number;
  /** Dispatch writes a tick has in flight: 3 batches of 25 (runTick at concurrency 64). */
  readonly writesInFlight: number;
  /** The tick's heap per due task it holds, bytes (an estimate: the item read, its state, its plan). */
  readonly tickHeapBytesPerDue: number;
  /** The tick's heap before it reads anything, MB (the bundle, the SDK clients). */
  readonly tickBaseHeapMb: number;
  /** One Invoke or batch write on AWS, ms: bounds a tick's I/O at `concurrency` in flight. */
  readonly requestLatencyMs: number;
  /** Items of a 1 MB Query page, and the page's latency, ms. */
  readonly itemsPerPage: number;
  readonly pageLatencyMs: number;
  /**
   * The share of a throttled partition's rate the tick still gets: a refused statement is retried
   * alone with the SDK's backoff (from 500 ms) while its batch holds one of the 3 write slots.
   * 0.22: measured by the scale bench (21-25% of the partition's rate past its first second).
   */
  readonly throttledShare: number;
}

export const runCosts: RunCosts = {
  tableWriteUnits: 3,
  dueIndexWriteUnits: 1,
  dueIndexReadUnits: 0.11,
  tickCpuMs: 2.1,
  tickWriteCpuMs: 0.5,
  writesInFlight: 75,
  tickHeapBytesPerDue: 6000,
  tickBaseHeapMb: 90,
  requestLatencyMs: 25,
  itemsPerPage: 1100,
  pageLatencyMs: 30,
  throttledShare: 0.22,
};

/** A load to size for: the worst minute is every due run at the same second. */
export interface ExpectedLoad {
  /** Tasks in the table. */
  readonly tasks: number;
  /** Runs due in the busiest minute, all at its first second. */
  readonly duePerMinute: number;
  /** How long a handler runs, seconds: what its concurrency follows. @default 1 */
  readonly runSeconds?: number;
}

/** The deployment's settings the model checks. */
export interface ScaleSettings {
  readonly shardCount: number;
  readonly tickShardGroups: number;
  readonly tickMemoryMb: number;
  readonly tickTimeoutSeconds: number;
  /** Invokes in flight per tick (runTick's `concurrency`). @default 64 */
  readonly concurrency?: number;
  /** Write units a second the table serves at once (warm throughput). @default a new table's */
  readonly tableWarmWrites?: number;
}

/** How long one bound alone would take to start the burst, seconds. */
export interface BurstBounds {
  /** Reading the due index: the largest shard's pages. */
  readonly read: number;
  /** The `due` index: the largest shard's writes at one partition's rate. */
  readonly dueIndex: number;
  /** The base table: every run's dispatch write at the table's warm throughput. */
  readonly table: number;
  /** The tick's CPU: the largest shard group's runs at its share of a vCPU. */
  readonly tickCpu: number;
  /** The tick's I/O: `concurrency` requests in flight. */
  readonly tickIo: number;
  /** Lambda's Invoke request quota. */
  readonly invokeQuota: number;
}

export interface LoadAssessment {
  readonly bounds: BurstBounds;
  /** Which bound sets the pace of the dispatch. */
  readonly limitedBy: Exclude<keyof BurstBounds, 'read'>;
  /** Tick start to the last run's Invoke accepted: reading, then the slowest bound. */
  readonly burstSeconds: number;
  /** Runs in the largest shard and in the largest shard group. */
  readonly largestShard: number;
  readonly largestGroup: number;
  /** The tick's heap with the largest group's due tasks in hand, MB. */
  readonly tickHeapMb: number;
  /** Handlers running at once at the burst's peak (plus the ticks themselves). */
  readonly concurrency: number;
  /** Base-table write units a second during the burst, on average. */
  readonly tableWritesPerSecond: number;
  /** Base-table write units a second the ticks offer at their peak (write phases ahead of invokes). */
  readonly tableOfferedPerSecond: number;
  /** Dispatch writes a second one tick's write phase offers its shards. */
  readonly tickWriteRate: number;
  /** The partitions the ticks offer more than their rate: they throttle (and retries stall). */
  readonly throttled: ('dueIndex' | 'table')[];
  /** What the settings cannot carry, in words; empty when they carry the load. */
  readonly problems: string[];
  /** What the account must provide beyond the settings (quotas, warm throughput). */
  readonly accountNeeds: string[];
}

/** The tick's own time budget: its timeout less the reserve it keeps (`tickReserveMs`). */
export function tickBudgetSeconds(timeoutSeconds: number): number {
  return timeoutSeconds - Math.min(10, timeoutSeconds / 6);
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function boundsOf(load: ExpectedLoad, s: ScaleSettings, costs: RunCosts, limits: AwsLimits) {
  const due = load.duePerMinute;
  const largestShard = due / s.shardCount;
  const shardsPerGroup = Math.ceil(s.shardCount / s.tickShardGroups);
  const largestGroup = (due * shardsPerGroup) / s.shardCount;
  const cpuShare = Math.min(1, s.tickMemoryMb / limits.memoryPerVcpuMb);
  const warm = Math.min(s.tableWarmWrites ?? limits.newTableWarmWrites, limits.tableWriteQuota);
  const pages = Math.ceil(largestShard / costs.itemsPerPage);
  const tickCpu = (largestGroup * costs.tickCpuMs) / 1000 / cpuShare;
  const tickIo = (largestGroup * costs.requestLatencyMs) / 1000 / (s.concurrency ?? 64);
  // What each tick offers, unthrottled: its write phase runs ahead of its invokes, bounded by the
  // writes it has in flight and its CPU; the claims and completions follow at its invoke rate.
  const tickRate = largestGroup / Math.max(tickCpu, tickIo);
  const writeRate = Math.min(
    costs.writesInFlight / (costs.requestLatencyMs / 1000),
    cpuShare / (costs.tickWriteCpuMs / 1000),
  );
  // A partition serves a second of its rate at once; past that, what it is offered faster than
  // its rate is refused, and the tick gets only `throttledShare` of the rate (the SDK's backoff).
  const throttled: ('dueIndex' | 'table')[] = [];
  const shardUnits = largestShard * costs.dueIndexWriteUnits;
  const perShard = (writeRate / shardsPerGroup) * costs.dueIndexWriteUnits;
  if (perShard > limits.partitionWriteUnits && shardUnits > limits.partitionWriteUnits)
    throttled.push('dueIndex');
  // The table throttles when the ticks' writes, the claims and the completions together outrun it;
  // before the last Invoke is accepted only the dispatches must have landed (the claims and
  // completions follow the invokes, on the same partitions).
  const dispatchUnits = due;
  const tableOffered = s.tickShardGroups * (writeRate + tickRate * (costs.tableWriteUnits - 1));
  if (tableOffered > warm && due * costs.tableWriteUnits > warm) throttled.push('table');
  const paced = (units: number, rate: number, bound: 'dueIndex' | 'table') =>
    throttled.includes(bound) && units > rate
      ? 1 + (units - rate) / (rate * costs.throttledShare)
      : units / rate;
  const bounds: BurstBounds = {
    read: Math.max(
      (largestShard * costs.dueIndexReadUnits) / limits.partitionReadUnits,
      (pages * costs.pageLatencyMs) / 1000,
    ),
    dueIndex: paced(shardUnits, limits.partitionWriteUnits, 'dueIndex'),
    table: paced(dispatchUnits, warm, 'table'),
    tickCpu,
    tickIo,
    invokeQuota: due / (limits.lambdaConcurrency * limits.invokesPerConcurrency),
  };
  return { bounds, largestShard, largestGroup, warm, throttled, tableOffered, writeRate };
}

/** What the settings cannot carry, and what the account must provide, in words. */
function findings(
  load: ExpectedLoad,
  settings: ScaleSettings,
  limits: AwsLimits,
  a: {
    burstSeconds: number;
    paced: string;
    throttled: ('dueIndex' | 'table')[];
    tickHeapMb: number;
    warm: number;
    tableNeed: number;
    concurrency: number;
  },
): { problems: string[]; accountNeeds: string[] } {
  const due = load.duePerMinute.toLocaleString('en-US');
  const budget = tickBudgetSeconds(settings.tickTimeoutSeconds);
  const problems: string[] = [];
  if (a.burstSeconds > budget) {
    problems.push(
      `starting ${due} due runs takes ~${round1(a.burstSeconds)} s (paced by ${a.paced}), ` +
        `beyond the tick's budget of ${round1(budget)} s: the rest waits a minute`,
    );
  }
  if (a.burstSeconds > 60 && a.burstSeconds <= budget) {
    problems.push(
      `starting ${due} due runs takes ~${round1(a.burstSeconds)} s, longer than the minute between ticks: ` +
        'every-minute slots are skipped',
    );
  }
  if (a.throttled.includes('dueIndex')) {
    problems.push(
      `the ticks write the due index faster than a partition takes (${limits.partitionWriteUnits} units/s per shard): ` +
        'it throttles; add shards',
    );
  }
  if (a.tickHeapMb > settings.tickMemoryMb * 0.8) {
    problems.push(
      `a tick holds ~${Math.round(a.tickHeapMb)} MB of due tasks and state, over 80% of its ${settings.tickMemoryMb} MB`,
    );
  }
  if (a.throttled.includes('table')) {
    problems.push(
      `the burst writes the table faster than its warm throughput (${a.warm} units/s): dispatches, claims and ` +
        'completions throttle, and a claim that fails leaves its run to time out',
    );
  }
  const accountNeeds: string[] = [];
  if (a.tableNeed > limits.newTableWarmWrites) {
    accountNeeds.push(
      `table warm throughput of ${a.tableNeed} write units/s (a new on-demand table takes ${limits.newTableWarmWrites} at once: pre-warm it)`,
    );
  }
  if (a.tableNeed > limits.tableWriteQuota) {
    accountNeeds.push(`a per-table write quota above ${limits.tableWriteQuota} units/s`);
  }
  if (a.concurrency > limits.lambdaConcurrency) {
    accountNeeds.push(`Lambda concurrency of ${a.concurrency} (default quota ${limits.lambdaConcurrency})`);
  }
  return { problems, accountNeeds };
}

/**
 * What a burst of `load.duePerMinute` runs, all due at the same second, takes under `settings`:
 * each bound alone, the one that sets the pace, the burst's duration, the tick's heap and the
 * concurrency, and what the settings cannot carry.
 */
export function assessLoad(
  load: ExpectedLoad,
  settings: ScaleSettings,
  costs: RunCosts = runCosts,
  limits: AwsLimits = awsLimits,
): LoadAssessment {
  const { bounds, largestShard, largestGroup, warm, throttled, tableOffered, writeRate } = boundsOf(
    load,
    settings,
    costs,
    limits,
  );
  const paced = (['dueIndex', 'table', 'tickCpu', 'tickIo', 'invokeQuota'] as const).reduce((a, b) =>
    bounds[b] > bounds[a] ? b : a,
  );
  const burstSeconds = bounds.read + bounds[paced];
  const tickHeapMb = costs.tickBaseHeapMb + (largestGroup * costs.tickHeapBytesPerDue) / 2 ** 20;
  const runSeconds = load.runSeconds ?? 1;
  const handlers = Math.min(load.duePerMinute, Math.ceil((load.duePerMinute * runSeconds) / burstSeconds));
  const concurrency = handlers + settings.tickShardGroups;
  const tableWritesPerSecond = (load.duePerMinute * costs.tableWriteUnits) / burstSeconds;
  const { problems, accountNeeds } = findings(load, settings, limits, {
    burstSeconds,
    paced,
    throttled,
    tickHeapMb,
    warm,
    tableNeed: Math.ceil(Math.max(tableWritesPerSecond, tableOffered)),
    concurrency,
  });
  return {
    bounds,
    limitedBy: paced,
    burstSeconds,
    largestShard,
    largestGroup,
    tickHeapMb,
    concurrency,
    tableWritesPerSecond,
    tableOfferedPerSecond: tableOffered,
    tickWriteRate: writeRate,
    throttled,
    problems,
    accountNeeds,
  };
}

/**
 * The smallest settings that start `load`'s burst within `targetSeconds` with a 1,769 MB tick
 * (one vCPU), the table pre-warmed to what the burst writes: shards first (the due index's
 * partitions at 80% of their rate), then shard groups (the ticks' CPU).
 */
export function recommendSettings(
  load: ExpectedLoad,
  targetSeconds = 15,
  costs: RunCosts = runCosts,
  limits: AwsLimits = awsLimits,
): ScaleSettings & { assessment: LoadAssessment } {
  const due = load.duePerMinute;
  const tickMemoryMb = limits.memoryPerVcpuMb;
  const perShard = 0.8 * limits.partitionWriteUnits * targetSeconds;
  let shardCount = Math.ceil((due * costs.dueIndexWriteUnits) / perShard);
  let tickShardGroups = Math.ceil((due * costs.tickCpuMs) / 1000 / (targetSeconds * 0.8));
  // A tick's write phase offers its shards up to this many writes a second: enough shards per
  // group that none is offered more than 80% of a partition.
  const writeRate = Math.min(
    costs.writesInFlight / (costs.requestLatencyMs / 1000),
    1000 / costs.tickWriteCpuMs,
  );
  const shardsPerGroup = Math.ceil(
    (writeRate * costs.dueIndexWriteUnits) / (0.8 * limits.partitionWriteUnits),
  );
  tickShardGroups = Math.min(Math.floor(64 / shardsPerGroup), Math.max(1, tickShardGroups));
  shardCount = Math.min(64, Math.max(shardCount, tickShardGroups * shardsPerGroup));
  // Deal shards evenly: a shard count that is a multiple of the groups.
  shardCount = Math.floor(shardCount / tickShardGroups) * tickShardGroups;
  const settings = { shardCount, tickShardGroups, tickMemoryMb, tickTimeoutSeconds: 60 };
  // The table warm enough for what the ticks offer at their peak (a new table's at least).
  const unbounded = { ...limits, tableWriteQuota: Number.POSITIVE_INFINITY };
  const offered = assessLoad(
    load,
    { ...settings, tableWarmWrites: Number.POSITIVE_INFINITY },
    costs,
    unbounded,
  );
  const tableWarmWrites = Math.max(limits.newTableWarmWrites, Math.ceil(offered.tableOfferedPerSecond * 1.1));
  // Above the default per-table quota, the quota is raised (it is adjustable): say so.
  const raised = { ...limits, tableWriteQuota: Math.max(limits.tableWriteQuota, tableWarmWrites) };
  const warmed = { ...settings, tableWarmWrites };
  const assessment = assessLoad(load, warmed, costs, raised);
  if (tableWarmWrites > limits.tableWriteQuota) {
    assessment.accountNeeds.push(
      `a per-table write quota of ${tableWarmWrites} units/s (default ${limits.tableWriteQuota})`,
    );
  }
  return { ...warmed, assessment };
}
