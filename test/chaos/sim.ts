/**
 * The chaos harness: many tasks, several concurrent ticks a minute and handler invocations, all
 * on the real code (`runTick`, `createTaskHandler`, the real store adapters) in simulated time, with
 * faults injected in the store's client, the invoker and the processes themselves (crashes at each
 * step of a run). At the end every slot is counted against the records (`accounting.ts`).
 *
 * Time: one simulated clock, moved in 10 s steps; nothing waits on the wall clock, so a run of
 * 100,000 slots takes minutes. Within a step, ticks and the handler invocations they start run
 * concurrently at that instant.
 *
 * Lambda, as modelled here: an asynchronous invoke is accepted, or refused (throttled); an
 * accepted event may be lost, delayed, or delivered twice (a second delivery, new request id); an
 * invocation that fails or dies is delivered again after 1 and 2 minutes with the same request id,
 * then dropped, as Lambda's asynchronous retries do.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import pLimit from 'p-limit';
import { monotonicFactory } from 'ulid';
import {
  type CatchUpPolicy,
  type OverlapPolicy,
  type RunRecord,
  type TaskState,
  taskDefaults,
} from '../../src/core/model.js';
import type { InvokeResult, RunEvent, TaskStore } from '../../src/core/ports.js';
import { nextSlot } from '../../src/core/schedule.js';
import { scheduleFor } from '../../src/core/schedule-cache.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { ensureTable } from '../../src/store/table-definition.js';
import type { TaskContext } from '../../src/task/define-task.js';
import { createTaskHandler, type TaskInvocationResult } from '../../src/task/handler.js';
import { TaskTypeRegistry } from '../../src/tick/registry.js';
import { runTick, type TickDeps, type TickReport } from '../../src/tick/run-tick.js';
import { accountTask, defaultSlotNaming, type SlotNaming } from './accounting.js';
import { crashable, Life, never } from './crash.js';
import { type Random, seededRandom } from './random.js';
import {
  type FaultSwitch,
  fastRetries,
  faultyStore,
  installDynamoFaults,
  type StoreFaultRates,
  Tally,
} from './store-faults.js';

export const TASK_TYPE = 'Chaos.Work';
const FUNCTION_NAME = 'chaos-work';
const STEP_MS = 10_000;
const MINUTE_MS = 60_000;
export const START = new Date('2026-01-01T00:00:00Z');

/** Faults of Lambda's asynchronous invoke, each a probability per invoke. */
export interface InvokeFaultRates {
  /** Refused (TooManyRequestsException): the tick records a failed start. */
  refused: number;
  /** Accepted, never delivered. */
  lost: number;
  /** Delivered 30 s to 6 min late. */
  delayed: number;
  /** Delivered a second time, 0 to 2 min after the first, with another request id. */
  duplicated: number;
}

/** Crashes, each a probability per tick or per handler invocation. */
export interface CrashRates {
  /** The tick dies right after one of its lease writes applied (before invoking those runs). */
  tickAfterLease: number;
  /** The tick dies right after one of its invokes was accepted. */
  tickAfterInvoke: number;
  /** The handler dies right after its claim applied (the body never ran). */
  handlerAfterClaim: number;
  /** The handler dies while the body runs. */
  handlerMidBody: number;
  /** The handler dies after the body finished, before its completion write. */
  handlerBeforeCompletion: number;
  /** The handler dies after its completion write applied (before settling the task). */
  handlerAfterCompletion: number;
}

export interface ChaosConfig {
  engine: 'memory' | 'dynamodb';
  /** DynamoDB Local's endpoint, for `engine: 'dynamodb'`. */
  dynamoEndpoint?: string;
  tasks: number;
  /** Simulated minutes with faults; the slots counted are those of this period. */
  minutes: number;
  /** Fault-free minutes after, for leases to end and retries to run. */
  drainMinutes: number;
  /** Tick schedules firing every minute, each over every shard (they overlap on every task). */
  ticks: number;
  seed: number;
  catchUp: CatchUpPolicy[];
  overlap: OverlapPolicy[];
  store: StoreFaultRates;
  invoke: InvokeFaultRates;
  crash: CrashRates;
  /** Probability that a body throws (a failed run, retried per the task's policy). */
  bodyFailure: number;
  /** Probability, per minute, that no tick runs that minute (an outage). */
  tickOutage: number;
  naming?: SlotNaming;
  /** Wraps the store every process writes through: how the suite checks that the counts catch a broken store. */
  wrapStore?: (store: TaskStore) => TaskStore;
  log?: (line: string) => void;
}

