/**
 * Section `scale` (`npm run bench -- --only scale`): the scale model of docs/scaling.md
 * (`infra/scale-model.ts`) against the real tick. Every-minute tasks, all due at once, in the
 * in-memory store behind `scale-store.ts`, which charges each write on the table partition and the
 * `due` index partition DynamoDB would charge, throttles as DynamoDB does and retries as the SDK
 * does. The partitions' rates are a tenth of AWS's (100 write units a second), so bursts a tenth
 * of AWS's size take as long as on AWS. The tick's shard groups run at once, in this process.
 *
 * For each scenario the model predicts how long the burst takes to start (tick start to the last
 * Invoke accepted) and which bound sets its pace; the section runs it and prints both, and checks
 * that every due task started exactly once.
 */

import {
  assessLoad,
  awsLimits,
  type LoadAssessment,
  recommendSettings,
  runCosts,
  type ScaleSettings,
} from '../../infra/scale-model.js';
import { shardGroups } from '../../src/core/due.js';
import type { RunEvent, TaskInvoker, TaskStore } from '../../src/core/ports.js';
import { newId } from '../../src/ids.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { runTick } from '../../src/tick/run-tick.js';
import type { SectionContext } from './context.js';
import { benchTask, clockMs, FUNCTION_NAME, round, sleep, TASK_TYPE, taskId, tickDeps } from './harness.js';
import type { Figure, Goal, SectionResult } from './report.js';
import { type PartitionLimits, PartitionMeter, partitionedStore } from './scale-store.js';

/** The simulated partitions: a tenth of AWS's rate. */
const SIM_PARTITION_WRITES = awsLimits.partitionWriteUnits / 10;
const SIM_LATENCY_MS = 25;

interface Scenario {
  name: string;
  due: number;
  shards: number;
  groups: number;
  tablePartitions: number;
}

/** Runs that started, by the invoker's count, and the handlers' claims. */
class SimulatedLambda implements TaskInvoker {
  readonly acceptedAt: number[] = [];
  readonly started = new Map<string, number>();
  duplicates = 0;
  private readonly handlers: Promise<void>[] = [];
  constructor(
    private readonly store: TaskStore,
    private readonly origin: number,
  ) {}

  async invoke(_functionName: string, event: RunEvent) {
    await sleep(SIM_LATENCY_MS);
    this.acceptedAt.push(clockMs() - this.origin);
    this.started.set(event.taskId, (this.started.get(event.taskId) ?? 0) + 1);
    this.handlers.push(this.handle(event));
    return { accepted: true as const };
  }

  /** What the task SDK writes for a short run: its claim and its completion. */
  private async handle(event: RunEvent) {
    const startedAt = new Date();
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
      finishedAt: new Date(),
      durationMs: 1,
    });
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.handlers);
  }
}

/** A fresh store of `due` every-minute tasks, all due now, behind a meter. */
async function seed(scenario: Scenario, limits: PartitionLimits) {
  const inner = new MemoryTaskStore({ shardCount: scenario.shards });
  await inner.putTaskType({ name: TASK_TYPE, functionName: FUNCTION_NAME });
  const slot = new Date(Math.floor(Date.now() / 60_000) * 60_000);
  for (let i = 0; i < scenario.due; i++) {
    await inner.createTask(benchTask({ id: taskId('scale', i), schedule: '* * * * *', nextSlotAt: slot }));
  }
  const meter = new PartitionMeter(limits, scenario.shards);
  return { inner, meter, store: partitionedStore(inner, meter) };
}

/** Tasks whose run did not start: stranded (dispatched, never invoked: their lease must expire) or still due. */
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

/** The scenario's burst: its shard groups' ticks started at once; what they did. */
async function simulate(scenario: Scenario, limits: PartitionLimits) {
  const { inner, meter, store } = await seed(scenario, limits);
  const origin = clockMs();
  const lambda = new SimulatedLambda(store, origin);
  const deps = await tickDeps(store, lambda);
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  const reports = await Promise.all(
    shardGroups(scenario.shards, scenario.groups).map((shards) =>
      runTick(deps, { shards, budgetMs: 600_000, recordTick: false }),
    ),
  );
  const cpu = process.cpuUsage(cpuBefore);
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;
  await lambda.settled();
  const started = [...lambda.started.values()];
  return {
    burstSeconds: Math.max(0, ...lambda.acceptedAt) / 1000,
    started: started.length,
    doubled: started.filter((n) => n > 1).length + lambda.duplicates,
    missing: scenario.due - started.length,
    ...(await unstarted(inner, scenario.due, lambda.started)),
    failed: reports.reduce((n, r) => n + r.failed, 0),
    cpuMsPerRun: (cpu.user + cpu.system) / 1000 / Math.max(1, started.length),
    heapBytesPerDue: heapDelta / scenario.due,
    /** Dispatch writes a second while the ticks wrote them. */
    writeRate: scenario.due / (Math.max(1, meter.lastDispatchAt - meter.firstDispatchAt) / 1000),
    counts: { ...meter.counts },
  };
}

