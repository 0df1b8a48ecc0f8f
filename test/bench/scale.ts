/**
 * Section `scale` (`npm run bench -- --only scale`): the scale model of docs/scaling.md
 * (`infra/scale-model.ts`) against the real tick with look-ahead. Every-minute tasks, all due at
 * the same slot, in the in-memory store behind `scale-store.ts`, which charges each write on the
 * table partition and the `due` index partition DynamoDB would charge, throttles as DynamoDB does
 * and retries as the SDK does. The partitions' rates are a tenth of AWS's (100 write units a
 * second), so bursts a tenth of AWS's size take as long as on AWS. The tick's shard groups run at
 * once, in this process.
 *
 * Each tick starts {@link SIM_LEAD_S} before the slot (its clock is set so that the slot falls on
 * a minute, as an every-minute task's does) and looks 2 s past it, as the construct's tick looks
 * 2 s into the minute after next. For each scenario the model predicts the **lease phase** (the
 * tick's start to its last lease written) and the **start at the slot** (the slot to the last
 * Invoke accepted) and the bound that sets each; the section measures both and checks that every
 * due task started exactly once.
 */

import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  assessLoad,
  awsLimits,
  type LoadAssessment,
  recommendSettings,
  runCosts,
  type ScaleSettings,
} from '../../infra/scale-model.js';
import { shardGroups } from '../../src/core/due.js';
import type { Clock, RunEvent, TaskInvoker, TaskStore } from '../../src/core/ports.js';
import { newId } from '../../src/ids.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { runTick } from '../../src/tick/run-tick.js';
import type { SectionContext } from './context.js';
import {
  benchTask,
  FUNCTION_NAME,
  percentile,
  round,
  sleep,
  TASK_TYPE,
  taskId,
  tickDeps,
} from './harness.js';
import type { Figure, Goal, SectionResult } from './report.js';
import { type PartitionLimits, PartitionMeter, partitionedStore } from './scale-store.js';

/** The simulated partitions: a tenth of AWS's rate. */
const SIM_PARTITION_WRITES = awsLimits.partitionWriteUnits / 10;
const SIM_LATENCY_MS = 25;
/**
 * The lead each simulated tick has before the slot, seconds. On AWS it is 60 s; what the tick does
 * in it is the same whatever its length while the lease phase fits (the runs wait in its agenda),
 * so the section keeps it short (3 s in the quick variant). The model is given the same lead.
 */
const SIM_LEAD_S = 20;
const QUICK_LEAD_S = 3;

interface Scenario {
  name: string;
  due: number;
  shards: number;
  groups: number;
  tablePartitions: number;
}

/** A clock `offsetMs` ahead of the system's: the tick's slot falls on a minute without waiting for one. */
class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

/** Runs that started, by the invoker's count, when (slot to Invoke accepted), and the handlers' claims. */
class SimulatedLambda implements TaskInvoker {
  /** Each Invoke accepted, ms after the slot (the tick's clock). */
  readonly acceptedAfterSlot: number[] = [];
  readonly started = new Map<string, number>();
  duplicates = 0;
  private readonly handlers: Promise<void>[] = [];
  constructor(
    private readonly store: TaskStore,
    private readonly clock: Clock,
    private readonly slotMs: number,
  ) {}

  async invoke(_functionName: string, event: RunEvent) {
    await sleep(SIM_LATENCY_MS);
    this.acceptedAfterSlot.push(this.clock.now().getTime() - this.slotMs);
    this.started.set(event.taskId, (this.started.get(event.taskId) ?? 0) + 1);
    this.handlers.push(this.handle(event));
    return { accepted: true as const };
  }