/** What a chaos run counted. */
export interface ChaosReport {
  slots: number;
  ran: number;
  skipped: number;
  missed: number;
  unaccounted: number;
  /** Unaccounted slots by catch-up policy. */
  unaccountedByCatchUp: Record<string, number>;
  /** Claims that succeeded for a run that had already been claimed. */
  duplicateClaims: number;
  /** Runs whose body started more than once. */
  bodiesRunTwice: number;
  /** Slots started more than once as a first attempt. */
  slotsStartedTwice: number;
  /** Slots whose body ran in more than one run, by why. */
  slotRepeats: {
    afterFailure: number;
    afterLostCompletion: number;
    afterInterruptedBody: number;
    unexplained: number;
  };
  /** Slots whose effect was applied (once each, keyed by `ctx.idempotencyKey`), and re-runs the key caught. */
  effects: { applied: number; deduplicated: number };
  /** Runs leased or invoked that ended without a terminal record. */
  lostRuns: number;
  runsStarted: number;
  injected: Record<string, number>;
  observed: Record<string, number>;
  simulatedMinutes: number;
  wallMs: number;
  /** A few of the cases counted as a fault (unexplained repeats, lost runs, unaccounted slots), to start a diagnosis. */
  examples: string[];
}

interface BodyTrace {
  slot: string;
  started: number;
  finished: number;
  /** The invocation died (or its completion failed) after the body ended (returned or threw). */
  completionLost: boolean;
  interrupted: boolean;
}

/** A queued delivery of a run event to the handler. */
interface Delivery {
  at: number;
  event: RunEvent;
  requestId: string;
  lambdaAttempt: number;
}

const silent = new Logger({ serviceName: 'tickwork-chaos', logLevel: 'SILENT' });

/** The stores a run uses: the one the processes write through (faults) and a clean one to seed and read. */
interface Stores {
  faulty: TaskStore;
  clean: TaskStore;
  close: () => void;
}