/** The model's prediction for a simulated scenario: its partitions, this process's CPU. */
function predict(scenario: Scenario, calibration: { burstSeconds: number; due: number }): LoadAssessment {
  const settings: ScaleSettings = {
    shardCount: scenario.shards,
    tickShardGroups: scenario.groups,
    tickMemoryMb: awsLimits.memoryPerVcpuMb,
    tickTimeoutSeconds: 900,
    tableWarmWrites: scenario.tablePartitions * SIM_PARTITION_WRITES,
  };
  return assessLoad(
    { tasks: scenario.due, duePerMinute: scenario.due },
    settings,
    // The ticks' own pace here: the unthrottled calibration's time per run (this process's CPU,
    // shared by the groups' ticks, and its event loop), as a CPU cost at one vCPU.
    {
      ...runCosts,
      tickCpuMs: ((calibration.burstSeconds * 1000) / calibration.due) * scenario.groups,
      // The write phase here is bound by its writes in flight (this process's CPU is not the limit).
      tickWriteCpuMs: 1e-6,
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
    // A table colder than the burst: dispatches, claims and completions throttle.
    { name: 'table throttled: 64 shards, 4 groups', due: 1000, shards: 64, groups: 4, tablePartitions: 16 },
  ];
}

/** The model at AWS's scale: 1,000,000 tasks, 100,000 due at once, defaults and as recommended. */
function fullScaleFigures(): { figures: Figure[]; details: Record<string, unknown> } {
  const load = { tasks: 1_000_000, duePerMinute: 100_000 };
  const defaults = assessLoad(load, {
    shardCount: 4,
    tickShardGroups: 1,
    tickMemoryMb: 512,
    tickTimeoutSeconds: 60,
  });
  const recommended = recommendSettings(load);
  const figure = (name: string, value: number, unit: string): Figure => ({
    section: 'scale',
    name,
    value: round(value, 1),
    unit,
  });
  return {
    figures: [
      figure('model: 100,000 due, defaults: burst', defaults.burstSeconds, 's'),
      figure('model: 100,000 due, recommended: shards', recommended.shardCount, ''),
      figure('model: 100,000 due, recommended: shard groups', recommended.tickShardGroups, ''),
      figure('model: 100,000 due, recommended: burst', recommended.assessment.burstSeconds, 's'),
    ],
    details: { defaults, recommended },
  };
}

export async function runScale(ctx: SectionContext): Promise<SectionResult> {
  const begun = clockMs();
  const limits: PartitionLimits = {
    dueIndexPartitionWrites: SIM_PARTITION_WRITES,
    tablePartitions: 1,
    tablePartitionWrites: SIM_PARTITION_WRITES,
    latencyMs: SIM_LATENCY_MS,
  };
  // Calibration: the tick's CPU per run here, with no partition in the way.
  const calibrationDue = ctx.env.quick ? 300 : 3000;
  const measured = await simulate(
    { name: 'calibration', due: calibrationDue, shards: 64, groups: 1, tablePartitions: 1 },
    { ...limits, dueIndexPartitionWrites: 1e9, tablePartitionWrites: 1e9 },
  );
  const calibration = { ...measured, due: calibrationDue };
  ctx.env.log(
    `  scale: calibration ${calibrationDue} due in ${round(calibration.burstSeconds, 2)} s, ${round(calibration.cpuMsPerRun, 2)} ms CPU/run, ${Math.round(calibration.writeRate)} dispatch writes/s, ${Math.round(calibration.heapBytesPerDue)} B heap/due`,
  );
  const figures: Figure[] = [
    {
      section: 'scale',
      name: 'tick CPU per run, in-memory store',
      value: round(calibration.cpuMsPerRun, 3),
      unit: 'ms',
    },
  ];
  const goals: Goal[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const scenario of scenarios(ctx.env.quick)) {
    const predicted = predict(scenario, calibration);
    const got = await simulate(scenario, { ...limits, tablePartitions: scenario.tablePartitions });
    const ratio = got.burstSeconds / predicted.burstSeconds;
    ctx.env.log(
      `  scale: ${scenario.name}: predicted ${round(predicted.burstSeconds, 2)} s (${predicted.limitedBy}), ` +
        `simulated ${round(got.burstSeconds, 2)} s, ${got.counts.throttled} throttled, ` +
        `${got.missing} not started (${got.stranded} stranded), ${got.doubled} doubled`,
    );
    rows.push({ scenario, predicted, simulated: got, ratio });
    figures.push({
      section: 'scale',
      name: `${scenario.name}: predicted (${predicted.limitedBy})`,
      value: round(predicted.burstSeconds, 2),
      unit: 's',
    });
    figures.push({
      section: 'scale',
      name: `${scenario.name}: simulated`,
      value: round(got.burstSeconds, 2),
      unit: 's',
    });
    goals.push({
      section: 'scale',
      name: `${scenario.name}: simulated / predicted`,
      target: '0.7-1.5x',
      value: round(ratio, 2),
      unit: 'x',
      met: ratio >= 0.7 && ratio <= 1.5,
    });
    // Where the table throttles, a run may not start in this tick (the model says so); none may start twice.
    const mustAllStart = !predicted.throttled.includes('table');
    goals.push({
      section: 'scale',
      name: `${scenario.name}: runs ${mustAllStart ? 'not started + ' : ''}doubled`,
      target: '0',
      value: (mustAllStart ? got.missing : 0) + got.doubled,
      unit: '',
      met: (mustAllStart ? got.missing : 0) + got.doubled === 0,
    });
  }
  const full = fullScaleFigures();
  return {
    durationMs: clockMs() - begun,
    figures: [...figures, ...full.figures],
    goals,
    details: { limits, calibration, scenarios: rows, fullScale: full.details },
    notes: [
      `partitions at ${SIM_PARTITION_WRITES} write units/s (a tenth of AWS's), ${SIM_LATENCY_MS} ms a request; ` +
        'the ticks of a split share this process',
    ],
  };
}