  /** What the task SDK writes for a short run: its claim and its completion. */
  private async handle(event: RunEvent) {
    const startedAt = this.clock.now();
    const claim = await this.store.claimRun({
      taskId: event.taskId,
      runId: event.runId,
      type: event.type,
      token: event.token,
      requestId: newId(),
      trigger: event.trigger,
      attempt: event.attempt,
      scheduledFor: new Date(event.scheduledFor),
      dispatchedAt: new Date(event.dispatchedAt),
      startedAt,
      leaseExpiresAt: new Date(event.leaseExpiresAt),
      parameters: event.parameters,
      expiresAt: new Date(startedAt.getTime() + 86_400_000),
    });
    if (!claim.claimed) {
      this.duplicates++;
      return;
    }
    const fence = { token: event.token, requestId: claim.run.requestId as string };
    await this.store.completeRun(event.taskId, event.runId, fence, {
      status: 'succeeded',
      finishedAt: this.clock.now(),
      durationMs: 1,
    });
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.handlers);
  }
}

/** A fresh store of `due` every-minute tasks, all due at `slot` (a minute), behind a meter. */
async function seed(scenario: Scenario, limits: PartitionLimits, slot: Date) {
  const inner = new MemoryTaskStore({ shardCount: scenario.shards });
  await inner.putTaskType({ name: TASK_TYPE, functionName: FUNCTION_NAME });
  for (let i = 0; i < scenario.due; i++) {
    await inner.createTask(benchTask({ id: taskId('scale', i), schedule: '* * * * *', nextSlotAt: slot }));
  }
  const meter = new PartitionMeter(limits, scenario.shards);
  return { inner, meter, store: partitionedStore(inner, meter) };
}

/** Tasks whose run did not start: stranded (leased, never invoked: their lease must expire) or still due. */
async function unstarted(inner: TaskStore, due: number, started: ReadonlyMap<string, number>) {
  let stranded = 0;
  let deferred = 0;
  for (let i = 0; i < due; i++) {
    const id = taskId('scale', i);
    if (started.has(id)) continue;
    const task = await inner.getTask(id);
    if (task && task.active.length > 0) stranded++;
    else deferred++;
  }
  return { stranded, deferred };
}

/** The collector, to measure what the tick holds rather than what it has not yet dropped. */
let collect: (() => void) | undefined;

/** The heap still in use after a collection. */
function liveHeap(): number {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  return process.memoryUsage().heapUsed;
}

/** The live heap `atMs` from now (just before the slot: every lease held, nothing invoked yet). */
function heapAt(atMs: number): Promise<number> {
  return new Promise((resolve) => setTimeout(() => resolve(liveHeap()), Math.max(0, atMs)));
}

/**
 * The scenario's minute: its shard groups' ticks started at once `leadS` before the slot, looking
 * 2 s past it; what they did, and when.
 */
async function simulate(scenario: Scenario, limits: PartitionLimits, leadS: number) {
  const clock = new ShiftedClock();
  const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 180_000);
  const { inner, meter, store } = await seed(scenario, limits, slot);
  const lambda = new SimulatedLambda(store, clock, slot.getTime());
  const deps = await tickDeps(store, lambda, clock);
  const load = loadavg()[0] as number;
  const heapBefore = liveHeap();
  const heldHeap = heapAt(leadS * 1000 - 100);
  const cpuBefore = process.cpuUsage();
  clock.offsetMs = slot.getTime() - leadS * 1000 - Date.now();
  const origin = performance.now();
  const reports = await Promise.all(
    shardGroups(scenario.shards, scenario.groups).map((shards) =>
      runTick(deps, { shards, budgetMs: 600_000, recordTick: false, lookAheadMs: (leadS + 2) * 1000 }),
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);
  await lambda.settled();
  const started = [...lambda.started.values()];
  const accepted = lambda.acceptedAfterSlot;
  return {
    loadAverage: round(load, 1),
    leaseSeconds: (meter.lastDispatchAt - origin) / 1000,
    startSeconds: Math.max(0, ...accepted) / 1000,
    startP99Seconds: percentile(accepted, 99) / 1000,
    /** Invokes accepted before the slot: none may be. */
    early: accepted.filter((ms) => ms < 0).length,
    leasedAhead: reports.reduce((n, r) => n + r.leasedAhead, 0),
    started: started.length,
    doubled: started.filter((n) => n > 1).length + lambda.duplicates,
    missing: scenario.due - started.length,
    ...(await unstarted(inner, scenario.due, lambda.started)),
    failed: reports.reduce((n, r) => n + r.failed, 0),
    cpuMsPerRun: (cpu.user + cpu.system) / 1000 / Math.max(1, started.length),
    heapBytesPerHeldRun: ((await heldHeap) - heapBefore) / scenario.due,
    /** Lease writes a second while the ticks wrote them. */
    writeRate: scenario.due / (Math.max(1, meter.lastDispatchAt - meter.firstDispatchAt) / 1000),
    counts: { ...meter.counts },
  };
}

