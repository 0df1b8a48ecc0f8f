/**
 * The scale model of docs/scaling.md: what a burst of due runs costs a Tickwork deployment, and
 * which of AWS's limits bounds it. Pure arithmetic over the units and CPU Tickwork measured per
 * run (docs/performance.md) and the limits AWS publishes (cited in docs/scaling.md).
 *
 * The tick looks ahead (docs/architecture.md, "Look-ahead"): it reads the due index up to 2 s into
 * the minute after next, writes each lease ahead of its slot and invokes each run at its instant.
 * So a burst has two phases, sized separately: the **lease phase** (the due-index read and the
 * conditional writes), which must be over before the slot, within the lead the earliest tick has;
 * and the **start at the slot** (the invokes alone), which is the lateness users see.
 *
 * The construct checks a declared load with it at synth (`expectedLoad`); `npm run bench -- --only
 * scale` drives the real tick against a throttling store and compares what it sees with
 * {@link assessLoad}.
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
  /** Lambda's price per GB-second on arm64, USD (a list price; check the current one). */
  readonly lambdaGbSecondUsd: number;
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
  lambdaGbSecondUsd: 0.0000133334,
};

/** What Tickwork costs per run, as measured (docs/performance.md, "Cost per run"). */
export interface RunCosts {
  /** Base-table write units: the dispatch's task write, the claim, the completion. */
  readonly tableWriteUnits: number;
  /** Of `tableWriteUnits`, those the lease takes ahead of the slot (the dispatch's task write). */
  readonly leaseTableWriteUnits: number;
  /** `due` index write units of one dispatch: 1 when the key is held (every-minute tasks), else 2. */
  readonly dueIndexWriteUnits: number;
  /** `due` index read units per due task returned (eventually consistent, ~860-byte items). */
  readonly dueIndexReadUnits: number;
  /**
   * The tick's CPU per run in its lease phase, ms at one vCPU: the read, the plan, the batched
   * conditional write. The measured 1.44-2.08 ms per run (taken as 2.1) less the Invoke's part.
   */
  readonly tickLeaseCpuMs: number;
  /** The tick's CPU per run at the slot, ms at one vCPU: the Invoke (the SDK's ~0.8 ms a call). */
  readonly tickInvokeCpuMs: number;
  /** Dispatch writes a tick has in flight: 3 batches of 25 (runTick at concurrency 64). */
  readonly writesInFlight: number;
  /** The tick's heap per leased run it holds until its instant, bytes (an estimate: the item read, its state, its plan). */
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
  leaseTableWriteUnits: 1,
  dueIndexWriteUnits: 1,
  dueIndexReadUnits: 0.11,
  tickLeaseCpuMs: 1.3,
  tickInvokeCpuMs: 0.8,
  writesInFlight: 75,
  tickHeapBytesPerDue: 6000,
  tickBaseHeapMb: 90,
  requestLatencyMs: 25,
  itemsPerPage: 1100,
  pageLatencyMs: 30,
  throttledShare: 0.22,
};

/** The tick's cadence and window (the construct's `TICK_INTERVAL` and `TICK_LOOKAHEAD`). */
export interface TickDesign {
  /** How often each shard group's tick fires (EventBridge Scheduler, anywhere in its minute). */
  readonly intervalSeconds: number;
  /** How far each tick plans, from the start of the interval it fired in. */
  readonly lookAheadSeconds: number;
}

export const tickDesign: TickDesign = { intervalSeconds: 60, lookAheadSeconds: 122 };

/**
 * The lead the earliest tick has before a slot at the first seconds of a minute: the earliest
 * window that reaches the slot belongs to the tick of `floor(lookAhead / interval)` intervals
 * before, which may fire as late as the end of its interval. 60 s for a 122 s look-ahead on a
 * one-minute tick; 0 when the window does not reach past the next interval.
 */
export function leaseLeadSeconds(design: TickDesign = tickDesign): number {
  return (
    Math.max(0, Math.floor(design.lookAheadSeconds / design.intervalSeconds) - 1) * design.intervalSeconds
  );
}

