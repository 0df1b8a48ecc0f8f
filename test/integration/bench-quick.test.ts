/**
 * Keeps the benchmark from rotting: runs `npm run bench -- --quick` programmatically against the
 * shared DynamoDB Local and checks that it completes with a well-formed report holding every
 * section. Timings are never asserted here: this machine is shared and noisy.
 */
import { describe, expect, it } from 'vitest';
import { runBench } from '../bench/bench.js';
import { formatReport, reportProblems, SECTIONS } from '../bench/report.js';
import { dynamoEndpoint } from '../support/dynamo.js';

describe('npm run bench -- --quick', () => {
  it('completes and produces a well-formed report with every section', async () => {
    const report = await runBench({ quick: true, dynamoEndpoint: dynamoEndpoint() });

    expect(reportProblems(report)).toEqual([]);
    expect(Object.keys(report.sections).sort()).toEqual([...SECTIONS].sort());
    for (const name of SECTIONS) {
      const section = report.sections[name];
      expect(section?.figures.length ?? 0, name).toBeGreaterThan(0);
    }
    expect(report.sections.cost?.goals.map((g) => g.name)).toEqual([
      'WRU per run (no progress writes)',
      'RRU per run',
    ]);
    expect(formatReport(report)).toContain('lateness');
    // Its sections wait for real instants (precision): about a minute on a quiet machine.
  }, 150_000);
});
