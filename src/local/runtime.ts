/**
 * The local runtime (`tickwork dev`): the whole scheduler on one machine.
 *
 * ```
 *  tick timer (wall-clock boundaries) ─► runTick ─► LambdaTaskInvoker ─► local Invoke endpoint
 *  API (@hono/node-server) ─ run-now ─► dispatchNow ─┘                     │ Event: 202, background
 *           │                                                              ▼
 *           └─ GET …/logs ◄── run log book ◄── stdout/stderr ── worker processes (one per invocation
 *                                                                at a time, pool per function)
 *  every SDK client ─► AWS_ENDPOINT_URL_DYNAMODB ─► DynamoDB Local (.tickwork/, or in memory)
 *                  └─► AWS_ENDPOINT_URL_LAMBDA  ─► local Invoke endpoint
 * ```
 *
 * Nothing in the business code knows it runs locally: the tick, the API and the task SDK build
 * their usual AWS SDK clients, and the SDK's standard endpoint variables point them here.
 *
 * Without Java (no DynamoDB Local), the store is a `MemoryTaskStore` in this process. Handlers,
 * which run in worker processes, then reach it over the worker's IPC channel: the worker builds
 * the handler with `createTaskHandler(types, { store })` from the exports the config names per
 * type (`task`), so that mode needs no DynamoDB at all.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import { dirname, extname } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiError, toErrorResponse } from '../api/errors.js';
import { guardFetch, isLoopback, localHosts } from '../api/local-guard.js';
import { systemClock } from '../clock.js';
import type { Logger, RunEvent, TaskStore } from '../core/ports.js';
import type { TickDeps, TickReport } from '../tick/run-tick.js';
import { loadBundledFunctions } from './bundled.js';
import { type LocalSetup, loadLocalSetup } from './config.js';
import { seedDemoTasks } from './demo-tasks.js';
import { formatDurationMs } from './duration.js';
import { type DynamoDbLocal, JavaMissingError, startDynamoDbLocal } from './dynamodb-local.js';
import { type LambdaEndpoint, startLambdaEndpoint } from './lambda-endpoint.js';
import { watchHandlers } from './reload.js';
import { RunLogBook } from './run-logs.js';
import { LocalSchedulerControl, TickTimer } from './tick-timer.js';
import { type AbandonedInvocation, FunctionPool } from './worker-pool.js';

/**
 * The heavy modules (AWS SDK, API), loaded while the JVM starts: startup is as long as the
 * slower of the two, not their sum.
 */
async function loadModules() {
  const [dynamodb, nodeServer, api, dashboard, deps, memory, table, tickEnv, runTick, tickHandler] =
    await Promise.all([
      import('@aws-sdk/client-dynamodb'),
      import('@hono/node-server'),
      import('../api/app.js'),
      import('../dashboard/serve.js'),
      import('../deps.js'),
      import('../store/memory-task-store.js'),
      import('../store/table-definition.js'),
      import('../tick/env.js'),
      import('../tick/run-tick.js'),
      import('../tick/handler.js'),
    ]);
  return {
    DynamoDBClient: dynamodb.DynamoDBClient,
    getRequestListener: nodeServer.getRequestListener,
    createApp: api.createApp,
    dashboardHandler: dashboard.dashboardHandler,
    makeTickDeps: deps.makeTickDeps,
    MemoryTaskStore: memory.MemoryTaskStore,
    DEFAULT_SHARD_COUNT: table.DEFAULT_SHARD_COUNT,
    ensureTable: table.ensureTable,
    tickEnvSchema: tickEnv.tickEnvSchema,
    runTick: runTick.runTick,
    lookAheadFromNow: tickHandler.lookAheadFromNow,
  };
}

/** Where the runtime keeps its data. */
export type LocalStorage =
  /** DynamoDB Local persisting in `dataDir`. */
  | { kind: 'persistent'; dataDir: string }
  /** DynamoDB Local in memory: nothing survives a stop. */
  | { kind: 'in-memory' }
  /** An engine someone else runs (shared by several runtimes, or DynamoDB Local in Docker). */
  | { kind: 'endpoint'; endpoint: string };