/** The lease phase must be over within this: 60 s (see {@link leaseLeadSeconds}). */
export const LEASE_LEAD_SECONDS = leaseLeadSeconds();

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
  /** The tick's cadence and window. @default {@link tickDesign} */
  readonly design?: TickDesign;
  /** The lease phase's deadline, seconds. @default the lead the design gives ({@link leaseLeadSeconds}) */
  readonly leadSeconds?: number;
}

/** How long the lease phase would take under one bound alone, seconds. */
export interface LeaseBounds {
  /** Reading the due index: the largest shard's pages. */
  readonly read: number;
  /** The `due` index: the largest shard's writes at one partition's rate. */
  readonly dueIndex: number;
  /** The base table: every lease's write at the table's warm throughput. */
  readonly table: number;
  /** The tick's CPU: the largest group's leases at its share of a vCPU. */
  readonly tickCpu: number;
  /** The tick's I/O: its batch writes in flight. */
  readonly tickIo: number;
}

/** How long the start at the slot would take under one bound alone, seconds. */
export interface StartBounds {
  /** The tick's CPU: the largest group's invokes at its share of a vCPU. */
  readonly tickCpu: number;
  /** The tick's I/O: `concurrency` invokes in flight. */
  readonly tickIo: number;
  /** Lambda's Invoke request quota. */
  readonly invokeQuota: number;
}

export interface LeasePhase {
  readonly bounds: LeaseBounds;
  /** Which bound sets the pace of the writes. */
  readonly limitedBy: Exclude<keyof LeaseBounds, 'read'>;
  /** The tick's start to its last lease written: reading, then the slowest bound. */
  readonly seconds: number;
  /** What it must fit in: the earliest tick's lead before the slot. */
  readonly leadSeconds: number;
  readonly fits: boolean;
  /** Lease writes a second one tick offers its shards. */
  readonly writeRate: number;
}

export interface SlotStart {
  readonly bounds: StartBounds;
  readonly limitedBy: keyof StartBounds;
  /** The slot to the last run's Invoke accepted. */
  readonly seconds: number;
  /** The slot to the 99th percentile run's Invoke accepted (the invokes leave evenly). */
  readonly p99Seconds: number;
}

export interface TickFigures {
  /** The heap with the largest group's leased runs held until their instant, MB. */
  readonly heapMb: number;
  /**
   * The tick's life: its window (it waits for its last instant), then its last instant's invokes.
   * It does not follow an every-minute task into its window's last 2 s (`followMarginMs`): the
   * next tick plans that slot.
   */
  readonly durationSeconds: number;
  /** Its timeout less the reserve it keeps. */
  readonly budgetSeconds: number;
  /** Ticks alive at once: each group's, one a minute, each living `durationSeconds`. */
  readonly alive: number;
  /** What the ticks cost a month: GB-seconds (43,800 minutes), and USD at the arm64 list price. */
  readonly gbSecondsPerMonth: number;
  readonly usdPerMonth: number;
}

