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
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ApiDeps } from '../api/deps.js';
import { systemClock } from '../clock.js';
import type { Logger, RunEvent, TaskStore } from '../core/ports.js';
import type { TickDeps, TickReport } from '../tick/run-tick.js';
import { type LocalSetup, loadLocalSetup } from './config.js';
import { seedDemoTasks } from './demo-tasks.js';
import { formatDurationMs } from './duration.js';
import { type DynamoDbLocal, JavaMissingError, startDynamoDbLocal } from './dynamodb-local.js';
import { type LambdaEndpoint, startLambdaEndpoint } from './lambda-endpoint.js';
import { RunLogBook } from './run-logs.js';
import { LocalSchedulerControl, TickTimer } from './tick-timer.js';
import { type AbandonedInvocation, FunctionPool } from './worker-pool.js';

/**
 * The heavy modules (AWS SDK, API), loaded while the JVM starts: startup is as long as the
 * slower of the two, not their sum.
 */
async function loadModules() {
  const [dynamodb, nodeServer, api, dashboard, deps, memory, table, tickEnv, runTick] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@hono/node-server'),
    import('../api/app.js'),
    import('../dashboard/serve.js'),
    import('../deps.js'),
    import('../store/memory-task-store.js'),
    import('../store/table-definition.js'),
    import('../tick/env.js'),
    import('../tick/run-tick.js'),
  ]);
  return {
    DynamoDBClient: dynamodb.DynamoDBClient,
    serve: nodeServer.serve,
    createApp: api.createApp,
    dashboardHandler: dashboard.dashboardHandler,
    makeTickDeps: deps.makeTickDeps,
    MemoryTaskStore: memory.MemoryTaskStore,
    DEFAULT_SHARD_COUNT: table.DEFAULT_SHARD_COUNT,
    ensureTable: table.ensureTable,
    tickEnvSchema: tickEnv.tickEnvSchema,
    runTick: runTick.runTick,
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
}