export interface LocalRuntimeOptions {
  storage: LocalStorage;
  table: string;
  port: number;
  host: string;
  tickEveryMs: number;
  /** Seed the demo tasks into an empty table. */
  demo: boolean;
  /** How long running tasks may go on after a stop was asked, before their workers are killed. */
  graceMs: number;
  configPath?: string;
  cwd?: string;
  /** Echo every line handlers write. */
  verbose?: boolean;
  /** Where messages go (one line each). */
  print?: (line: string) => void;
  /** Most concurrent invocations of one function. */
  maxWorkers?: number;
  /**
   * The bearer token every API request must carry (`Authorization: Bearer <token>`; the dashboard
   * page itself loads without). When absent, a `host` beyond loopback gets a random one, printed
   * in the banner; on loopback none is needed.
   */
  apiToken?: string;
}

/** A started runtime. */
export interface LocalRuntime {
  /** `http://<host>:<port>` of the API (and dashboard). */
  readonly apiUrl: string;
  readonly lambdaEndpoint: string;
  readonly dynamoEndpoint: string | undefined;
  /** The token API requests must carry (see {@link LocalRuntimeOptions.apiToken}), if any. */
  readonly apiToken: string | undefined;
  /** `dynamodb` or `memory` (the fallback without Java). */
  readonly storeKind: 'dynamodb' | 'memory';
  readonly setup: LocalSetup;
  readonly store: TaskStore;
  /** Runs one tick now (the timer does this on every boundary). */
  tick(): Promise<TickReport | undefined>;
  /** Stops everything (see {@link LocalRuntimeOptions.graceMs}); safe to call twice. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

/** Dummy credentials: local endpoints accept anything, and real ones must never be needed. */
const localCredentials = { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' };

/** `TaskStore` methods a worker may call over IPC (in-memory mode). */
const storeMethods = new Set([
  'putTaskType',
  'listTaskTypes',
  'createTask',
  'getTask',
  'listTasks',
  'saveTask',
  'deleteTask',
  'queryDue',
  'getRuns',
  'getRun',
  'listRuns',
  'claimRun',
  // An idempotent task's unclaimed run writes its one record at its end.
  'recordRun',
  'heartbeat',
  'completeRun',
  'requestCancel',
  'getSchedulerState',
  'updateSchedulerState',
]);

function timeOfDay(at: Date): string {
  return at.toISOString().slice(11, 19);
}

/** One line for a tick that did something; undefined for one that did not. */
export function tickSummary(report: TickReport): string | undefined {
  const parts: string[] = [];
  if (report.started) parts.push(`${report.started} started`);
  if (report.skipped) parts.push(`${report.skipped} skipped`);
  if (report.missed) parts.push(`${report.missed} missed`);
  if (report.timedOut) parts.push(`${report.timedOut} timed out`);
  if (report.failed) parts.push(`${report.failed} failed to start`);
  // The `Tickwork Task Overdue` event, as the local runtime shows notices: in the tick's line.
  if (report.overdueTasks?.length)
    parts.push(`${report.overdueTasks.length} overdue (${report.overdueTasks.join(', ')})`);
  if (report.contended) parts.push(`${report.contended} taken by another tick`);
  if (report.errors.length) parts.push(`${report.errors.length} errors (${report.errors[0]?.message ?? ''})`);
  if (parts.length === 0) return undefined;
  return `${timeOfDay(report.startedAt)} tick: ${parts.join(', ')} · ${report.due} due · ${report.durationMs} ms`;
}

function isRunEvent(value: unknown): value is RunEvent {
  const v = value as Partial<RunEvent> | null;
  return typeof v === 'object' && v !== null && v.tickwork === 1 && typeof v.taskId === 'string';
}

/** Starts the local runtime; resolves when the API answers. */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const print = options.print ?? ((line: string) => console.log(line));
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  };
  try {
    return await start(options, print, cleanups, cleanup);
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** What the steps of a start share. */
interface Startup {
  options: LocalRuntimeOptions;
  print: (line: string) => void;
  /** Undo steps, run in reverse order at stop (or when a later step fails). */
  cleanups: (() => Promise<void>)[];
  /** With TICKWORK_DEBUG_STARTUP=1, prints how long the start took up to `step`. */
  mark: (step: string) => void;
  /** The bearer token API requests must carry (beyond loopback, or when given). */
  apiToken: string | undefined;
}

/** The heavy modules, once loaded. */
type Modules = Awaited<ReturnType<typeof loadModules>>;

/**
 * The start, as steps: the database engine (first: the JVM is the slowest part; modules and config
 * load meanwhile) → the local Lambda endpoint → the SDK's endpoints → the store and the tick's
 * deps (the one factory, as on AWS) → task types → worker pools → the tick timer → the API →
 * the banner.
 */
async function start(
  options: LocalRuntimeOptions,
  print: (line: string) => void,
  cleanups: (() => Promise<void>)[],
  cleanup: () => Promise<void>,
): Promise<LocalRuntime> {
  const t0 = performance.now();
  const mark = (step: string) => {
    if (process.env.TICKWORK_DEBUG_STARTUP)
      print(`  [startup] ${step}: ${Math.round(performance.now() - t0)} ms`);
  };
  const apiToken =
    options.apiToken ?? (isLoopback(options.host) ? undefined : randomBytes(24).toString('base64url'));
  const up: Startup = { options, print, cleanups, mark, apiToken };
  // The SDK warns on every client that Node 20 support ends in 2027; once is in the README.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  const engineStart = startEngine(up);
  const [setup, m] = await Promise.all([
    loadLocalSetup({
      ...(options.configPath ? { configPath: options.configPath } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    }),
    loadModules(),
  ]);
  mark('modules and config loaded');
  const { engine, dynamoEndpoint } = await engineReady(up, engineStart);
  mark('database engine up');
  const { lambda, pools, logs } = await startLambda(up, setup);
  const { sdkEnv, tableEnv } = pointSdkAt(up, m, lambda.endpoint, dynamoEndpoint);
  const tick = await makeLocalTickDeps(up, m, tableEnv, dynamoEndpoint);
  const store = tick.store;
  mark('table ready');
  const seeded = await registerTypes(up, setup, tick);
  mark('types registered');
  addWorkerPools(up, setup, pools, { ...sdkEnv, ...tableEnv }, dynamoEndpoint ? undefined : store);
  const stopWatching = watchHandlers(setup, pools, print, options.cwd ? { cwd: options.cwd } : {});
  cleanups.push(async () => stopWatching());
  const { timer, runOneTick, api, bundled, minIntervalMs } = await startFunctions(up, m, {
    tick,
    tableEnv,
    logs,
    bundles: dynamoEndpoint !== undefined,
  });
  timer.start();
  // A warm worker per function, so the first run skips the cold start (after the API is up: on
  // a small machine they compete for the CPU).
  for (const pool of pools.values()) pool.warm();
  printBanner(up, {
    apiUrl: api.url,
    lambda,
    engine,
    dynamoEndpoint,
    setup,
    minIntervalMs,
    seeded,
    bundles: bundled ? dirname(dirname(bundled.files.tick)) : undefined,
  });

  const stop = stopper(up, { timer, api, lambda, pools, store, cleanup });
  return {
    apiUrl: api.url,
    apiToken,
    lambdaEndpoint: lambda.endpoint,
    dynamoEndpoint,
    storeKind: dynamoEndpoint ? 'dynamodb' : 'memory',
    setup,
    store,
    tick: runOneTick,
    stop,
  };
}

/**
 * The tick timer and the API. With DynamoDB Local they run the prebuilt bundles the construct
 * deploys; the in-memory fallback runs the same code from this process, over its own store.
 */
async function startFunctions(
  up: Startup,
  m: Modules,
  wiring: { tick: TickDeps; tableEnv: Record<string, string>; logs: RunLogBook; bundles: boolean },
) {
  const { tick, tableEnv, logs } = wiring;
  // Look-ahead, as on AWS: sub-minute schedules start on their second whatever the tick's interval.
  const minIntervalMs = Math.min(1_000, up.options.tickEveryMs);
  const lookAheadMs = localLookAheadMs(up.options.tickEveryMs);
  const bundled = wiring.bundles
    ? await loadBundledFunctions(bundleEnv(tableEnv, minIntervalMs, lookAheadMs, up.options.tickEveryMs))
    : undefined;
  up.mark('functions loaded');
  // Like the construct's 90 s for a 1-minute tick: room to wait for the last leased run, and a reserve.
  const remainingMs = lookAheadMs + 30_000;
  const tickOnce = bundled
    ? () => bundled.tick({}, { getRemainingTimeInMillis: () => remainingMs })
    : () => m.runTick(tick, { budgetMs: remainingMs - 10_000, lookAheadMs });
  const { scheduler, timer, runOneTick } = makeTicking(up, tick.store, tickOnce);
  // What the API asks when a write makes a task due before the next tick: a tick of those tasks
  // now, in the background, as the deployed API's asynchronous invoke of the tick function.
  const planNow = bundled
    ? (taskIds?: readonly string[]) =>
        bundled.tick(taskIds ? { tasks: [...taskIds] } : {}, { getRemainingTimeInMillis: () => remainingMs })
    : (taskIds?: readonly string[]) =>
        m.runTick(tick, {
          budgetMs: remainingMs - 10_000,
          lookAheadMs: m.lookAheadFromNow({ lookAheadMs, intervalMs: up.options.tickEveryMs }, new Date()),
          ...(taskIds ? { taskIds, recordTick: false } : {}),
        });
  const tickPlanner = {
    plan: async (taskIds?: readonly string[]) => {
      planNow(taskIds).then(
        (report) => {
          const line = tickSummary(report);
          if (line) up.print(line);
        },
        (error: unknown) => up.print(`tick error: ${(error as Error).message}`),
      );
    },
  };
  const local = {
    scheduler,
    tickPlanner,
    minIntervalMs,
    logs: { read: async (taskId: string, runId: string) => logs.read(taskId, runId) },
    logger: apiLogger(up),
    // Admin, as `local`; beyond loopback the audit trail names the token's holder.
    access: {
      mode: 'local' as const,
      actor: { kind: 'local' as const, id: up.apiToken ? 'local:token' : 'local' },
    },
  };
  const app = bundled
    ? bundled.localApp(local)
    : m.createApp({ ...tick, ...local, dashboard: m.dashboardHandler });
  const api = await serveApi(up, m, app);
  up.mark('API listening');
  return { timer, runOneTick, api, bundled, minIntervalMs };
}

/** The API's log lines: errors always, warnings with `--verbose`. */
function apiLogger({ options, print }: Startup): Logger {
  return {
    info: () => {},
    warn: (message) => {
      if (options.verbose) print(`api: ${message}`);
    },
    error: (message, ...extra) => print(`api error: ${message} ${extra.length ? JSON.stringify(extra) : ''}`),
  };
}

/**
 * Stop: the timer, the API, new invocations; then running tasks get `graceMs` before their
 * workers are killed (and their runs recorded cancelled); then every cleanup. Safe to call twice.
 */
function stopper(
  { options, print }: Startup,
  parts: {
    timer: TickTimer;
    api: { close(): Promise<void> };
    lambda: LambdaEndpoint;
    pools: Map<string, FunctionPool>;
    store: TaskStore;
    cleanup: () => Promise<void>;
  },
): (stopOptions?: { graceMs?: number }) => Promise<void> {
  const { timer, api, lambda, pools, store, cleanup } = parts;
  let stopping: Promise<void> | undefined;
  return (stopOptions = {}) => {
    stopping ??= (async () => {
      const graceMs = stopOptions.graceMs ?? options.graceMs;
      await timer.stop();
      await api.close();
      lambda.refuse();
      const running = [...pools.values()].reduce((n, p) => n + p.busy, 0);
      if (running > 0) print(`Waiting up to ${formatDurationMs(graceMs)} for ${running} running task(s)…`);
      const abandoned = (await Promise.all([...pools.values()].map((p) => p.shutdown(graceMs)))).flat();
      if (abandoned.length > 0) {
        print(`Stopped ${abandoned.length} task(s) that were still running.`);
        await recordAbandoned(store, abandoned);
      }
      await cleanup();
    })();
    return stopping;
  };
}

/** Starts DynamoDB Local (unless an endpoint is given); stopped at cleanup. */
function startEngine({ options, cleanups }: Startup): Promise<DynamoDbLocal> | undefined {
  if (options.storage.kind === 'endpoint') return undefined;
  const engineStart = startDynamoDbLocal({
    ...(options.storage.kind === 'persistent' ? { dbPath: options.storage.dataDir } : {}),
    sharedDb: true,
    fastStart: true,
  });
  engineStart.catch(() => {});
  cleanups.push(async () => {
    const started = await engineStart.catch(() => undefined);
    await started?.stop();
  });
  return engineStart;
}

/** The engine's endpoint; none without Java, where the store falls back to memory. */
async function engineReady(
  { options, print }: Startup,
  engineStart: Promise<DynamoDbLocal> | undefined,
): Promise<{ engine: DynamoDbLocal | undefined; dynamoEndpoint: string | undefined }> {
  if (options.storage.kind === 'endpoint')
    return { engine: undefined, dynamoEndpoint: options.storage.endpoint };
  try {
    const engine = await engineStart;
    if (engine?.warning)
      print(`Warning: ${engine.warning}. Anyone on this network can read and write its tables.`);
    return { engine, dynamoEndpoint: engine?.endpoint };
  } catch (error) {
    if (!(error instanceof JavaMissingError)) throw error;
    print(
      'Java not found: DynamoDB Local cannot start, so this runtime keeps tasks in memory (nothing is kept after it stops; install a JDK 17+ to persist).',
    );
    return { engine: undefined, dynamoEndpoint: undefined };
  }
}

/** The local Lambda endpoint (its pools are added once the workers' environment is known). */
async function startLambda({ options, print, cleanups }: Startup, setup: LocalSetup) {
  const logs = new RunLogBook();
  const pools = new Map<string, FunctionPool>();
  const lambda: LambdaEndpoint = await startLambdaEndpoint({
    functions: pools,
    typeTimeoutsSeconds: new Map(setup.types.map((t) => [t.name, t.timeoutSeconds])),
    logs,
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(options.verbose
      ? { onLine: (fn: string, line: { text: string }) => print(`[${fn}] ${line.text}`) }
      : {}),
  });
  cleanups.push(() => lambda.close());
  return { lambda, pools, logs };
}

/**
 * Endpoints for every SDK client, here and in workers (the SDK's standard variables), and the
 * table's variables for the workers.
 */
function pointSdkAt(
  { options }: Startup,
  m: Modules,
  lambdaEndpoint: string,
  dynamoEndpoint: string | undefined,
) {
  const sdkEnv: Record<string, string> = {
    ...localCredentials,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ENDPOINT_URL_LAMBDA: lambdaEndpoint,
    ...(dynamoEndpoint ? { AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint } : {}),
  };
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, sdkEnv);
  // A task due again within one tick keeps its due-index key; locally the tick may run faster.
  const tableEnv = {
    TICKWORK_TABLE: options.table,
    TICKWORK_SHARDS: String(m.DEFAULT_SHARD_COUNT),
    TICKWORK_DUE_KEY_HOLD_MS: String(Math.min(60_000, options.tickEveryMs)),
  };
  return { sdkEnv, tableEnv };
}

/**
 * The store and the tick's deps from the one factory, as on AWS: DynamoDB Local's table, or
 * without Java a `MemoryTaskStore` in this process.
 */
async function makeLocalTickDeps(
  { options, print }: Startup,
  m: Modules,
  tableEnv: Record<string, string>,
  dynamoEndpoint: string | undefined,
): Promise<TickDeps> {
  const logger: Logger = {
    info: () => {},
    warn: (message, ...extra) =>
      print(`tick warning: ${message} ${extra.length ? JSON.stringify(extra) : ''}`),
    error: (message, ...extra) =>
      print(`tick error: ${message} ${extra.length ? JSON.stringify(extra) : ''}`),
  };
  // No event bus locally: run notices (failed, skipped, ...) are in the history and the API.
  const env = m.tickEnvSchema.parse({ ...tableEnv, TICKWORK_EVENT_BUS: '' });
  if (dynamoEndpoint) {
    await m.ensureTable(new m.DynamoDBClient({}), options.table, { maxWaitSeconds: 30 });
    return m.makeTickDeps(env, { logger });
  }
  const store = new m.MemoryTaskStore({
    shardCount: env.TICKWORK_SHARDS,
    dueKeyHoldMs: env.TICKWORK_DUE_KEY_HOLD_MS,
  });
  return m.makeTickDeps(env, { store, logger });
}

/** Registers the config's task types, and seeds the demo tasks on a first start. */
async function registerTypes({ options }: Startup, setup: LocalSetup, tick: TickDeps): Promise<string[]> {
  await Promise.all(
    setup.types.map((type) =>
      tick.store.putTaskType({
        name: type.name,
        functionName: type.functionName,
        timeoutSeconds: type.timeoutSeconds,
        ...(type.description !== undefined ? { description: type.description } : {}),
        ...(type.parametersSchema !== undefined ? { parametersSchema: type.parametersSchema } : {}),
      }),
    ),
  );
  await tick.registry.refresh();
  return options.demo
    ? await seedDemoTasks(tick.store, new Set(setup.types.map((t) => t.name)), systemClock.now())
    : [];
}

/**
 * A worker pool per function. In memory mode (`memoryStore`), workers reach the store over IPC
 * and build their handler from the task map their module exports.
 */
function addWorkerPools(
  { options, print }: Startup,
  setup: LocalSetup,
  pools: Map<string, FunctionPool>,
  workerEnv: Record<string, string>,
  memoryStore: TaskStore | undefined,
): void {
  const workerEntry = fileURLToPath(
    new URL(`./worker-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
  );
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  for (const fn of setup.functions) {
    const pool = new FunctionPool(fn, {
      entry: workerEntry,
      execArgv: ['--import', tsxLoader],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TZ: 'UTC',
        LANG: process.env.LANG,
        NODE_ENV: process.env.NODE_ENV,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        // As for the tick and the API (bundled.ts): no CloudWatch reads metrics here, and an EMF
        // line per run would fill the run's log.
        POWERTOOLS_METRICS_DISABLED: 'true',
        ...workerEnv,
      },
      ...(options.maxWorkers ? { maxWorkers: options.maxWorkers } : {}),
      ...(memoryStore ? { ipcStore: ipcStoreOf(memoryStore, fn) } : {}),
      onStrayLine: (line) => {
        if (options.verbose || line.text.startsWith('init failed') || line.text.startsWith('worker exited')) {
          print(`[${fn.name}] ${line.text}`);
        }
      },
    });
    pools.set(fn.name, pool);
  }
}

/** How a worker in memory mode reaches the store of this process. */
function ipcStoreOf(memoryStore: TaskStore, fn: LocalSetup['functions'][number]) {
  return {
    tasksExport: fn.tasksExport,
    call: async (method: string, args: unknown[]) => {
      if (!storeMethods.has(method)) throw new Error(`no store method ${method}`);
      const f = (memoryStore as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
      return await (f as (...a: unknown[]) => Promise<unknown>).apply(memoryStore, args);
    },
  };
}

/**
 * How far each local tick looks ahead from the start of its interval: the interval and a margin
 * (2 s, or half the interval when that is shorter). The local timer fires on the boundary, unlike
 * EventBridge Scheduler (anywhere in its minute), so one interval is enough here.
 */
export function localLookAheadMs(tickEveryMs: number): number {
  return tickEveryMs + Math.min(2_000, Math.floor(tickEveryMs / 2));
}

/**
 * The tick timer and the scheduler control. A look-ahead tick outlasts its interval a little, so
 * two may be in flight: the one waiting for its last runs and the next.
 */
function makeTicking({ options, print }: Startup, store: TaskStore, tickOnce: () => Promise<TickReport>) {
  const scheduler = new LocalSchedulerControl(store);
  let inFlight = 0;
  const runOneTick = async (): Promise<TickReport | undefined> => {
    if (inFlight >= 2) return undefined;
    inFlight++;
    try {
      const report = await tickOnce();
      const line = tickSummary(report);
      if (line) print(line);
      return report;
    } finally {
      inFlight--;
    }
  };
  const timer = new TickTimer({
    maxInFlight: 2,
    intervalMs: options.tickEveryMs,
    tick: async () => {
      await runOneTick();
    },
    paused: async () => (await scheduler.state()) === 'paused',
    onError: (error) => print(`tick error: ${(error as Error).message}`),
  });
  return { scheduler, timer, runOneTick };
}

/**
 * The environment the construct gives the tick and the API, with local values: no event bus (run
 * notices are in the history), a schedule name that nothing reads (the runtime's own switch
 * pauses the tick).
 */
function bundleEnv(
  tableEnv: Record<string, string>,
  minIntervalMs: number,
  lookAheadMs: number,
  tickEveryMs: number,
): Record<string, string> {
  return {
    ...tableEnv,
    TICKWORK_LOOKAHEAD_MS: String(lookAheadMs),
    TICKWORK_TICK_INTERVAL_MS: String(tickEveryMs),
    TICKWORK_EVENT_BUS: '',
    TICKWORK_TICK_SCHEDULE_NAME: 'tickwork-local-tick',
    TICKWORK_MIN_INTERVAL_MS: String(Math.max(1_000, minIntervalMs)),
  };
}

/** The longest URL plus headers the API reads (Node's default, made explicit); beyond it a 431. */
const MAX_HEADER_BYTES = 16 * 1024;
/** How much of a refused (413) body is read first, so that the client gets to read the answer. */
const MAX_DRAIN_BYTES = 32 * 1024 * 1024;

/** An error response of the API's shape, as raw HTTP/1.1, for a request Node itself refused. */
function rawErrorResponse(code: 'headers_too_large' | 'bad_request', message: string): string {
  const { status, body } = toErrorResponse(new ApiError(code, message));
  const json = JSON.stringify(body);
  return [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(json)}`,
    'Connection: close',
    '',
    json,
  ].join('\r\n');
}

/**
 * Node's own refusals (a URL or headers over {@link MAX_HEADER_BYTES}, an unparsable request or an
 * unknown method) as the API's JSON error; the rest of the request is read and dropped, so the
 * client reads the answer rather than a reset.
 */
function answerClientError(answered: WeakSet<Duplex>, error: NodeJS.ErrnoException, socket: Duplex): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  if (!socket.writable || error.code === 'ECONNRESET' || error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.destroy();
    return;
  }
  const raw =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? rawErrorResponse('headers_too_large', `the URL and headers are over ${MAX_HEADER_BYTES / 1024} KiB`)
      : error.code === 'HPE_INVALID_METHOD'
        ? rawErrorResponse('bad_request', 'the HTTP method is not one this API knows')
        : rawErrorResponse('bad_request', 'the HTTP request could not be parsed');
  const timer = setTimeout(() => socket.destroy(), 2_000);
  timer.unref();
  socket.on('data', () => {});
  socket.once('close', () => clearTimeout(timer));
  socket.end(raw);
  socket.resume();
}

/** Reads and drops the rest of a request body (at most {@link MAX_DRAIN_BYTES}, for 10 s). */
function drainBody(incoming: IncomingMessage): Promise<void> {
  return new Promise((done) => {
    if (incoming.readableEnded || incoming.destroyed) return done();
    let read = 0;
    const finish = () => {
      clearTimeout(timer);
      incoming.off('data', onData);
      done();
    };
    const giveUp = () => {
      incoming.destroy();
      finish();
    };
    const onData = (chunk: Buffer) => {
      read += chunk.length;
      if (read > MAX_DRAIN_BYTES) giveUp();
    };
    const timer = setTimeout(giveUp, 10_000);
    incoming.on('data', onData);
    incoming.once('end', finish);
    incoming.once('close', finish);
    incoming.once('error', finish);
    incoming.resume();
  });
}

/** Every address of this machine (the `Host` values a runtime bound to a wildcard may be reached by). */
function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((info) => (info ? [info.address.replace(/%.*$/, '')] : []));
}

/**
 * Serves the API (and dashboard) behind the local gate ({@link guardFetch}: `Host`, `Origin`, the
 * token, JSON content type), with Node's own refusals in the API's error shape; resolves once it
 * listens.
 */
async function serveApi(
  { options, cleanups, apiToken }: Startup,
  m: Modules,
  app: { fetch: (request: Request) => Response | Promise<Response> },
) {
  let gate: ((request: Request) => Promise<Response>) | undefined;
  const listener = m.getRequestListener(
    async (request, env) => {
      const response = await (gate as (request: Request) => Promise<Response>)(request);
      // A refused body: read it first, or the client sees a reset while it is still sending.
      if (response.status === 413) await drainBody(env.incoming as IncomingMessage);
      return response;
    },
    {
      hostname: options.host,
      errorHandler: () => {
        const { status, body } = toErrorResponse(
          new ApiError('bad_request', 'the request could not be read'),
        );
        return Response.json(body, { status });
      },
    },
  );
  const server = createServer({ maxHeaderSize: MAX_HEADER_BYTES }, listener);
  const answered = new WeakSet<Duplex>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerClientError(answered, error, socket),
  );
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => done());
  });
  const close = () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  cleanups.push(close);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const hosts = localHosts({
    port,
    bind: options.host,
    ...(wildcard ? { addresses: machineAddresses() } : {}),
  });
  gate = guardFetch(app.fetch, { hosts, token: apiToken });
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  return { url: `http://${shownHost}:${port}`, close };
}

