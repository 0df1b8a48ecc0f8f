/**
 * `npm run chaos`: the fault harness over many slots, printed as a report.
 *
 *   npm run chaos -- [--engine memory|dynamodb] [--tasks N] [--tables N] [--minutes N] [--ticks N]
 *                    [--seed N] [--catch-up run-once,skip,run-all] [--json]
 *
 * Defaults: the in-memory store, 2,200 tasks split over 8 tables run one after the other, 70
 * simulated minutes with faults and 12 without (about 108,000 slots), 3 concurrent ticks a minute,
 * every fault kind (`profiles.ts`). `--engine dynamodb` starts DynamoDB Local (Java) and runs
 * against it (use `--tables 1` and fewer tasks: it answers in milliseconds, not microseconds).
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { CatchUpPolicy } from '../../src/core/model.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../src/local/dynamodb-local.js';
import { allPolicies, faultMix } from './profiles.js';
import { type ChaosReport, mergeReports, runChaos } from './sim.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'memory' },
    tasks: { type: 'string', default: '2200' },
    minutes: { type: 'string', default: '70' },
    ticks: { type: 'string', default: '3' },
    tables: { type: 'string', default: '8' },
    seed: { type: 'string', default: '17' },
    'catch-up': { type: 'string', default: allPolicies.catchUp.join(',') },
    json: { type: 'boolean', default: false },
  },
});

function count(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, not ${text}`);
  return n;
}

function print(report: ChaosReport, header: Record<string, unknown>): void {
  const line = (label: string, value: unknown) => console.log(`| ${label} | ${value} |`);
  console.log('| setting | value |\n| --- | --- |');
  for (const [k, v] of Object.entries(header)) line(k, v);
  console.log('\n| counted | value |\n| --- | --- |');
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
  ] as const) {
    line(key, report[key].toLocaleString('en'));
  }
  line('unaccountedByCatchUp', JSON.stringify(report.unaccountedByCatchUp));
  line('slotRepeats', JSON.stringify(report.slotRepeats));
  line('effects', JSON.stringify(report.effects));
  line(
    'wall time',
    `${(report.wallMs / 1000).toFixed(1)} s for ${report.simulatedMinutes} simulated minutes`,
  );
  console.log('\n| injected | count |\n| --- | --- |');
  for (const [k, v] of Object.entries(report.injected)) line(k, v.toLocaleString('en'));
  console.log('\n| observed | count |\n| --- | --- |');
  for (const [k, v] of Object.entries(report.observed)) line(k, v.toLocaleString('en'));
  if (report.examples.length > 0) console.log(`\nexamples:\n${report.examples.join('\n')}`);
}

async function main(): Promise<void> {
  const engine = values.engine;
  if (engine !== 'memory' && engine !== 'dynamodb')
    throw new Error(`--engine must be memory or dynamodb, not ${engine}`);
  const catchUp = String(values['catch-up']).split(',') as CatchUpPolicy[];
  for (const c of catchUp) {
    if (!allPolicies.catchUp.includes(c)) throw new Error(`--catch-up: unknown policy ${c}`);
  }
  let local: DynamoDbLocal | undefined;
  if (engine === 'dynamodb') local = await startDynamoDbLocal();
  try {
    const config = {
      engine,
      ...(local ? { dynamoEndpoint: local.endpoint } : {}),
      tasks: count('tasks', values.tasks),
      minutes: count('minutes', values.minutes),
      drainMinutes: 12,
      ticks: count('ticks', values.ticks),
      seed: count('seed', values.seed),
      ...allPolicies,
      catchUp,
      ...faultMix,
      log: (text: string) => console.error(text),
    } as const;
    const tables = count('tables', values.tables);
    const reports: ChaosReport[] = [];
    for (let i = 0; i < tables; i++) {
      const tasks = Math.ceil(config.tasks / tables);
      console.error(`table ${i + 1} of ${tables}: ${tasks} tasks`);
      reports.push(await runChaos({ ...config, tasks, seed: config.seed + i }));
    }
    const report = mergeReports(reports);
    if (values.json) console.log(JSON.stringify(report, null, 2));
    else
      print(report, {
        command: `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim(),
        engine,
        tasks: `${config.tasks} (${values.tables} tables of ${Math.ceil(config.tasks / Number(values.tables))}, one after the other)`,
        'simulated minutes (faults + drain)': `${config.minutes} + ${config.drainMinutes}`,
        'concurrent ticks': config.ticks,
        seed: config.seed,
        machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      });
  } finally {
    await local?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
