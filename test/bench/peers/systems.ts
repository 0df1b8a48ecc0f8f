/**
 * The three systems of the peers comparison, each set up the same way: `n` tasks on
 * `* * * * *`, a handler that records its start (task, slot, instant), `instances` schedulers and
 * workers on one store. Each returns the process trees to meter and, after the run, the starts.
 *
 * - Tickwork: `tickwork dev` processes (tick on the clock, the local Invoke endpoint, handlers in
 *   worker processes) on one DynamoDB Local, the bundled `demo.echo` handler. A run's start
 *   is its claim (`startedAt` of its run record, written by the task SDK as the handler begins).
 * - pg-boss: `schedule()` per task (its `key`), cron monitor and send-it worker at their shortest
 *   intervals (1 s), a worker fetching 50 jobs a batch every 0.5 s.
 * - BullMQ: a job scheduler per task (`upsertJobScheduler`), a worker at concurrency 50.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Queue, Worker } from 'bullmq';
import pLimit from 'p-limit';
import { PgBoss } from 'pg-boss';
import type { TaskStore } from '../../../src/core/ports.js';
import { startDynamoDbLocal } from '../../../src/local/dynamodb-local.js';
import { DynamoTaskStore } from '../../../src/store/dynamo-task-store.js';
import { benchTask } from '../harness.js';
import { startRequestMeter } from './request-meter.js';
import { startPostgres, startRedis, treeCpuByCommand } from './services.js';

/** One handler start. */
export interface Start {
  task: string;
  /** The slot's instant, ms. */
  slot: number;
  /** When the handler began, ms (when the slot was recorded, for a skipped one). */
  at: number;
  /** Not a start: the slot was recorded skipped (Tickwork's overlap policy). */
  skipped?: boolean;
}

export interface Running {
  /** The store's server process (a descendant of this one, so metered with it). */
  serverPid: number;
  /** The starts recorded so far (Tickwork reads them from its store). */
  starts(): Promise<Start[]>;
  /** With `breakdown`: counters so far (CPU ms by process kind, engine requests by operation). */
  detail?(): Record<string, number>;
  stop(): Promise<void>;
}

export interface Setup {
  n: number;
  instances: number;
  /** The first measured slot: every task is first due then. */
  firstSlot: Date;
  log: (line: string) => void;
  /** Another checkout whose `tickwork dev` runs (Tickwork only; default this one). */
  devRoot?: string;
  /** Tickwork only: split the CPU by process kind and count the engine's requests. */
  breakdown?: boolean;
}

export interface PeerSystem {
  name: string;
  start(setup: Setup): Promise<Running>;
}

const taskName = (i: number) => `peer-${String(i).padStart(5, '0')}`;

/** The runs of each task, from the store: its starts are its claimed runs; skipped slots too. */
async function startsFromStore(store: TaskStore, n: number): Promise<Start[]> {
  const limit = pLimit(16);
  const lists = await Promise.all(
    Array.from({ length: n }, (_, i) => limit(() => store.listRuns(taskName(i), { limit: 100 }))),
  );
  return lists.flatMap((page) =>
    page.items.flatMap((run): Start[] => {
      const slot = run.scheduledFor.getTime();
      if (run.startedAt) return [{ task: run.taskId, slot, at: run.startedAt.getTime() }];
      if (run.status === 'skipped') return [{ task: run.taskId, slot, at: slot, skipped: true }];
      return [];
    }),
  );
}

/**
 * One `tickwork dev` process on a shared engine; resolves once its tick timer runs. Its tick
 * lines go to `onTick` (with `--breakdown`).
 */
function startDev(
  endpoint: string,
  table: string,
  devRoot?: string,
  onTick?: (line: string) => void,
): Promise<ChildProcess> {
  const root = devRoot ?? fileURLToPath(new URL('../../../', import.meta.url));
  const child = spawn(
    join(root, 'node_modules/.bin/tsx'),
    ['src/cli/main.ts', 'dev', '--dynamodb-endpoint', endpoint, '--table', table, '--no-demo', '--port', '0'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let seen = '';
    let up = false;
    const onData = (chunk: Buffer) => {
      if (up) {
        for (const line of chunk.toString().split('\n')) if (/ tick: /.test(line)) onTick?.(line.trim());
        return;
      }
      seen += chunk.toString();
      // The banner's tick line: the runtime is up.
      if (/Tick\s+every/.test(seen)) {
        up = true;
        resolve(child);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`tickwork dev exited (${code}) before it was up:\n${seen}`)),
    );
  });
}

function stopDev(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGKILL'), 20_000).unref();
  });
}

