/**
 * Section 4, cost per run: the DynamoDB requests and units of one whole run, step by step, from
 * the client's capacity meter (`capacity.ts`: `ReturnConsumedCapacity: 'INDEXES'` on every call),
 * everything done one call at a time so each call's units land in its own step. Cross-checked against the formula of
 * docs/architecture.md computed from the real items' sizes. Also: what a losing attempt wastes.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import type { TaskState } from '../../src/core/model.js';
import { planTask } from '../../src/core/plan.js';
import type { RunEvent, SaveTaskResult } from '../../src/core/ports.js';
import { scheduleFor } from '../../src/core/schedule-cache.js';
import { newId } from '../../src/ids.js';
import { keys } from '../../src/store/dynamo-items.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { runTick } from '../../src/tick/run-tick.js';
import { diff, MethodMeter } from './capacity.js';
import type { SectionContext } from './context.js';
import {
  benchTask,
  clockMs,
  FUNCTION_NAME,
  freshTable,
  makeInvoker,
  round,
  taskId,
  tickDeps,
} from './harness.js';
import type { SectionResult } from './report.js';
import { sdkHandler } from './sdk.js';

/** DynamoDB's item size rules (names + values; numbers ~1 byte per 2 digits + 1). */
export function itemSize(item: Record<string, unknown>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: unknown): number {
  if (value === null || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number') {
    const digits = String(Math.abs(value)).replace(/[.-]/g, '').replace(/^0+/, '').replace(/e.*$/, '');
    return Math.ceil(Math.max(1, digits.length) / 2) + 1;
  }
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((s: number, v) => s + 1 + valueSize(v), 0);
  if (value instanceof Set) return [...value].reduce((s: number, v) => s + valueSize(v), 0);
  if (typeof value === 'object')
    return (
      3 +
      Object.entries(value as Record<string, unknown>).reduce(
        (s, [k, v]) => s + 1 + Buffer.byteLength(k) + valueSize(v),
        0,
      )
    );
  return 0;
}

const wru = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
const rruStrong = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));

/**
 * The store with `saveTasks` sent as one conditional PutItem per task, as `saveTask` sends it:
 * DynamoDB Local reports no capacity for the PartiQL batch the store sends instead, and DynamoDB
 * bills each statement of that batch as this very write of the same item.
 */
function unbatched(store: DynamoTaskStore): DynamoTaskStore {
  const saveTasks = (saves: { task: TaskState; expectedVersion: number }[]): Promise<SaveTaskResult[]> =>
    Promise.all(saves.map(({ task, expectedVersion }) => store.saveTask(task, { expectedVersion })));
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'saveTasks') return saveTasks;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * The tick's reads of its shards one at a time (the tick sends them at once), outside the meter:
 * the meter takes the difference of the table's tally around each call, so calls that overlap
 * would each count the others' units too.
 */