export interface LoadAssessment {
  readonly lease: LeasePhase;
  readonly start: SlotStart;
  readonly tick: TickFigures;
  /** Runs in the largest shard and in the largest shard group. */
  readonly largestShard: number;
  readonly largestGroup: number;
  /** Handlers running at once at the burst's peak plus the ticks alive. */
  readonly concurrency: number;
  /** Base-table write units a second the ticks and the handlers offer at their peak. */
  readonly tableWritesPerSecond: number;
  /** The partitions the lease phase offers more than their rate: they throttle (and retries stall). */
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

/**
 * The window a tick plans: the design's look-ahead, cut to its budget less 3 s (the tick
 * handler's `lookAheadMs`), so a short timeout shortens the lead.
 */
function effectiveDesign(s: ScaleSettings): TickDesign {
  const design = s.design ?? tickDesign;
  const budget = tickBudgetSeconds(s.tickTimeoutSeconds);
  return { ...design, lookAheadSeconds: Math.max(0, Math.min(design.lookAheadSeconds, budget - 3)) };
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The shape of the deployment: the largest shard and group, the tick's CPU share, the table. */
function shapeOf(load: ExpectedLoad, s: ScaleSettings, limits: AwsLimits) {
  const due = load.duePerMinute;
  const shardsPerGroup = Math.ceil(s.shardCount / s.tickShardGroups);
  return {
    due,
    largestShard: due / s.shardCount,
    shardsPerGroup,
    largestGroup: (due * shardsPerGroup) / s.shardCount,
    cpuShare: Math.min(1, s.tickMemoryMb / limits.memoryPerVcpuMb),
    warm: Math.min(s.tableWarmWrites ?? limits.newTableWarmWrites, limits.tableWriteQuota),
  };
}

type Shape = ReturnType<typeof shapeOf>;

/** The invokes at the slot: each group's tick sends its share at once, at its CPU's pace. */
function slotStart(shape: Shape, s: ScaleSettings, costs: RunCosts, limits: AwsLimits): SlotStart {
  const bounds: StartBounds = {
    tickCpu: (shape.largestGroup * costs.tickInvokeCpuMs) / 1000 / shape.cpuShare,
    tickIo: (shape.largestGroup * costs.requestLatencyMs) / 1000 / (s.concurrency ?? 64),
    invokeQuota: shape.due / (limits.lambdaConcurrency * limits.invokesPerConcurrency),
  };
  const limitedBy = (['tickIo', 'invokeQuota'] as const).reduce<keyof StartBounds>(
    (a, b) => (bounds[b] > bounds[a] ? b : a),
    'tickCpu',
  );
  const seconds = bounds[limitedBy];
  return { bounds, limitedBy, seconds, p99Seconds: seconds * 0.99 };
}

/**
 * The lease phase: the read, then the conditional writes, bounded by the tick's CPU and writes in
 * flight, the `due` index partitions and the table. A partition serves a second of its rate at
 * once; past that, what it is offered faster than its rate is refused, and the tick gets only
 * `throttledShare` of the rate (the SDK's backoff).
 */
function leasePhase(shape: Shape, s: ScaleSettings, costs: RunCosts, limits: AwsLimits, slotRate: number) {
  const { due, largestShard, largestGroup, cpuShare, warm } = shape;
  const writeRate = Math.min(
    costs.writesInFlight / (costs.requestLatencyMs / 1000),
    cpuShare / (costs.tickLeaseCpuMs / 1000),
  );
  const throttled: ('dueIndex' | 'table')[] = [];
  const shardUnits = largestShard * costs.dueIndexWriteUnits;
  const perShard = (writeRate / shape.shardsPerGroup) * costs.dueIndexWriteUnits;
  if (perShard > limits.partitionWriteUnits && shardUnits > limits.partitionWriteUnits)
    throttled.push('dueIndex');
  // The table throttles when the leases, and the claims and completions of a burst at its slot (the
  // last minute's, which may coincide), together outrun its warm throughput.
  const slotUnits = costs.tableWriteUnits - costs.leaseTableWriteUnits;
  const tableOffered = s.tickShardGroups * (writeRate * costs.leaseTableWriteUnits + slotRate * slotUnits);
  if (tableOffered > warm && due * costs.tableWriteUnits > warm) throttled.push('table');
  const paced = (units: number, rate: number, bound: 'dueIndex' | 'table') =>
    throttled.includes(bound) && units > rate
      ? 1 + (units - rate) / (rate * costs.throttledShare)
      : units / rate;
  const pages = Math.ceil(largestShard / costs.itemsPerPage);
  const bounds: LeaseBounds = {
    read: Math.max(
      (largestShard * costs.dueIndexReadUnits) / limits.partitionReadUnits,
      (pages * costs.pageLatencyMs) / 1000,
    ),
    dueIndex: paced(shardUnits, limits.partitionWriteUnits, 'dueIndex'),
    table: paced(due * costs.leaseTableWriteUnits, warm, 'table'),
    tickCpu: (largestGroup * costs.tickLeaseCpuMs) / 1000 / cpuShare,
    tickIo: (largestGroup * costs.requestLatencyMs) / 1000 / costs.writesInFlight,
  };
  const limitedBy = (['table', 'tickCpu', 'tickIo'] as const).reduce<LeasePhase['limitedBy']>(
    (a, b) => (bounds[b] > bounds[a] ? b : a),
    'dueIndex',
  );
  const seconds = bounds.read + bounds[limitedBy];
  return { bounds, limitedBy, seconds, writeRate, throttled, tableOffered };
}

/** The tick's heap, life and cost: it holds its window's runs and lives until its last instant. */
function tickFigures(shape: Shape, s: ScaleSettings, costs: RunCosts, limits: AwsLimits, start: SlotStart) {
  const design = effectiveDesign(s);
  // Fired at its interval's first second, a tick waits the whole window and invokes its last
  // instant's runs.
  const durationSeconds = design.lookAheadSeconds + start.seconds;
  const gbSecondsPerMonth =
    s.tickShardGroups * durationSeconds * (s.tickMemoryMb / 1024) * ((43_800 * 60) / design.intervalSeconds);
  const tick: TickFigures = {
    heapMb: costs.tickBaseHeapMb + (shape.largestGroup * costs.tickHeapBytesPerDue) / 2 ** 20,
    durationSeconds,
    budgetSeconds: tickBudgetSeconds(s.tickTimeoutSeconds),
    alive: s.tickShardGroups * Math.ceil(durationSeconds / design.intervalSeconds),
    gbSecondsPerMonth,
    usdPerMonth: gbSecondsPerMonth * limits.lambdaGbSecondUsd,
  };
  return tick;
}

/** What the settings cannot carry, in words. */
function problemsOf(
  load: ExpectedLoad,
  settings: ScaleSettings,
  limits: AwsLimits,
  a: Pick<LoadAssessment, 'lease' | 'start' | 'tick' | 'throttled'> & { warm: number },
): string[] {
  const due = fmt(load.duePerMinute);
  const { lease, start, tick } = a;
  const problems: string[] = [];
  const design = settings.design ?? tickDesign;
  const window = effectiveDesign(settings).lookAheadSeconds;
  if (window < design.lookAheadSeconds) {
    problems.push(
      `a ${settings.tickTimeoutSeconds} s tick timeout cuts the tick's look-ahead to ${round1(window)} s of the ` +
        `${design.lookAheadSeconds} s it needs (the tick waits for its last instant): the slots past it are not leased ahead`,
    );
  }
  if (!lease.fits) {
    problems.push(
      `leasing ${due} due runs ahead takes ~${round1(lease.seconds)} s (paced by ${lease.limitedBy}), more than the ` +
        `${round1(lease.leadSeconds)} s a tick has before their slot: the runs not leased in time start late`,
    );
  }
  if (start.seconds > design.intervalSeconds) {
    problems.push(
      `invoking ${due} runs at their slot takes ~${round1(start.seconds)} s (paced by ${start.limitedBy}), ` +
        'longer than the minute between slots: every-minute slots are skipped',
    );
  }
  if (tick.durationSeconds > tick.budgetSeconds) {
    problems.push(
      `a tick lives ~${round1(tick.durationSeconds)} s (its window, then ~${round1(start.seconds)} s ` +
        `of invokes at its end), beyond its budget of ${round1(tick.budgetSeconds)} s: it is cut off`,
    );
  }
  if (a.throttled.includes('dueIndex')) {
    problems.push(
      `the ticks write the due index faster than a partition takes (${limits.partitionWriteUnits} units/s per shard): ` +
        'it throttles; add shards',
    );
  }
  if (tick.heapMb > settings.tickMemoryMb * 0.8) {
    problems.push(
      `a tick holds ~${Math.round(tick.heapMb)} MB of leased runs and state, over 80% of its ${settings.tickMemoryMb} MB`,
    );
  }
  if (a.throttled.includes('table')) {
    problems.push(
      `the ticks and handlers write the table faster than its warm throughput (${fmt(a.warm)} units/s): leases, claims and ` +
        'completions throttle, and a claim that fails leaves its run to time out',
    );
  }
  return problems;
}

/** What the account must provide beyond the settings. */
function accountNeedsOf(limits: AwsLimits, tableWrites: number, concurrency: number): string[] {
  const needs: string[] = [];
  if (tableWrites > limits.newTableWarmWrites) {
    needs.push(
      `table warm throughput of ${fmt(tableWrites)} write units/s (a new on-demand table takes ${fmt(limits.newTableWarmWrites)} at once: pre-warm it)`,
    );
  }
  if (tableWrites > limits.tableWriteQuota) {
    needs.push(`a per-table write quota above ${fmt(limits.tableWriteQuota)} units/s`);
  }
  if (concurrency > limits.lambdaConcurrency) {
    needs.push(`Lambda concurrency of ${fmt(concurrency)} (default quota ${fmt(limits.lambdaConcurrency)})`);
  }
  return needs;
}

/**
 * What a burst of `load.duePerMinute` runs, all due at the same second, takes under `settings`:
 * the lease phase before the slot (and whether it fits the lead), the start at the slot, the
 * tick's heap, life and cost, the concurrency, and what the settings cannot carry.
 */
export function assessLoad(
  load: ExpectedLoad,
  settings: ScaleSettings,
  costs: RunCosts = runCosts,
  limits: AwsLimits = awsLimits,
): LoadAssessment {
  const shape = shapeOf(load, settings, limits);
  const start = slotStart(shape, settings, costs, limits);
  const slotRate = start.seconds > 0 ? shape.largestGroup / start.seconds : 0;
  const phase = leasePhase(shape, settings, costs, limits, slotRate);
  const leadSeconds = settings.leadSeconds ?? leaseLeadSeconds(effectiveDesign(settings));
  const lease: LeasePhase = {
    bounds: phase.bounds,
    limitedBy: phase.limitedBy,
    seconds: phase.seconds,
    leadSeconds,
    fits: phase.seconds <= leadSeconds,
    writeRate: phase.writeRate,
  };
  const tick = tickFigures(shape, settings, costs, limits, start);
  const runSeconds = load.runSeconds ?? 1;
  const handlers = Math.min(shape.due, Math.ceil((shape.due * runSeconds) / Math.max(start.seconds, 1e-9)));
  const concurrency = handlers + tick.alive;
  const tableWritesPerSecond = Math.ceil(phase.tableOffered);
  return {
    lease,
    start,
    tick,
    largestShard: shape.largestShard,
    largestGroup: shape.largestGroup,
    concurrency,
    tableWritesPerSecond,
    throttled: phase.throttled,
    problems: problemsOf(load, settings, limits, {
      lease,
      start,
      tick,
      throttled: phase.throttled,
      warm: shape.warm,
    }),
    accountNeeds: accountNeedsOf(limits, tableWritesPerSecond, concurrency),
  };
}

/** Whether the recommended settings start the burst within the target, and if not, why not. */
export interface StartTarget {
  /** The slot to the 99th percentile run's Invoke accepted, seconds, asked for. */
  readonly p99Seconds: number;
  readonly met: boolean;
  /** What the recommendation reaches instead, and the bound that stops it. */
  readonly reason: string;
}

/** The most shard groups a deployment can have: one per shard, at most 64 shards. */
const MAX_SHARDS = 64;
/** The construct's default shard count: fewer saves nothing. */
const DEFAULT_SHARDS = 4;

/** Shard groups and shards for the target: the invokes' CPU at the slot, the lease phase within 80% of the lead. */
function sizeFor(load: ExpectedLoad, targetP99: number, costs: RunCosts, limits: AwsLimits, lead: number) {
  const due = load.duePerMinute;
  // A tick at one vCPU offers its shards up to this many lease writes a second: enough shards a
  // group that none is offered more than 80% of a partition.
  const writeRate = Math.min(
    costs.writesInFlight / (costs.requestLatencyMs / 1000),
    1000 / costs.tickLeaseCpuMs,
  );
  const shardsPerGroup = Math.ceil(
    (writeRate * costs.dueIndexWriteUnits) / (0.8 * limits.partitionWriteUnits),
  );
  const leaseBudget = 0.8 * lead;
  const invokeMs = Math.max(costs.tickInvokeCpuMs, costs.requestLatencyMs / 64);
  const forStart = Math.ceil((due * invokeMs * 0.99) / 1000 / targetP99);
  const forLease = Math.ceil((due * costs.tickLeaseCpuMs) / 1000 / leaseBudget);
  const groups = Math.min(Math.floor(MAX_SHARDS / shardsPerGroup), Math.max(1, forStart, forLease));
  const forIndex = Math.ceil(
    (due * costs.dueIndexWriteUnits) / (0.8 * limits.partitionWriteUnits * leaseBudget),
  );
  let shards = Math.min(MAX_SHARDS, Math.max(DEFAULT_SHARDS, forIndex, groups * shardsPerGroup));
  // Deal shards evenly: a shard count that is a multiple of the groups.
  shards = Math.floor(shards / groups) * groups;
  return { shardCount: shards, tickShardGroups: groups };
}

/**
 * The smallest settings that lease `load`'s burst within the lead (at 80% of it) and start it at
 * its slot within `targetP99Seconds` at the 99th percentile, with 1,769 MB ticks (one vCPU) and
 * the construct's 150 s timeout, the table pre-warmed and the account's Lambda concurrency raised
 * to what the burst needs (which also raises the Invoke quota, 10 a second per unit). When the
 * target cannot be reached (at most 64 shard groups, each tick's invokes at one vCPU), the
 * settings that come closest, and `startTarget` says what they reach and why.
 */
export function recommendSettings(
  load: ExpectedLoad,
  targetP99Seconds = 1,
  costs: RunCosts = runCosts,
  limits: AwsLimits = awsLimits,
): ScaleSettings & { assessment: LoadAssessment; startTarget: StartTarget } {
  const base = { tickMemoryMb: limits.memoryPerVcpuMb, tickTimeoutSeconds: 150 };
  const lead = leaseLeadSeconds(effectiveDesign({ ...base, shardCount: 1, tickShardGroups: 1 }));
  const settings = { ...sizeFor(load, targetP99Seconds, costs, limits, lead), ...base };
  // What the ticks and handlers offer with no table or account limit in the way.
  const unbounded = {
    ...limits,
    tableWriteQuota: Number.POSITIVE_INFINITY,
    lambdaConcurrency: Number.POSITIVE_INFINITY,
  };
  const offered = assessLoad(
    load,
    { ...settings, tableWarmWrites: Number.POSITIVE_INFINITY },
    costs,
    unbounded,
  );
  const tableWarmWrites = Math.max(limits.newTableWarmWrites, Math.ceil(offered.tableWritesPerSecond * 1.1));
  const raised = {
    ...limits,
    tableWriteQuota: Math.max(limits.tableWriteQuota, tableWarmWrites),
    lambdaConcurrency: Math.max(limits.lambdaConcurrency, offered.concurrency),
  };
  const warmed = { ...settings, tableWarmWrites };
  const assessment = assessLoad(load, warmed, costs, raised);
  assessment.accountNeeds.push(...raisedQuotas(limits, raised));
  const p99 = assessment.start.p99Seconds;
  const met = p99 <= targetP99Seconds;
  const reason = met
    ? `the slot's invokes reach ${round1(p99 * 1000) / 1000} s at p99 (paced by ${assessment.start.limitedBy})`
    : `${round1(p99)} s at p99 is the least these settings reach: ${settings.tickShardGroups} shard groups (at most ` +
      `${MAX_SHARDS} shards) leave ${fmt(assessment.largestGroup)} invokes to each tick at one vCPU ` +
      `(${costs.tickInvokeCpuMs} ms each, paced by ${assessment.start.limitedBy})`;
  return { ...warmed, assessment, startTarget: { p99Seconds: targetP99Seconds, met, reason } };
}

/** The quotas raised above their defaults, said as account needs. */
function raisedQuotas(limits: AwsLimits, raised: AwsLimits): string[] {
  const needs: string[] = [];
  if (raised.tableWriteQuota > limits.tableWriteQuota) {
    needs.push(
      `a per-table write quota of ${fmt(raised.tableWriteQuota)} units/s (default ${fmt(limits.tableWriteQuota)})`,
    );
  }
  if (raised.lambdaConcurrency > limits.lambdaConcurrency) {
    needs.push(
      `Lambda concurrency quota of ${fmt(raised.lambdaConcurrency)} (default ${fmt(limits.lambdaConcurrency)}; the Invoke quota follows it)`,
    );
  }
  return needs;
}