export const tickworkSystem: PeerSystem = {
  name: 'Tickwork local runtime (DynamoDB Local)',
  async start({ n, instances, firstSlot, log, devRoot, breakdown }) {
    const engine = await startDynamoDbLocal();
    const table = 'peers';
    const meter = breakdown ? await startRequestMeter(engine.endpoint) : undefined;
    // Each instance a `tickwork dev` process, as a team would run two on one engine.
    const devs = await Promise.all(
      Array.from({ length: instances }, () =>
        startDev(
          meter?.endpoint ?? engine.endpoint,
          table,
          devRoot,
          meter ? (line) => log(`  dev: ${line}`) : undefined,
        ),
      ),
    );
    const client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const store = new DynamoTaskStore({ client, tableName: table });
    const limit = pLimit(16);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        limit(() =>
          store.createTask(
            benchTask({ id: taskName(i), type: 'demo.echo', schedule: '* * * * *', nextSlotAt: firstSlot }),
          ),
        ),
      ),
    );
    log(`  peers: ${n} Tickwork tasks created, ${instances} tickwork dev process(es)`);
    return {
      serverPid: engine.pid,
      starts: () => startsFromStore(store, n),
      ...(meter
        ? {
            detail: () => {
              const cpu = { runtime: 0, workers: 0 };
              for (const dev of devs) {
                const split = treeCpuByCommand(dev.pid as number, { workers: /worker-main/ });
                cpu.runtime += split.other ?? 0;
                cpu.workers += split.workers ?? 0;
              }
              return { 'cpu.runtime': cpu.runtime, 'cpu.workers': cpu.workers, ...meter.counts() };
            },
          }
        : {}),
      async stop() {
        await Promise.all(devs.map(stopDev));
        await meter?.close();
        client.destroy();
        await engine.stop();
      },
    };
  },
};

export const pgBossSystem: PeerSystem = {
  name: 'pg-boss (PostgreSQL)',
  async start({ n, instances, log }) {
    const pg = await startPostgres(log);
    const starts: Start[] = [];
    const bosses: PgBoss[] = [];
    for (let k = 0; k < instances; k++) {
      const boss = new PgBoss({
        connectionString: pg.url,
        cronMonitorIntervalSeconds: 1,
        cronWorkerIntervalSeconds: 1,
      });
      boss.on('error', (error) => log(`  peers: pg-boss error: ${(error as Error).message}`));
      await boss.start();
      bosses.push(boss);
    }
    const first = bosses[0] as PgBoss;
    await first.createQueue('peers');
    const limit = pLimit(8);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        limit(() => first.schedule('peers', '* * * * *', { task: taskName(i) }, { key: taskName(i) })),
      ),
    );
    for (const boss of bosses) {
      await boss.work<{ task: string }>(
        'peers',
        { batchSize: 50, pollingIntervalSeconds: 0.5, includeMetadata: true },
        async (jobs) => {
          const at = Date.now();
          for (const job of jobs) {
            // With `includeMetadata`, a job carries its metadata (the type of `work` does not say so).
            const meta = job as unknown as { singletonOn: Date | null; createdOn: Date };
            const created = (meta.singletonOn ?? meta.createdOn).getTime();
            starts.push({ task: job.data.task, slot: Math.floor(created / 60_000) * 60_000, at });
          }
        },
      );
    }
    log(`  peers: ${n} pg-boss schedules, ${instances} instance(s)`);
    return {
      serverPid: pg.pid,
      starts: async () => starts,
      async stop() {
        await Promise.all(bosses.map((b) => b.stop({ graceful: false })));
        await pg.stop();
      },
    };
  },
};

export const bullMqSystem: PeerSystem = {
  name: 'BullMQ job schedulers (Redis)',
  async start({ n, instances, log }) {
    const redis = await startRedis(log);
    const connection = { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null };
    const queue = new Queue('peers', { connection });
    const limit = pLimit(32);
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        limit(() =>
          queue.upsertJobScheduler(
            taskName(i),
            { pattern: '* * * * *' },
            { name: 'run', data: { task: taskName(i) } },
          ),
        ),
      ),
    );
    const starts: Start[] = [];
    const workers = Array.from(
      { length: instances },
      () =>
        new Worker<{ task: string }>(
          'peers',
          async (job) => {
            // A scheduler's job id is `repeat:<scheduler id>:<slot ms>`.
            const slot = Number(String(job.id).split(':').pop());
            starts.push({ task: job.data.task, slot, at: Date.now() });
          },
          { connection, concurrency: 50 },
        ),
    );
    log(`  peers: ${n} BullMQ job schedulers, ${instances} worker(s)`);
    return {
      serverPid: redis.pid,
      starts: async () => starts,
      async stop() {
        await Promise.all(workers.map((w) => w.close(true)));
        await queue.close();
        await redis.stop();
      },
    };
  },
};
