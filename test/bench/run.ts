/**
 * `npm run bench [-- --quick] [--json <path>] [--only <section>]`: the benchmark of issue 7
 * against DynamoDB Local and a stub Lambda endpoint. Prints a table; writes the JSON report
 * (default `test/bench/results/latest.json`, gitignored). Figures: docs/performance.md.
 */
import './quiet.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runBench } from './bench.js';
import { formatReport, reportProblems, SECTIONS, type SectionName } from './report.js';

function usage(message?: string): never {
  if (message) process.stderr.write(`${message}\n`);
  process.stderr.write(
    `usage: npm run bench -- [--quick] [--json <path>] [--only <${SECTIONS.join('|')}>]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): { quick: boolean; json: string; only?: SectionName } {
  let quick = false;
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
    } else if (arg === '--help' || arg === '-h') usage();
    else usage(`unknown argument ${arg}`);
  }
  return { quick, json, ...(only ? { only } : {}) };
}

const args = parseArgs(process.argv.slice(2));
const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
  ' ',
);
try {
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
