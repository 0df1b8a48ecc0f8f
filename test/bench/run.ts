/**
 * `npm run bench [-- --quick] [--json <path>] [--only <section>]`: the benchmark of issue 7
 * against DynamoDB Local and a stub Lambda endpoint. Prints a table; writes the JSON report
 * (default `test/bench/results/latest.json`, gitignored). Figures: docs/performance.md.
 */
import './quiet.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runBench } from './bench.js';
import type { PeersOptions } from './peers/peers.js';
import { formatReport, reportProblems, SECTIONS, type SectionName } from './report.js';

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    `usage: npm run bench -- [--quick] [--json <path>] [--only <${SECTIONS.join('|')}>]\n` +
      '       npm run bench -- --peers [--peers-sizes 1000,10000] [--peers-only tickwork,pg-boss,bullmq]\n' +
      '                        [--minutes 2] [--instances 1,2] [--dev-root <checkout>] [--breakdown]\n' +
      '       npm run bench -- --local [--peers-sizes 1000,10000] [--minutes 5]   (= --peers --peers-only tickwork --instances 1)\n',
  );
  process.exit(2);
}

interface Args {
  quick: boolean;
  json: string;
  only?: SectionName;
  /** `--peers`: the peers comparison instead of the sections (test/bench/peers/). */
  peers?: Omit<PeersOptions, 'log' | 'onRow'>;
}

function parseArgs(argv: string[]): Args {
  let quick = false;
  let peers: Args['peers'];
  let json = 'test/bench/results/latest.json';
  let only: SectionName | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = argv[++i] ?? usage('--json needs a path');
    else if (arg === '--only') {
      const name = argv[++i];
      if (!SECTIONS.includes(name as SectionName)) usage(`--only takes one of ${SECTIONS.join(', ')}`);
      only = name as SectionName;
    } else if (arg === '--peers') peers = { ...peers };
    else if (arg === '--peers-sizes') {
      const sizes = (argv[++i] ?? '').split(',').map(Number);
      if (!sizes.every((n) => Number.isInteger(n) && n > 0))
        usage('--peers-sizes takes task counts: 1000,10000');
      peers = { ...peers, sizes };
    } else if (arg === '--peers-only')
      peers = { ...peers, systems: (argv[++i] ?? '').toLowerCase().split(',') };
    else if (arg === '--local') peers = { systems: ['tickwork'], instances: [1], minutes: 5, ...peers };
    else if (arg === '--minutes') {
      const minutes = Number(argv[++i]);
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > 60) usage('--minutes takes 1 to 60');
      peers = { ...peers, minutes };
    } else if (arg === '--instances') {
      const instances = (argv[++i] ?? '').split(',').map(Number);
      if (!instances.every((n) => n === 1 || n === 2)) usage('--instances takes 1, 2 or 1,2');
      peers = { ...peers, instances };
    } else if (arg === '--dev-root')
      peers = { ...peers, devRoot: resolve(argv[++i] ?? usage('--dev-root needs a path')) };
    else if (arg === '--breakdown') peers = { ...peers, breakdown: true };
    else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  if (peers && json === 'test/bench/results/latest.json') json = 'test/bench/results/peers.json';
  return { quick, json, ...(only ? { only } : {}), ...(peers ? { peers } : {}) };
}

/** `--peers`: the comparison of issue 19, its table on stdout and its rows as JSON. */
async function runPeersCommand(args: Args): Promise<void> {
  const { formatMinutes, formatPeers, runPeers } = await import('./peers/peers.js');
  const path = resolve(args.json);
  mkdirSync(dirname(path), { recursive: true });
  const done: unknown[] = [];
  const rows = await runPeers({
    ...args.peers,
    log: (line) => process.stderr.write(`${line}\n`),
    // Written after every row: a long run stopped early keeps what it measured.
    onRow: (row) => {
      done.push(row);
      writeFileSync(path, `${JSON.stringify(done, null, 2)}\n`);
    },
  });
  process.stdout.write(`${formatPeers(rows)}\n\n${formatMinutes(rows)}\n`);
  process.stdout.write(`\nJSON: ${path}\n`);
}

const args = parseArgs(process.argv.slice(2));
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
  ' ',
);
try {
  if (args.peers) {
    await runPeersCommand(args);
    process.exit(0);
  }
  const report = await runBench({
    quick: args.quick,
    ...(args.only ? { only: args.only } : {}),
    command,
    stopOnSigint: true,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  const path = resolve(args.json);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nJSON report: ${path}\n`);
  const problems = reportProblems(report, args.only ? [args.only] : SECTIONS);
  if (problems.length > 0) {
    process.stderr.write(`malformed report:\n${problems.join('\n')}\n`);
    process.exitCode = 1;
  }
} catch (error) {
  process.stderr.write(`benchmark failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
}