async function openStores(
  config: ChaosConfig,
  faults: FaultSwitch,
  random: Random,
  { injected, observed }: { injected: Tally; observed: Tally },
): Promise<Stores> {
  if (config.engine === 'memory') {
    const clean = new MemoryTaskStore();
    return { clean, faulty: faultyStore(clean, faults, random, injected, observed), close: () => {} };
  }
  if (!config.dynamoEndpoint) throw new Error('engine dynamodb needs dynamoEndpoint');
  const options = {
    endpoint: config.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const tableName = `chaos-${config.seed}-${Date.now().toString(36)}`;
  const cleanClient = new DynamoDBClient({ ...options, maxAttempts: 3 });
  await ensureTable(cleanClient, tableName);
  const faultyClient = new DynamoDBClient({ ...options, retryStrategy: fastRetries(3) });
  installDynamoFaults(faultyClient, faults, random, injected);
  return {
    clean: new DynamoTaskStore({ client: cleanClient, tableName }),
    faulty: new DynamoTaskStore({ client: faultyClient, tableName }),
    close: () => {
      cleanClient.destroy();
      faultyClient.destroy();
    },
  };
}

/** The i-th task of a run: a mix of schedules, policies and retries, drawn from the seed. */
function taskOf(i: number, config: ChaosConfig, random: Random): TaskState {
  const schedule = random.pick([
    '* * * * *',
    '* * * * *',
    '* * * * *',
    '*/2 * * * *',
    '*/2 * * * *',
    '*/5 * * * *',
  ]);
  const task: TaskState = {
    ...taskDefaults,
    id: `chaos-${String(i).padStart(6, '0')}`,
    name: `chaos ${i}`,
    type: TASK_TYPE,
    schedule,
    parameters: {},
    catchUp: random.pick(config.catchUp),
    overlap: random.pick(config.overlap),
    retry: { maxAttempts: random.pick([1, 3]), backoffSeconds: 20, maxBackoffSeconds: 60 },
    timeoutSeconds: 60,
    jitterSeconds: random.pick([0, 0, 0, 25]),
    version: 1,
    createdAt: START,
    updatedAt: START,
    scheduledStarts: 0,
    fence: 0,
    active: [],
    pending: [],
    summary: { runCount: 0 },
  };
  task.nextSlotAt = nextSlot(scheduleFor(task), START);
  return task;
}

/** One chaos run in progress. */
class Sim {
  nowMs = START.getTime();
  readonly clock = { now: () => new Date(this.nowMs) };
  readonly random: Random;
  readonly injected = new Tally();
  readonly observed = new Tally();
  readonly faults: FaultSwitch;
  stores!: Stores;
  private readonly queue: Delivery[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly deliveries = pLimit(64);
  private requestIds = 0;
  readonly claims = new Map<string, number>();
  readonly bodies = new Map<string, BodyTrace>();
  readonly slotRuns = new Map<string, string[]>();
  readonly runsSeen = new Set<string>();
  readonly effects = new Set<string>();
  readonly tickReports: TickReport[] = [];

  constructor(readonly config: ChaosConfig) {
    this.random = seededRandom(config.seed);
    this.faults = { on: false, rates: config.store };
  }

  private newRequestId(): string {
    return `req-${++this.requestIds}`;
  }

  // --------------------------------------------------------------------------- Lambda invoke

  /** The tick's invoke: Lambda accepts (or refuses) the event, then delivers it, maybe not as asked. */
  send(event: RunEvent): InvokeResult {
    const { random, injected } = this;
    const rates = this.config.invoke;
    const on = this.faults.on;
    if (on && random.chance(rates.refused)) {
      injected.add('invoke: refused (throttled)');
      return {
        accepted: false,
        error: { name: 'TooManyRequestsException', message: 'Rate exceeded (injected)' },
      };
    }
    this.runsSeen.add(`${event.taskId}|${event.runId}`);
    if (on && random.chance(rates.lost)) {
      injected.add('invoke: accepted, never delivered');
      return { accepted: true };
    }
    let delay = 0;
    if (on && random.chance(rates.delayed)) {
      injected.add('invoke: delivered late (30 s to 6 min)');
      delay = random.int(3, 36) * STEP_MS;
    }
    this.deliver({ at: this.nowMs + delay, event, requestId: this.newRequestId(), lambdaAttempt: 1 });
    if (on && random.chance(rates.duplicated)) {
      injected.add('invoke: delivered twice');
      this.deliver({
        at: this.nowMs + random.int(0, 12) * STEP_MS,
        event,
        requestId: this.newRequestId(),
        lambdaAttempt: 1,
      });
    }
    return { accepted: true };
  }

  private deliver(delivery: Delivery): void {
    if (delivery.at > this.nowMs) {
      this.queue.push(delivery);
      return;
    }
    const done = this.deliveries(() => this.invokeHandler(delivery)).finally(() =>
      this.inflight.delete(done),
    );
    this.inflight.add(done);
  }

  /** Starts the deliveries due by now, then waits until nothing is in flight. */
  async settle(): Promise<void> {
    this.queue.sort((a, b) => a.at - b.at);
    while (this.queue.length > 0 && (this.queue[0] as Delivery).at <= this.nowMs) {
      this.deliver(this.queue.shift() as Delivery);
    }
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  // --------------------------------------------------------------------------- handler

  /** The crash planned for one handler invocation, if any. */
  private handlerCrash(): string | undefined {
    if (!this.faults.on) return undefined;
    const c = this.config.crash;
    const r = this.random;
    if (r.chance(c.handlerAfterClaim)) return 'after-claim';
    if (r.chance(c.handlerMidBody)) return 'mid-body';
    if (r.chance(c.handlerBeforeCompletion)) return 'before-completion';
    if (r.chance(c.handlerAfterCompletion)) return 'after-completion';
    return undefined;
  }

  /** One invocation of the real task handler, in a process that may die; Lambda retries a failed one. */
  async invokeHandler(delivery: Delivery): Promise<void> {
    const life = new Life();
    const plan = this.handlerCrash();
    const trace = { finished: false };
    const store = crashable(
      this.stores.faulty,
      life,
      (method, point) =>
        (plan === 'after-claim' && method === 'claimRun' && point === 'after') ||
        (plan === 'before-completion' && method === 'completeRun' && point === 'before') ||
        (plan === 'after-completion' && method === 'completeRun' && point === 'after'),
      (method, args, result) => {
        if (method !== 'claimRun' || !(result as { claimed: boolean }).claimed) return;
        const { runId } = args[0] as { runId: string };
        this.claims.set(runId, (this.claims.get(runId) ?? 0) + 1);
      },
    );
    const handler = createTaskHandler(
      { [TASK_TYPE]: (ctx: TaskContext<unknown>) => this.body(ctx, life, plan === 'mid-body', trace) },
      { store, clock: this.clock, logger: silent, metrics: false, env: {} },
    );
    let outcome: TaskInvocationResult | 'crashed' | 'error';
    try {
      outcome = await Promise.race([
        handler(delivery.event, {
          awsRequestId: delivery.requestId,
          getRemainingTimeInMillis: () => Number.POSITIVE_INFINITY,
        }),
        life.died,
      ]);
    } catch (error) {
      this.observed.add(`handler: invocation failed (${(error as Error).name})`);
      outcome = 'error';
    }
    if (outcome === 'crashed') this.injected.add(`handler: crashed ${plan}`);
    if (typeof outcome === 'object') this.observeResult(outcome);
    const traced = this.bodies.get(delivery.event.runId);
    if (traced && trace.finished && (outcome === 'crashed' || outcome === 'error'))
      traced.completionLost = true;
    if (outcome !== 'crashed' && outcome !== 'error') return;
    if (delivery.lambdaAttempt >= 3) {
      this.observed.add('lambda: event dropped after 3 attempts');
      return;
    }
    this.observed.add('lambda: failed invocation delivered again');
    const wait = delivery.lambdaAttempt === 1 ? MINUTE_MS : 2 * MINUTE_MS;
    this.deliver({ ...delivery, at: this.nowMs + wait, lambdaAttempt: delivery.lambdaAttempt + 1 });
  }

  private observeResult(result: TaskInvocationResult): void {
    if (!result.claimed) {
      // A run already recorded, or (where the claim checks the task's lease) refused.
      const why = result as { existingStatus?: string; refused?: string };
      this.observed.add(
        why.existingStatus !== undefined
          ? `handler: delivery dropped at claim (run was ${why.existingStatus})`
          : `handler: delivery refused at claim (${why.refused})`,
      );
    } else if (!result.recorded) this.observed.add('handler: completion refused (lease reclaimed)');
    else this.observed.add(`handler: run recorded ${result.status}`);
  }

  /** The task body: traces each start, applies its effect once per slot (`ctx.idempotencyKey`). */
  private async body(
    ctx: TaskContext<unknown>,
    life: Life,
    crash: boolean,
    trace: { finished: boolean },
  ): Promise<string> {
    const slot = ctx.idempotencyKey;
    const traced = this.bodies.get(ctx.runId) ?? {
      slot,
      started: 0,
      finished: 0,
      completionLost: false,
      interrupted: false,
    };
    this.bodies.set(ctx.runId, traced);
    traced.started++;
    if (traced.started === 1) this.slotRuns.set(slot, [...(this.slotRuns.get(slot) ?? []), ctx.runId]);
    if (crash) {
      traced.interrupted = true;
      life.crash();
      return never();
    }
    if (this.faults.on && this.random.chance(this.config.bodyFailure)) {
      this.injected.add('body: threw');
      // The body ended: a completion lost from here on (a crash, an error) makes the slot run again.
      trace.finished = true;
      throw new Error('injected body failure');
    }
    if (this.effects.has(slot)) this.observed.add('body: effect already applied for this idempotencyKey');
    else this.effects.add(slot);
    traced.finished++;
    trace.finished = true;
    return 'done';
  }

  // --------------------------------------------------------------------------- tick

  /** One real tick, in a process that may die after a lease write or after an invoke. */
  async tick(): Promise<void> {
    const life = new Life();
    const c = this.config.crash;
    const on = this.faults.on;
    const plan =
      on && this.random.chance(c.tickAfterLease)
        ? 'after-lease'
        : on && this.random.chance(c.tickAfterInvoke)
          ? 'after-invoke'
          : undefined;
    const crashAtSave = this.random.int(1, 3);
    const crashAtInvoke = this.random.int(1, 20);
    let saves = 0;
    let invokes = 0;
    const store = crashable(
      this.stores.faulty,
      life,
      (method, point) =>
        plan === 'after-lease' &&
        point === 'after' &&
        (method === 'saveTasks' || method === 'saveTask') &&
        ++saves === crashAtSave,
      (method, _args, result) => this.observeLeases(method, result),
    );
    const invoker = {
      invoke: async (_fn: string, event: RunEvent): Promise<InvokeResult> => {
        if (life.crashed) return never();
        const result = this.send(event);
        if (plan === 'after-invoke' && ++invokes === crashAtInvoke) {
          life.crash();
          return never();
        }
        return result;
      },
    };
    const deps: TickDeps = {
      store,
      invoker,
      clock: this.clock,
      registry: new TaskTypeRegistry(store, this.clock),
      newRunId: monotonicFactory(),
    };
    const outcome = await Promise.race([runTick(deps, { recordTick: false }), life.died]);
    if (outcome === 'crashed') this.injected.add(`tick: crashed ${plan}`);
    else this.tickReports.push(outcome);
  }

  /** Runs a tick's saves leased: each must end in a record. */
  private observeLeases(method: string, result: unknown): void {
    const results = method === 'saveTask' ? [result] : method === 'saveTasks' ? (result as unknown[]) : [];
    for (const r of results as { saved: boolean; task?: TaskState }[]) {
      if (!r.saved || !r.task) continue;
      for (const a of r.task.active) this.runsSeen.add(`${r.task.id}|${a.runId}`);
    }
  }
}

/** Seeds the tasks and registers the task type, without faults. */
async function seed(sim: Sim): Promise<{ tasks: TaskState[] }> {
  const { clean } = sim.stores;
  await clean.putTaskType({ name: TASK_TYPE, functionName: FUNCTION_NAME });
  const tasks = Array.from({ length: sim.config.tasks }, (_, i) => taskOf(i, sim.config, sim.random));
  const limit = pLimit(32);
  await Promise.all(tasks.map((task) => limit(() => clean.createTask(task))));
  return { tasks };
}

/** The minute's ticks: at which 10 s step of the minute each fires (none in an outage minute). */
function ticksOfMinute(sim: Sim): number[] {
  if (sim.faults.on && sim.random.chance(sim.config.tickOutage)) {
    sim.injected.add('tick: outage (no tick that minute)');
    return [];
  }
  // Half the minutes, every tick at once; otherwise spread over the minute's first 20 s.
  const together = sim.random.chance(0.5);
  return Array.from({ length: sim.config.ticks }, () => (together ? 0 : sim.random.int(0, 2)));
}

/** Moves the clock in 10 s steps; ticks fire each minute, deliveries as they come due. */
async function simulate(sim: Sim): Promise<void> {
  const { minutes, drainMinutes, log } = sim.config;
  const faultEnd = START.getTime() + minutes * MINUTE_MS;
  const end = faultEnd + drainMinutes * MINUTE_MS;
  let steps: number[] = [];
  for (let t = START.getTime() + STEP_MS; t <= end; t += STEP_MS) {
    sim.nowMs = t;
    sim.faults.on = t <= faultEnd;
    const stepOfMinute = (t % MINUTE_MS) / STEP_MS;
    if (stepOfMinute === 0) {
      steps = ticksOfMinute(sim);
      const minute = (t - START.getTime()) / MINUTE_MS;
      if (log && minute % 10 === 0) log(`minute ${minute} of ${minutes + drainMinutes}`);
    }
    const ticks = steps.filter((s) => s === stepOfMinute).map(() => sim.tick());
    const deliveries = sim.settle();
    await Promise.all([...ticks, deliveries]);
    await sim.settle();
  }
}

/** Every record of a task, all pages. */
async function historyOf(store: TaskStore, taskId: string): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  let nextToken: string | undefined;
  do {
    const page = await store.listRuns(taskId, { limit: 100, ...(nextToken ? { nextToken } : {}) });
    records.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return records;
}

/** A tick error's kind, without the ids in its message. */
function errorKind(message: string): string {
  if (message.includes('unavailable')) return 'store unavailable (throttled)';
  if (message.includes('reply was lost')) return 'store reply lost';
  return message.replace(/[0-9A-Z]{26}|chaos-\d+/g, '…').slice(0, 80);
}

/** How a record that is not a plain run came about, for the report. */
function recordKind(record: RunRecord): string | undefined {
  if (record.status === 'timed-out') {
    return record.note?.includes('before the handler claimed')
      ? 'record: timed out, never claimed (lease ended first)'
      : 'record: timed out while running (crash or lost completion)';
  }
  if (record.status === 'skipped') return `record: skipped (${record.note?.split(':')[0]})`;
  if (record.status === 'missed') return 'record: missed';
  if (record.trigger === 'retry' && record.attempt > 1) return 'record: retry';
  return undefined;
}

function example(report: ChaosReport, what: unknown): void {
  if (report.examples.length < 5) report.examples.push(JSON.stringify(what));
}

/** Why a slot's body ran again after the run `runId`. */
function repeatReason(
  sim: Sim,
  record: RunRecord | undefined,
  runId: string,
): keyof ChaosReport['slotRepeats'] {
  const trace = sim.bodies.get(runId);
  if (trace?.interrupted) return 'afterInterruptedBody';
  if (record?.status === 'failed') return 'afterFailure';
  if (trace?.completionLost && record?.status === 'timed-out') return 'afterLostCompletion';
  return 'unexplained';
}

/** Counts every slot of the fault period against the final records, and every run seen against its record. */
async function account(sim: Sim, tasks: TaskState[], report: ChaosReport): Promise<void> {
  const horizon = new Date(START.getTime() + sim.config.minutes * MINUTE_MS);
  const records = new Map<string, RunRecord>();
  const limit = pLimit(16);
  const histories = await Promise.all(
    tasks.map((task) => limit(async () => ({ task, history: await historyOf(sim.stores.clean, task.id) }))),
  );
  for (const { task, history } of histories) {
    for (const r of history) {
      records.set(`${task.id}|${r.runId}`, r);
      const why = recordKind(r);
      if (why) sim.observed.add(why);
    }
    const got = accountTask(
      task,
      history,
      task.nextSlotAt ?? horizon,
      horizon,
      sim.config.naming ?? defaultSlotNaming,
    );
    report.slots += got.slots;
    report.ran += got.ran;
    report.skipped += got.skipped;
    report.missed += got.missed;
    report.unaccounted += got.unaccounted.length;
    report.slotsStartedTwice += got.startedTwice;
    if (got.unaccounted.length > 0) {
      example(report, {
        task: task.id,
        catchUp: task.catchUp,
        unaccounted: got.unaccounted.map((t) => new Date(t)),
      });
      report.unaccountedByCatchUp[task.catchUp] =
        (report.unaccountedByCatchUp[task.catchUp] ?? 0) + got.unaccounted.length;
    }
  }
  for (const key of sim.runsSeen) {
    const record = records.get(key);
    if (!record || !['succeeded', 'failed', 'cancelled', 'timed-out'].includes(record.status))
      report.lostRuns++;
  }
  report.runsStarted = sim.runsSeen.size;
  for (const [, count] of sim.claims) report.duplicateClaims += Math.max(0, count - 1);
  for (const [, trace] of sim.bodies) if (trace.started > 1) report.bodiesRunTwice++;
  for (const [slot, runIds] of sim.slotRuns) {
    const taskId = slot.slice(0, slot.indexOf(':'));
    for (let i = 1; i < runIds.length; i++) {
      const earlier = runIds[i - 1] as string;
      const record = records.get(`${taskId}|${earlier}`);
      const reason = repeatReason(sim, record, earlier);
      report.slotRepeats[reason]++;
      if (reason === 'unexplained')
        example(report, { slot, runIds, earlier: record, trace: sim.bodies.get(earlier) });
    }
  }
  report.effects = {
    applied: sim.effects.size,
    deduplicated: sim.observed.get('body: effect already applied for this idempotencyKey'),
  };
}

/** Runs the harness and counts what happened. */
export async function runChaos(config: ChaosConfig): Promise<ChaosReport> {
  const started = performance.now();
  const sim = new Sim(config);
  sim.stores = await openStores(config, sim.faults, sim.random, sim);
  if (config.wrapStore) sim.stores.faulty = config.wrapStore(sim.stores.faulty);
  try {
    const { tasks } = await seed(sim);
    await simulate(sim);
    sim.faults.on = false;
    const report: ChaosReport = {
      slots: 0,
      ran: 0,
      skipped: 0,
      missed: 0,
      unaccounted: 0,
      unaccountedByCatchUp: {},
      duplicateClaims: 0,
      bodiesRunTwice: 0,
      slotsStartedTwice: 0,
      slotRepeats: { afterFailure: 0, afterLostCompletion: 0, afterInterruptedBody: 0, unexplained: 0 },
      effects: { applied: 0, deduplicated: 0 },
      lostRuns: 0,
      runsStarted: 0,
      injected: {},
      observed: {},
      simulatedMinutes: config.minutes + config.drainMinutes,
      wallMs: 0,
      examples: [],
    };
    await account(sim, tasks, report);
    for (const r of sim.tickReports) {
      sim.observed.add('tick: contended (another tick won)', r.contended);
      sim.observed.add('tick: runs timed out', r.timedOut);
      for (const e of r.errors) sim.observed.add(`tick: task failed: ${errorKind(e.message)}`);
    }
    report.injected = Object.fromEntries([...sim.injected.counts].sort());
    report.observed = Object.fromEntries([...sim.observed.counts].sort());
    report.wallMs = Math.round(performance.now() - started);
    return report;
  } finally {
    sim.stores.close();
  }
}

/** The sum of several runs' reports (independent tables run one after the other). */
export function mergeReports(reports: ChaosReport[]): ChaosReport {
  const sumInto = (into: Record<string, number>, from: Record<string, number>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  const total = structuredClone(reports[0] as ChaosReport);
  for (const r of reports.slice(1)) {
    for (const key of [
      'slots',
      'ran',
      'skipped',
      'missed',
      'unaccounted',
      'duplicateClaims',
      'bodiesRunTwice',
      'slotsStartedTwice',
      'lostRuns',
      'runsStarted',
      'wallMs',
    ] as const) {
      total[key] += r[key];
    }
    sumInto(total.unaccountedByCatchUp, r.unaccountedByCatchUp);
    sumInto(total.slotRepeats, r.slotRepeats);
    sumInto(total.effects, r.effects);
    sumInto(total.injected, r.injected);
    sumInto(total.observed, r.observed);
    total.examples.push(...r.examples.slice(0, Math.max(0, 10 - total.examples.length)));
  }
  total.injected = Object.fromEntries(Object.entries(total.injected).sort());
  total.observed = Object.fromEntries(Object.entries(total.observed).sort());
  return total;
}