type Simulated = Awaited<ReturnType<typeof simulate>>;

/**
 * The model's prediction for a simulated scenario: its partitions, and the ticks' own pace here as
 * measured by `calibration`, the same ticks over the same tasks a moment before with no partition
 * in the way (this process's CPU, shared by the groups' ticks and by other work on the machine,
 * moves by 2-3x from one minute to the next).
 */
function predict(scenario: Scenario, calibration: Simulated, leadS: number): LoadAssessment {
  const settings: ScaleSettings = {
    shardCount: scenario.shards,
    tickShardGroups: scenario.groups,
    tickMemoryMb: awsLimits.memoryPerVcpuMb,
    tickTimeoutSeconds: 900,
    tableWarmWrites: scenario.tablePartitions * SIM_PARTITION_WRITES,
    leadSeconds: leadS,
  };
  // Each phase's time per run of the largest group, as CPU costs of a tick at one vCPU.
  const largestGroup = (scenario.due * Math.ceil(scenario.shards / scenario.groups)) / scenario.shards;
  const perRunMs = (seconds: number) => (seconds * 1000) / largestGroup;
  return assessLoad(
    { tasks: scenario.due, duePerMinute: scenario.due },
    settings,
    {
      ...runCosts,
      tickLeaseCpuMs: perRunMs(Math.max(0, calibration.leaseSeconds - SIM_LATENCY_MS / 1000)),
      tickInvokeCpuMs: perRunMs(calibration.startSeconds),
      requestLatencyMs: SIM_LATENCY_MS,
      pageLatencyMs: SIM_LATENCY_MS,
      itemsPerPage: 1e9,
    },
    {
      ...awsLimits,
      partitionWriteUnits: SIM_PARTITION_WRITES,
      tableWriteQuota: Number.POSITIVE_INFINITY,
      lambdaConcurrency: 1e9,
    },
  );
}

function scenarios(quick: boolean): Scenario[] {
  // One tick over 4 shards offers each more than its rate: the due index throttles.
  const throttledIndex = {
    name: 'due index throttled: 4 shards, 1 tick',
    shards: 4,
    groups: 1,
    tablePartitions: 64,
  };
  if (quick) return [{ ...throttledIndex, due: 500 }];
  return [
    // The ticks' own pace binds: no partition is offered more than it takes.
    { name: 'tick-bound: 64 shards, 1 tick', due: 3000, shards: 64, groups: 1, tablePartitions: 256 },
    { ...throttledIndex, due: 1000 },
    {
      name: 'due index throttled: 16 shards, 4 groups',
      due: 3200,
      shards: 16,
      groups: 4,
      tablePartitions: 256,
    },
    // A table colder than the burst: leases, claims and completions throttle.
    { name: 'table throttled: 64 shards, 4 groups', due: 1000, shards: 64, groups: 4, tablePartitions: 4 },
  ];
}