/** A started runtime. */
export interface LocalRuntime {
  /** `http://<host>:<port>` of the API (and dashboard). */
  readonly apiUrl: string;
  readonly lambdaEndpoint: string;
  readonly dynamoEndpoint: string | undefined;
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

async function start(
  options: LocalRuntimeOptions,
  print: (line: string) => void,
  cleanups: (() => Promise<void>)[],
  cleanup: () => Promise<void>,
): Promise<LocalRuntime> {
  // TICKWORK_DEBUG_STARTUP=1 prints how long each step of the start took.
  const t0 = performance.now();
  const mark = (step: string) => {
    if (process.env.TICKWORK_DEBUG_STARTUP)
      print(`  [startup] ${step}: ${Math.round(performance.now() - t0)} ms`);
  };
  // The SDK warns on every client that Node 20 support ends in 2027; once is in the README.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

  // 1. The database engine, started first (the JVM is the slowest part); modules and config load meanwhile.
  const engineStart =
    options.storage.kind === 'endpoint'
      ? undefined
      : startDynamoDbLocal({
          ...(options.storage.kind === 'persistent' ? { dbPath: options.storage.dataDir } : {}),
          sharedDb: true,
          fastStart: true,
        });
  if (engineStart) {
    engineStart.catch(() => {});
    cleanups.push(async () => {
      const started = await engineStart.catch(() => undefined);
      await started?.stop();
    });
  }
  const [setup, m] = await Promise.all([
    loadLocalSetup({
      ...(options.configPath ? { configPath: options.configPath } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    }),
    loadModules(),
  ]);
  mark('modules and config loaded');
  let engine: DynamoDbLocal | undefined;
  let dynamoEndpoint: string | undefined;
  if (options.storage.kind === 'endpoint') {
    dynamoEndpoint = options.storage.endpoint;
  } else {
    try {
      engine = await engineStart;
      dynamoEndpoint = engine?.endpoint;
    } catch (error) {
      if (!(error instanceof JavaMissingError)) throw error;
      print(
        'Java not found: DynamoDB Local cannot start, so this runtime keeps tasks in memory (nothing is kept after it stops; install a JRE 17+ to persist).',
      );
    }
  }

  mark('database engine up');
  // 2. The local Lambda endpoint (pools are added once the workers' environment is known).
  const logs = new RunLogBook();
  const pools = new Map<string, FunctionPool>();
  const typeTimeouts = new Map(setup.types.map((t) => [t.name, t.timeoutSeconds]));
  const lambda: LambdaEndpoint = await startLambdaEndpoint({
    functions: pools,
    typeTimeoutsSeconds: typeTimeouts,
    logs,
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(options.verbose
      ? { onLine: (fn: string, line: { text: string }) => print(`[${fn}] ${line.text}`) }
      : {}),
  });
  cleanups.push(() => lambda.close());

  // 3. Endpoints for every SDK client, here and in workers: the SDK's standard variables.
  const sdkEnv: Record<string, string> = {
    ...localCredentials,
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
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

  // 4. The store and the tick's deps, built as on AWS.
  const tickLogger: Logger = {
    info: () => {},
    warn: (message, ...extra) =>
      print(`tick warning: ${message} ${extra.length ? JSON.stringify(extra) : ''}`),
    error: (message, ...extra) =>
      print(`tick error: ${message} ${extra.length ? JSON.stringify(extra) : ''}`),
  };
  // No event bus locally: run notices (failed, skipped, ...) are in the history and the API.
  const tickEnv = m.tickEnvSchema.parse({ ...tableEnv, TICKWORK_EVENT_BUS: '' });
  if (dynamoEndpoint) await m.ensureTable(new m.DynamoDBClient({}), options.table, { maxWaitSeconds: 30 });
  const tick: TickDeps = m.makeTickDeps(tickEnv, {
    ...(dynamoEndpoint
      ? {}
      : {
          store: new m.MemoryTaskStore({
            shardCount: tickEnv.TICKWORK_SHARDS,
            dueKeyHoldMs: tickEnv.TICKWORK_DUE_KEY_HOLD_MS,
          }),
        }),
    logger: tickLogger,
  });
  const store = tick.store;

  mark('table ready');
  // 5. Task types, and the demo tasks on a first start.
  await Promise.all(
    setup.types.map((type) =>
      store.putTaskType({
        name: type.name,
        functionName: type.functionName,
        timeoutSeconds: type.timeoutSeconds,
        ...(type.description !== undefined ? { description: type.description } : {}),
      }),
    ),
  );
  await tick.registry.refresh();
  const seeded = options.demo
    ? await seedDemoTasks(store, new Set(setup.types.map((t) => t.name)), systemClock.now())
    : [];

  mark('types registered');
  // 6. Worker pools, one per function.
  const workerEntry = fileURLToPath(new URL('./worker-main.ts', import.meta.url));
  const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const memoryStore = dynamoEndpoint ? undefined : store;
  if (memoryStore) {
    const missing = setup.types.filter((t) => !t.taskExport).map((t) => t.name);
    if (missing.length > 0) {
      print(
        `In-memory mode: types ${missing.join(', ')} name no \`task\` export in the config, so their runs fail.`,
      );
    }
  }
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
        ...sdkEnv,
        ...tableEnv,
      },
      ...(options.maxWorkers ? { maxWorkers: options.maxWorkers } : {}),
      ...(memoryStore
        ? {
            ipcStore: {
              taskExports: Object.fromEntries(
                fn.types.flatMap((t) => (t.taskExport ? [[t.name, t.taskExport] as const] : [])),
              ),
              call: async (method: string, args: unknown[]) => {
                if (!storeMethods.has(method)) throw new Error(`no store method ${method}`);
                const f = (memoryStore as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
                  method
                ];
                return await (f as (...a: unknown[]) => Promise<unknown>).apply(memoryStore, args);
              },
            },
          }
        : {}),
      onStrayLine: (line) => {
        if (options.verbose || line.text.startsWith('init failed') || line.text.startsWith('worker exited')) {
          print(`[${fn.name}] ${line.text}`);
        }
      },
    });
    pools.set(fn.name, pool);
  }

  // 7. The tick timer and the scheduler control.
  const scheduler = new LocalSchedulerControl(store);
  let tickInFlight: Promise<TickReport> | undefined;
  const runOneTick = async (): Promise<TickReport | undefined> => {
    if (tickInFlight) return undefined;
    tickInFlight = m.runTick(tick, { budgetMs: 45_000 });
    try {
      const report = await tickInFlight;
      const line = tickSummary(report);
      if (line) print(line);
      return report;
    } finally {
      tickInFlight = undefined;
    }
  };
  const timer = new TickTimer({
    intervalMs: options.tickEveryMs,
    tick: async () => {
      await runOneTick();
    },
    paused: async () => (await scheduler.state()) === 'paused',
    onError: (error) => print(`tick error: ${(error as Error).message}`),
  });

  // 8. The API.
  const minIntervalMs = Math.min(60_000, options.tickEveryMs);
  const apiDeps: ApiDeps = {
    ...tick,
    scheduler,
    minIntervalMs,
    logs: { read: async (taskId, runId) => logs.read(taskId, runId) },
    dashboard: m.dashboardHandler,
    logger: {
      info: () => {},
      warn: (message) => {
        if (options.verbose) print(`api: ${message}`);
      },
      error: (message, ...extra) =>
        print(`api error: ${message} ${extra.length ? JSON.stringify(extra) : ''}`),
    },
  };
  const app = m.createApp(apiDeps);
  const server = await new Promise<ReturnType<typeof m.serve>>((done, fail) => {
    const s = m.serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => done(s));
    s.once('error', fail);
  });
  const closeServer = () =>
    new Promise<void>((done) => {
      server.close(() => done());
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
    });
  cleanups.push(closeServer);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const apiUrl = `http://${shownHost}:${port}`;
  mark('API listening');
  timer.start();
  // A warm worker per function, so the first run skips the cold start (after the API is up: on
  // a small machine they compete for the CPU).
  for (const pool of pools.values()) pool.warm();

  // Banner.
  const storage =
    options.storage.kind === 'endpoint'
      ? `${dynamoEndpoint}, table ${options.table} (shared engine)`
      : !engine
        ? 'in this process (no Java): nothing is kept'
        : options.storage.kind === 'persistent'
          ? `DynamoDB Local ${engine.endpoint}, table ${options.table}, data in ${options.storage.dataDir}`
          : `DynamoDB Local ${engine.endpoint} in memory, table ${options.table}: nothing is kept`;
  print(`Tickwork local runtime`);
  print(`  API        ${apiUrl}/  (dashboard at /, OpenAPI at ${apiUrl}/openapi.json)`);
  print(`  Lambda     ${lambda.endpoint}  (functions: ${setup.functions.map((f) => f.name).join(', ')})`);
  print(`  Store      ${storage}`);
  print(`  Types      ${setup.types.map((t) => t.name).join(', ')}  (${setup.source})`);
  print(
    `  Tick       every ${formatDurationMs(options.tickEveryMs)} on the clock; shortest schedule interval ${formatDurationMs(minIntervalMs)}`,
  );
  if (seeded.length > 0) print(`  Seeded     demo tasks ${seeded.join(', ')} (start with --no-demo to skip)`);

  let stopping: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    stopping ??= (async () => {
      const graceMs = stopOptions.graceMs ?? options.graceMs;
      await timer.stop();
      await closeServer();
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

  return {
    apiUrl,
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