function shardsOneAtATime(store: DynamoTaskStore): DynamoTaskStore {
  const oneAtATime = pLimit(1);
  const queryDue: DynamoTaskStore['queryDue'] = (...args) => oneAtATime(() => store.queryDue(...args));
  return new Proxy(store, {
    get(target, property, receiver) {
      if (property === 'queryDue') return queryDue;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** What the dispatch writes consumed: single saves and batched ones alike. */
function dispatchUnits(meter: MethodMeter) {
  const one = meter.get('saveTask');
  const many = meter.get('saveTasks');
  return {
    readUnits: one.readUnits + many.readUnits,
    writeUnits: one.writeUnits + many.writeUnits,
    requests: one.requests + many.requests,
  };
}

interface Step {
  step: string;
  requests: number;
  writeUnits: number;
  readUnits: number;
  /** What the formula says, per run. */
  formulaWrite: number;
  formulaRead: number;
  what: string;
}

export async function runCost(ctx: SectionContext): Promise<SectionResult> {
  const begun = clockMs();
  const n = ctx.env.quick ? 20 : 100;
  // One PutItem per dispatch rather than the tick's PartiQL batches: DynamoDB Local reports no
  // capacity for PartiQL. The units are the same: both write the same item in full.
  const { tableName, store, meter, metered, t0, clock, events, tick, at } = await everyMinuteTable(
    ctx,
    'cost',
    n,
  );

  // First dispatch (nothing to fold yet).
  meter.reset();
  const first = await tick();
  const firstDispatch = dispatchUnits(meter);
  const firstQuery = meter.get('queryDue');
  await waitFor(() => events.length >= n);

  // Handlers (the task SDK, body returns at once), one at a time: claim, complete, settle.
  const handled = [...events];
  events.length = 0;
  let last: unknown;
  const handler = sdkHandler(metered, () => 'done', {
    clock,
    onResult: (result) => {
      last = result;
    },
  });
  const heartbeats = { readUnits: 0, writeUnits: 0, requests: 0 };
  const claim = { readUnits: 0, writeUnits: 0, requests: 0 };
  const complete = { ...claim };
  const claimRead = { ...claim };
  const settleWrite = { ...claim };
  let settleWrites = 0;
  for (const event of handled) {
    meter.reset();
    last = undefined;
    await handler(event, FUNCTION_NAME);
    const result = last as { recorded?: boolean; settled?: string } | undefined;
    if (!result?.recorded)
      throw new Error(`cost: run ${event.runId} did not complete: ${JSON.stringify(result)}`);
    if (result.settled === 'saved') settleWrites++;
    add(heartbeats, meter.get('heartbeat'));
    add(claim, meter.get('claimRun'));
    add(complete, meter.get('completeRun'));
    // The handler reads its task (consistently) to find the lease its claim is made from; a
    // settle would read it too, but with nothing pending the completion skips the settle.
    add(claimRead, meter.get('getTask'));
    add(settleWrite, dispatchUnits(meter));
  }

  // The next slot: the dispatch that folds the finished run and starts the next one.
  at(t0 + 61_000);
  meter.reset();
  const second = await tick();
  const foldRead = meter.get('getRuns');
  const dispatch = dispatchUnits(meter);
  const query = meter.get('queryDue');
  if (second.started !== n) throw new Error(`cost: the second tick started ${second.started} of ${n}`);

  // Tasks due less often than once a tick: their due-index key moves at each dispatch.
  const rare = Math.max(5, n / 10);
  for (let i = 0; i < rare; i++) {
    await store.createTask(
      benchTask({ id: taskId('cost-hourly', i), schedule: '0 * * * *', nextSlotAt: new Date(t0) }),
    );
  }
  meter.reset();
  const third = await tick();
  const rareDispatch = dispatchUnits(meter);
  if (third.started !== rare) throw new Error(`cost: the hourly tick started ${third.started} of ${rare}`);

  // Item sizes for the formula: the task item as the second dispatch left it, a finished run.
  const sample = handled[0] as RunEvent;
  const taskItem = (
    await ctx.env.doc.send(
      new GetCommand({ TableName: tableName, Key: keys.task(sample.taskId), ConsistentRead: true }),
    )
  ).Item as Record<string, unknown>;
  const runItem = (
    await ctx.env.doc.send(
      new GetCommand({
        TableName: tableName,
        Key: keys.run(sample.taskId, sample.runId),
        ConsistentRead: true,
      }),
    )
  ).Item as Record<string, unknown>;
  const taskBytes = itemSize(taskItem);
  const runBytes = itemSize(runItem);
  // The keys-only index: a Query rounds the sum of the keys it read up to 4 KB (eventually
  // consistent: half a unit each); then BatchGetItem of the records, eventually consistent, each
  // record rounded up to 4 KB on its own.
  const keyBytes = itemSize({
    pk: taskItem.pk,
    sk: taskItem.sk,
    dueShard: taskItem.dueShard,
    dueAt: taskItem.dueAt,
  });
  const queryFormula = (0.5 * Math.ceil((keyBytes * n) / 4096)) / n + 0.5 * Math.ceil(taskBytes / 4096);

  const per = (c: { readUnits: number; writeUnits: number; requests: number }) => ({
    requests: c.requests / n,
    writeUnits: c.writeUnits / n,
    readUnits: c.readUnits / n,
  });
  const steps: Step[] = [
    {
      step: 'dispatch (task compare-and-set)',
      ...per(dispatch),
      // The index key is held (due again within one tick) and the index projects keys only:
      // nothing the index holds changes, so it costs nothing.
      formulaWrite: wru(taskBytes),
      formulaRead: 0,
      what: 'PutItem of the task item; its due-index key is held and the index keys-only: no index write',
    },
    {
      step: 'due read (share per due task)',
      ...per(query),
      formulaWrite: 0,
      formulaRead: queryFormula,
      what: 'Query of each shard of the keys-only index, then BatchGetItem of the records, both eventually consistent',
    },
    {
      step: 'claim',
      ...per(claim),
      // The run item alone: a `running` record enters the run index at its first heartbeat.
      formulaWrite: wru(runBytes),
      formulaRead: 0,
      what: 'PutItem of the run item, condition: absent (no run-index key yet)',
    },
    {
      step: 'completion',
      ...per(complete),
      // The run item alone: a scheduled success of an every-minute task is not listed across
      // tasks by default (src/core/listing.ts), so no run-index entry is put.
      formulaWrite: wru(runBytes),
      formulaRead: 0,
      what: 'UpdateItem of the run item, fenced by token + request id; no run-index key',
    },
    {
      step: 'claim read (the lease)',
      ...per(claimRead),
      formulaWrite: 0,
      formulaRead: rruStrong(taskBytes),
      what: 'GetItem of the task item, strongly consistent: the lease the claim is made from',
    },
    {
      step: 'completion settle (read and write)',
      ...per(settleWrite),
      formulaWrite: 0,
      formulaRead: 0,
      what: 'none in the common case: the fold waits for the next dispatch',
    },
    {
      step: 'fold read (next tick)',
      ...per(foldRead),
      formulaWrite: 0,
      formulaRead: 0.5 * Math.ceil(runBytes / 4096),
      what: 'BatchGetItem of the run item, eventually consistent',
    },
    {
      step: 'fold write',
      requests: 0,
      writeUnits: 0,
      readUnits: 0,
      formulaWrite: 0,
      formulaRead: 0,
      what: "folded into the next dispatch's write (counted under dispatch)",
    },
  ];
  const total = steps.reduce(
    (s, x) => ({
      requests: s.requests + x.requests,
      writeUnits: s.writeUnits + x.writeUnits,
      readUnits: s.readUnits + x.readUnits,
      formulaWrite: s.formulaWrite + x.formulaWrite,
      formulaRead: s.formulaRead + x.formulaRead,
    }),
    { requests: 0, writeUnits: 0, readUnits: 0, formulaWrite: 0, formulaRead: 0 },
  );

  const contended = await losingAttempt(ctx, taskBytes, queryFormula);
  const idempotent = await optInRuns(ctx, n, 'idem', { idempotent: true });
  const listed = await optInRuns(ctx, n, 'lst', { listSucceeded: true });
  const idempotentListed = await optInRuns(ctx, n, 'idem-lst', { idempotent: true, listSucceeded: true });

  const notes = [
    `items: task ${taskBytes} B, finished run ${runBytes} B (DynamoDB size rules); write units round up per 1 KB, reads per 4 KB`,
    'handlers: the task SDK (createTaskHandler) with a body that returns at once, one run at a time',
    'the run index (GET /runs) adds 1 WRU a listed run that ends before its first heartbeat: its entry is put once, at the completion, under its end state (3 for a run that heartbeats: put under running at the first beat, moved at the end); by default a scheduled success of an every-minute task is not listed (listSucceeded: true lists it)',
    'the due index projects keys only (due2): a dispatch that holds its key costs it nothing; the tick reads the records by key after each index page',
    'a failed conditional write is reported as 0 units by DynamoDB Local; DynamoDB bills it (at least 1 WRU, the existing item size rounded up per 1 KB): counted by formula',
  ];
  if (heartbeats.requests > 0)
    notes.push(`${heartbeats.requests} heartbeats were sent by ${n} immediate runs (expected 0)`);
  if (settleWrites > 0) notes.push(`${settleWrites} of ${n} completions wrote the task item (expected 0)`);
  return {
    durationMs: clockMs() - begun,
    figures: [
      ...steps
        .filter((s) => s.writeUnits > 0 || s.readUnits > 0)
        .map((s) => ({
          section: 'cost' as const,
          name: `${s.step}: ${s.writeUnits > 0 ? 'WRU' : 'RRU'} (formula ${round(s.writeUnits > 0 ? s.formulaWrite : s.formulaRead)})`,
          value: round(s.writeUnits > 0 ? s.writeUnits : s.readUnits),
          unit: '',
        })),
      { section: 'cost', name: 'requests per run', value: round(total.requests, 2), unit: '' },
      {
        section: 'cost',
        name: `dispatch of an hourly task (index key moves): WRU (formula ${wru(taskBytes) + 2})`,
        value: round(rareDispatch.writeUnits / rare),
        unit: '',
      },
      {
        section: 'cost',
        // Listed: its next slot is an hour away.
        name: 'WRU per run of an hourly task (formula)',
        value: wru(taskBytes) + 2 + 2 * wru(runBytes) + 1,
        unit: '',
      },
      {
        section: 'cost',
        name: 'dispatch WRU with a 1,024-char lastResult on the task (formula)',
        value: wru(taskBytes + 1024),
        unit: '',
      },
      {
        section: 'cost',
        name: `idempotent task (opt-in, no claim write): WRU per run (formula ${wru(taskBytes) + wru(runBytes)})`,
        value: round(idempotent.writeUnitsPerRun),
        unit: '',
      },
      {
        section: 'cost',
        name: `listSucceeded true (every success in the run index): WRU per run (formula ${wru(taskBytes) + 2 * wru(runBytes) + 1})`,
        value: round(listed.writeUnitsPerRun),
        unit: '',
      },
      {
        section: 'cost',
        name: `idempotent + listSucceeded true: WRU per run (formula ${wru(taskBytes) + wru(runBytes) + 1})`,
        value: round(idempotentListed.writeUnitsPerRun),
        unit: '',
      },
      {
        section: 'cost',
        name: 'losing attempt: WRU (formula; Local reports 0)',
        value: contended.formulaWrite,
        unit: '',
      },
      { section: 'cost', name: 'losing attempt: reported WRU', value: contended.reportedWrite, unit: '' },
      {
        section: 'cost',
        name: 'losing attempt: RRU (its due-index read)',
        value: round(contended.formulaRead),
        unit: '',
      },
    ],
    goals: [
      {
        section: 'cost',
        name: 'WRU per run (no progress writes)',
        // Issue 19: at most 3 by default. 3 since a frequent task's scheduled successes are not
        // listed by default; 4 since a run enters the run index when it ends; 6 since the
        // keys-only due index; 7 before it.
        target: '<= 3',
        value: round(total.writeUnits),
        unit: '',
        met: total.writeUnits <= 3,
      },
      {
        section: 'cost',
        name: 'RRU per run',
        target: '<= 1',
        value: round(total.readUnits),
        unit: '',
        met: total.readUnits <= 1,
      },
    ],
    details: {
      runs: n,
      steps,
      total,
      formulaMatches: Math.abs(total.writeUnits - total.formulaWrite) < 0.01,
      firstDispatch: per(firstDispatch),
      firstQuery: per(firstQuery),
      firstTick: { due: first.due, started: first.started, itemsRead: first.itemsRead },
      hourlyDispatch: { tasks: rare, writeUnitsPerTask: rareDispatch.writeUnits / rare },
      secondTick: { due: second.due, started: second.started, itemsRead: second.itemsRead },
      taskItemBytes: taskBytes,
      runItemBytes: runBytes,
      contended,
      idempotent,
      listed,
      idempotentListed,
    },
    notes,
  };
}

function add(
  into: { readUnits: number; writeUnits: number; requests: number },
  c: { readUnits: number; writeUnits: number; requests: number },
) {
  into.readUnits += c.readUnits;
  into.writeUnits += c.writeUnits;
  into.requests += c.requests;
}

async function waitFor(done: () => boolean, timeoutMs = 10_000) {
  const until = clockMs() + timeoutMs;
  while (!done()) {
    if (clockMs() > until) throw new Error('cost: timed out waiting for invokes');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A metered table of its own with `n` every-minute tasks (plus `options`), first due at `t0`, a
 * virtual clock (tick 1 at t0 + 1 s; `at` moves it), the stub recording each run event, and a
 * tick that dispatches one at a time over the meter.
 */
async function everyMinuteTable(
  ctx: SectionContext,
  label: string,
  n: number,
  options: Pick<TaskState, 'idempotent' | 'listSucceeded'> = {},
) {
  const { tableName, store } = await freshTable(ctx.env, label);
  const meter = new MethodMeter(ctx.env.meter, tableName);
  const metered = shardsOneAtATime(meter.wrap(unbatched(store)));
  const t0 = Math.floor(Date.now() / 60_000) * 60_000;
  let nowMs = t0 + 1000;
  const clock = { now: () => new Date(nowMs) };
  for (let i = 0; i < n; i++) {
    await store.createTask({
      ...benchTask({ id: taskId(label, i), schedule: '* * * * *', nextSlotAt: new Date(t0) }),
      ...options,
    });
  }
  const events: RunEvent[] = [];
  ctx.stub.reset();
  ctx.stub.latencyMs = 0;
  ctx.stub.handler = async (event) => {
    events.push(event);
  };
  const deps = await tickDeps(metered, makeInvoker(ctx.env.lambdaEndpoint), clock);
  const tick = () => runTick(deps, { concurrency: 1, recordTick: false, now: clock.now() });
  const at = (ms: number) => {
    nowMs = ms;
  };
  return { tableName, store, meter, metered, t0, clock, events, tick, at };
}

/**
 * An option, measured the same way on a table of its own: the second dispatch of `n` every-minute
 * tasks with `options`, and their handlers. `idempotent: true` skips the claim's write and records
 * each run once at its end (`recordRun`); `listSucceeded: true` puts each success's run-index
 * entry, which an every-minute task's scheduled success goes without by default.
 */
async function optInRuns(
  ctx: SectionContext,
  n: number,
  label: string,
  options: Pick<TaskState, 'idempotent' | 'listSucceeded'>,
) {
  const { meter, metered, t0, clock, events, tick, at } = await everyMinuteTable(ctx, label, n, options);
  await tick();
  await waitFor(() => events.length >= n);
  const handler = sdkHandler(metered, () => 'done', { clock });
  meter.reset();
  for (const event of [...events]) await handler(event, FUNCTION_NAME);
  const handlers = ['claimRun', 'completeRun', 'recordRun', 'heartbeat'].reduce(
    (sum, method) => sum + meter.get(method).writeUnits,
    0,
  );
  at(t0 + 61_000);
  meter.reset();
  const second = await tick();
  if (second.started !== n) throw new Error(`cost: the ${label} tick started ${second.started} of ${n}`);
  const dispatch = dispatchUnits(meter).writeUnits;
  return {
    runs: n,
    dispatchWriteUnitsPerRun: dispatch / n,
    handlerWriteUnitsPerRun: handlers / n,
    writeUnitsPerRun: (dispatch + handlers) / n,
  };
}

/**
 * A losing attempt, one at a time: two ticks read the same due task; the first saves; the
 * second's compare-and-set fails. Measured from the meter, plus the formula DynamoDB bills.
 * Then a real race: two ticks at once over the same due tasks.
 */
async function losingAttempt(ctx: SectionContext, taskBytes: number, dueReadPerTask: number) {
  const { tableName, store } = await freshTable(ctx.env, 'contend');
  const now = new Date();
  const id = taskId('contend', 0);
  await store.createTask(
    benchTask({ id, schedule: '* * * * *', nextSlotAt: new Date(now.getTime() - 1000) }),
  );
  const shards = Array.from({ length: store.shardCount }, (_, s) => s);
  const [a] = (await Promise.all(shards.map((s) => store.queryDue(s, now)))).flatMap((q) => q.tasks);
  if (!a) throw new Error('contend: the task is not due');
  const plan = () => planTask(a, { now, schedule: scheduleFor(a), runs: new Map(), newRunId: newId });
  const winner = await store.saveTask(plan().task, { expectedVersion: a.version });
  const before = ctx.env.meter.tally(tableName);
  const loser = await store.saveTask(plan().task, { expectedVersion: a.version });
  const lost = diff(ctx.env.meter.tally(tableName), before);
  if (!winner.saved || loser.saved) throw new Error('contend: expected one winner and one loser');

  // The race: two ticks at once over the same due tasks.
  const m = ctx.env.quick ? 50 : 200;
  for (let i = 1; i <= m; i++) {
    await store.createTask(
      benchTask({ id: taskId('race', i), schedule: '* * * * *', nextSlotAt: new Date(now.getTime() - 1000) }),
    );
  }
  ctx.stub.reset();
  ctx.stub.latencyMs = 20;
  const invoker = makeInvoker(ctx.env.lambdaEndpoint);
  const storeB = new DynamoTaskStore({ client: ctx.env.doc, tableName });
  ctx.env.meter.reset(tableName);
  const [ra, rb] = await Promise.all([
    runTick(await tickDeps(store, invoker), { concurrency: ctx.concurrency, recordTick: false }),
    runTick(await tickDeps(storeB, invoker), { concurrency: ctx.concurrency, recordTick: false }),
  ]);
  const started = ra.started + rb.started;
  const contended = ra.contended + rb.contended;
  // Both ticks' stores work on this one table: its tally is theirs.
  const reportedWrite = ctx.env.meter.tally(tableName).writeUnits;
  return {
    reportedWrite: lost.writeUnits,
    reportedRead: lost.readUnits,
    requests: lost.requests,
    formulaWrite: wru(taskBytes),
    // The loser also read the task to plan it: its share of the due read.
    formulaRead: dueReadPerTask,
    race: {
      due: m,
      started,
      contended,
      reportedWriteUnits: reportedWrite,
      reportedWriteUnitsPerStart: reportedWrite / Math.max(1, started),
      billedWriteUnitsForLosers: contended * wru(taskBytes),
    },
  };
}