/** The loads and settings of docs/scaling.md's answer table. */
function answerCases() {
  const defaults = { shardCount: 4, tickShardGroups: 1, tickMemoryMb: 512, tickTimeoutSeconds: 150 };
  return [1_000, 10_000, 100_000].flatMap((due) => {
    const load = { tasks: 1_000_000, duePerMinute: due };
    const fast = recommendSettings(load, 1);
    const rows = [
      { due, label: 'defaults', settings: defaults, assessment: assessLoad(load, defaults), target: '' },
      {
        due,
        label: 'recommended, 1 s',
        settings: fast,
        assessment: fast.assessment,
        target: fast.startTarget.reason,
      },
    ];
    if (due === 100_000) {
      const relaxed = recommendSettings(load, 10);
      rows.push({
        due,
        label: 'recommended, 10 s',
        settings: relaxed,
        assessment: relaxed.assessment,
        target: relaxed.startTarget.reason,
      });
    }
    return rows;
  });
}

const n0 = (n: number) => Math.round(n).toLocaleString('en-US');
const s1 = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n0(n));

/** docs/scaling.md's answer table, from the model (1 s handlers). */
export function answerTable(): string {
  const lines = [
    "| due in one minute | settings | lease phase (fits 60 s?) | start at the slot: p99 / last | paced by | tick heap | tick lives | the ticks' cost a month | handler concurrency | problems |",
    '|---:|---|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const { due, label, settings: s, assessment: a } of answerCases()) {
    const settings =
      label === 'defaults'
        ? 'defaults'
        : `${label}: ${s.shardCount} shards, ${s.tickShardGroups} group${s.tickShardGroups === 1 ? '' : 's'}, ${n0(s.tickMemoryMb)} MB`;
    lines.push(
      `| ${n0(due)} | ${settings} | ${s1(a.lease.seconds)} s (${a.lease.fits ? 'yes' : '**no**'}) | ` +
        `${s1(a.start.p99Seconds)} / ${s1(a.start.seconds)} s | ${a.start.limitedBy} | ${n0(a.tick.heapMb)} MB | ` +
        `${s1(a.tick.durationSeconds)} s | $${n0(a.tick.usdPerMonth)} | ${n0(a.concurrency)} | ${a.problems.length} |`,
    );
  }
  return lines.join('\n');
}

/** What each recommended row needs from the account, and what the defaults cannot carry. */
export function answerNotes(): string {
  return answerCases()
    .map(
      ({ due, label, assessment: a, target }) =>
        `- ${n0(due)}, ${label}: ${[...a.problems, ...a.accountNeeds, target].filter(Boolean).join('; ') || 'nothing'}`,
    )
    .join('\n');
}

/** The model at AWS's scale: 1,000,000 tasks, 100,000 due at once, defaults and as recommended. */
function fullScaleFigures(): { figures: Figure[]; details: Record<string, unknown> } {
  const cases = answerCases().filter((c) => c.due === 100_000);
  const figure = (name: string, value: number, unit: string): Figure => ({
    section: 'scale',
    name,
    value: round(value, 2),
    unit,
  });
  return {
    figures: cases.flatMap(({ label, settings, assessment }) => [
      figure(`model: 100,000 due, ${label}: lease phase`, assessment.lease.seconds, 's'),
      figure(`model: 100,000 due, ${label}: start at the slot, p99`, assessment.start.p99Seconds, 's'),
      figure(`model: 100,000 due, ${label}: shard groups`, settings.tickShardGroups, ''),
    ]),
    details: { answer: answerCases() },
  };
}

