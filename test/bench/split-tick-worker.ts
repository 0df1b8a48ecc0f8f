/**
 * One tick of a split deployment, in its own process (as each shard group's tick is its own
 * Lambda invocation): the in-memory store holding `due` due tasks, the real `LambdaClient` to a
 * stub endpoint of its own, and `runTick` over the shards it is given. Spawned by the lateness
 * section; talks on stdin/stdout:
 *
 *   argv: <due> <shards as JSON, e.g. [0,2]>
 *   out:  `ready`                   (tasks seeded, JIT warmed by two uncounted ticks)
 *   in:   `go`                      (all workers start their tick at once)
 *   out:  {"startedAt", "cpuMs", "started", "acceptedAt": [...]} (times in epoch ms, fractional,
 *         comparable across processes; cpuMs: this process's CPU time during the tick)
 */
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { runTick } from '../../src/tick/run-tick.js';
import {
  benchTask,
  FUNCTION_NAME,
  makeInvoker,
  ONCE_A_YEAR,
  TASK_TYPE,
  TimedInvoker,
  taskId,
  tickDeps,
} from './harness.js';
import { startLambdaStub } from './lambda-stub.js';

const epochMs = () => performance.timeOrigin + performance.now();

async function storeWith(due: number, prefix: string): Promise<MemoryTaskStore> {
  const store = new MemoryTaskStore({ shardCount: 4 });
  await store.putTaskType({ name: TASK_TYPE, functionName: FUNCTION_NAME });
  const dueAt = new Date(Date.now() - 1000);
  for (let i = 0; i < due; i++) {
    await store.createTask(benchTask({ id: taskId(prefix, i), schedule: ONCE_A_YEAR, nextSlotAt: dueAt }));
  }
  return store;
}

const due = Number(process.argv[2]);
const shards = JSON.parse(process.argv[3] ?? '[0,1,2,3]') as number[];
const stub = await startLambdaStub({ latencyMs: 20 });
const invoker = new TimedInvoker(makeInvoker(stub.endpoint), epochMs);
// Warm-up: the same path twice at full size, uncounted, as a warm Lambda has run it before.
for (const prefix of ['warm-a', 'warm-b']) {
  await runTick(await tickDeps(await storeWith(due, prefix), invoker), { shards, concurrency: 64 });
}
invoker.acceptedAt.length = 0;
const deps = await tickDeps(await storeWith(due, 'due'), invoker);
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== 'go') continue;
  const startedAt = epochMs();
  const cpu0 = process.cpuUsage();
  const report = await runTick(deps, { shards, concurrency: 64 });
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(
    `${JSON.stringify({ startedAt, cpuMs: (cpu.user + cpu.system) / 1000, started: report.started, acceptedAt: invoker.acceptedAt })}\n`,
  );
  break;
}
lines.close();
await stub.close();