function printBanner(
  { options, print, apiToken }: Startup,
  shown: {
    apiUrl: string;
    lambda: LambdaEndpoint;
    engine: DynamoDbLocal | undefined;
    dynamoEndpoint: string | undefined;
    setup: LocalSetup;
    minIntervalMs: number;
    seeded: string[];
    bundles: string | undefined;
  },
): void {
  const { apiUrl, lambda, engine, setup } = shown;
  const storage =
    options.storage.kind === 'endpoint'
      ? `${shown.dynamoEndpoint}, table ${options.table} (shared engine)`
      : !engine
        ? 'in this process (no Java): nothing is kept'
        : options.storage.kind === 'persistent'
          ? `DynamoDB Local ${engine.endpoint}, table ${options.table}, data in ${options.storage.dataDir}`
          : `DynamoDB Local ${engine.endpoint} in memory, table ${options.table}: nothing is kept`;
  print(`Tickwork local runtime`);
  print(`  API        ${apiUrl}/  (dashboard at /, OpenAPI at ${apiUrl}/openapi.json)`);
  if (apiToken !== undefined) {
    print(`  Token      ${apiToken}`);
    print(`             every API request needs Authorization: Bearer <token> (TICKWORK_TOKEN for the CLI);`);
    print(`             open the dashboard at ${apiUrl}/#token=${apiToken}`);
  }
  print(`  Lambda     ${lambda.endpoint}  (functions: ${setup.functions.map((f) => f.name).join(', ')})`);
  print(`  Store      ${storage}`);
  print(`  Types      ${setup.types.map((t) => t.name).join(', ')}  (${setup.source})`);
  print(
    `  Tick       every ${formatDurationMs(options.tickEveryMs)} on the clock; shortest schedule interval ${formatDurationMs(shown.minIntervalMs)}`,
  );
  print(
    shown.bundles
      ? `  Functions  tick and API from the prebuilt bundles in ${shown.bundles} (as deployed)`
      : '  Functions  tick and API from this process (in-memory store)',
  );
  if (shown.seeded.length > 0) {
    print(`  Seeded     demo tasks ${shown.seeded.join(', ')} (start with --no-demo to skip)`);
  }
}

/**
 * Records runs whose worker was killed at shutdown as `cancelled` (fenced like any completion,
 * so a run that ended meanwhile, or was never claimed, is left alone; the tick folds them).
 */
async function recordAbandoned(store: TaskStore, abandoned: AbandonedInvocation[]): Promise<void> {
  const now = new Date();
  await Promise.allSettled(
    abandoned.map(async ({ requestId, payload }) => {
      const event: unknown = JSON.parse(payload);
      if (!isRunEvent(event)) return;
      const run = await store.getRun(event.taskId, event.runId);
      if (run?.status !== 'running') return;
      await store.completeRun(
        event.taskId,
        event.runId,
        { token: event.token, requestId },
        {
          status: 'cancelled',
          finishedAt: now,
          durationMs: now.getTime() - (run.startedAt ?? now).getTime(),
          note: 'the local runtime stopped before the run ended',
          cancelReason: 'cancelled',
          ...(run.progress ? { progress: run.progress } : {}),
        },
      );
    }),
  );
}