/** A scenario's measured phases beside the model's, as figures and goals. */
function compare(scenario: Scenario, predicted: LoadAssessment, got: Simulated) {
  const figures: Figure[] = [];
  const goals: Goal[] = [];
  const phases = [
    ['lease phase', predicted.lease.seconds, got.leaseSeconds, predicted.lease.limitedBy],
    ['start at the slot', predicted.start.seconds, got.startSeconds, predicted.start.limitedBy],
  ] as const;
  for (const [phase, want, seen, bound] of phases) {
    figures.push({
      section: 'scale',
      name: `${scenario.name}: ${phase} predicted (${bound})`,
      value: round(want, 2),
      unit: 's',
    });
    figures.push({
      section: 'scale',
      name: `${scenario.name}: ${phase} simulated`,
      value: round(seen, 2),
      unit: 's',
    });
    const ratio = seen / want;
    goals.push({
      section: 'scale',
      name: `${scenario.name}: ${phase} simulated / predicted`,
      target: '0.7-1.5x',
      value: round(ratio, 2),
      unit: 'x',
      met: ratio >= 0.7 && ratio <= 1.5,
    });
  }
  // Where a partition throttles, a batch whose statement still fails after the SDK's attempts
  // leaves leases not invoked (a later tick delivers them again, a minute late): the model says
  // so. None may start twice or early.
  const mustAllStart = predicted.throttled.length === 0;
  const wrong = (mustAllStart ? got.missing : 0) + got.doubled + got.early;
  goals.push({
    section: 'scale',
    name: `${scenario.name}: runs ${mustAllStart ? 'not started + ' : ''}doubled + invoked before the slot`,
    target: '0',
    value: wrong,
    unit: '',
    met: wrong === 0,
  });
  return { figures, goals };
}

export async function runScale(ctx: SectionContext): Promise<SectionResult> {
  const begun = performance.now();
  const limits: PartitionLimits = {
    dueIndexPartitionWrites: SIM_PARTITION_WRITES,
    tablePartitions: 1,
    tablePartitionWrites: SIM_PARTITION_WRITES,
    latencyMs: SIM_LATENCY_MS,
  };
  const leadS = ctx.env.quick ? QUICK_LEAD_S : SIM_LEAD_S;
  const figures: Figure[] = [];
  const goals: Goal[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const scenario of scenarios(ctx.env.quick)) {
    // Calibration: the same ticks over the same tasks, with no partition in the way.
    const calibration = await simulate(
      scenario,
      { ...limits, dueIndexPartitionWrites: 1e9, tablePartitionWrites: 1e9, tablePartitions: 1 },
      leadS,
    );
    const predicted = predict(scenario, calibration, leadS);
    const got = await simulate(scenario, { ...limits, tablePartitions: scenario.tablePartitions }, leadS);
    ctx.env.log(
      `  scale: ${scenario.name}: calibration lease ${round(calibration.leaseSeconds, 2)} s, slot ${round(calibration.startSeconds, 2)} s, ` +
        `${round(calibration.cpuMsPerRun, 2)} ms CPU/run, ${Math.round(calibration.heapBytesPerHeldRun)} B heap/held run; ` +
        `lease phase predicted ${round(predicted.lease.seconds, 2)} s (${predicted.lease.limitedBy}), ` +
        `simulated ${round(got.leaseSeconds, 2)} s; start at the slot predicted ${round(predicted.start.seconds, 2)} s ` +
        `(${predicted.start.limitedBy}), simulated ${round(got.startSeconds, 2)} s (p99 ${round(got.startP99Seconds, 2)}); ` +
        `${got.counts.throttled} throttled, ${got.missing} not started (${got.stranded} stranded), ${got.doubled} doubled, ` +
        `${got.early} early; load average ${calibration.loadAverage}, ${got.loadAverage}`,
    );
    rows.push({ scenario, calibration, predicted, simulated: got });
    figures.push({
      section: 'scale',
      name: `${scenario.name}: tick heap per held run`,
      value: Math.round(calibration.heapBytesPerHeldRun),
      unit: 'B',
    });
    const compared = compare(scenario, predicted, got);
    figures.push(...compared.figures);
    goals.push(...compared.goals);
  }
  const full = fullScaleFigures();
  return {
    durationMs: performance.now() - begun,
    figures: [...figures, ...full.figures],
    goals,
    details: { limits, scenarios: rows, fullScale: full.details },
    notes: [
      `partitions at ${SIM_PARTITION_WRITES} write units/s (a tenth of AWS's), ${SIM_LATENCY_MS} ms a request; ` +
        `each tick starts ${leadS} s before the slot; the ticks of a split share this process; ` +
        'each scenario is predicted from its own ticks run just before with no partition in the way',
    ],
  };
}
