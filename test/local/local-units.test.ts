/** The local runtime's pure parts: flags, durations, config, log lines, tick boundaries. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, demoSetup, loadLocalSetup, resolveSetup } from '../../src/local/config.js';
import { demoTasks, newTaskState } from '../../src/local/demo-tasks.js';
import { formatDurationMs, parseDuration } from '../../src/local/duration.js';
import { parseLogLine, RunLogBook } from '../../src/local/run-logs.js';
import { tickSummary } from '../../src/local/runtime.js';
import { nextBoundary } from '../../src/local/tick-timer.js';

const T0 = new Date('2026-03-29T00:59:00Z');

describe('durations', () => {
  it('reads ms, s, m, h and bare seconds', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('3')).toBe(3000);
    expect(() => parseDuration('soon')).toThrow(RangeError);
    expect(formatDurationMs(60_000)).toBe('1m');
    expect(formatDurationMs(1500)).toBe('1.5s');
  });
});

describe('tick boundaries', () => {
  it('aligns to the wall clock', () => {
    expect(new Date(nextBoundary(T0.getTime() + 1, 60_000)).toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(nextBoundary(T0.getTime(), 60_000)).toBe(T0.getTime() + 60_000);
    expect(nextBoundary(1_234, 1000)).toBe(2000);
    expect(nextBoundary(1_234, 500)).toBe(1500);
  });
});

describe('tickwork.config.ts', () => {
  const jobs = fileURLToPath(new URL('./fixtures/config-tasks.ts', import.meta.url));

  function configDir(files: Record<string, string>): string {
    const dir = mkdtempSync(join(tmpdir(), 'tickwork-config-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  }

  it("derives each function's task types from its module's task map", async () => {
    const dir = configDir({});
    const setup = await resolveSetup(
      {
        functions: {
          jobs: { handler: jobs, timeoutSeconds: 120 },
          more: { handler: jobs, export: 'other', tasksExport: 'tasks' },
        },
      },
      dir,
      'test config',
    ).catch((error: Error) => error);
    // The same map served twice names each type twice: refused, naming both functions.
    expect(String(setup)).toMatch(/Acme.A is served by both jobs and more/);
    const one = await resolveSetup(
      { functions: { jobs: { handler: jobs, timeoutSeconds: 120 } } },
      dir,
      'cfg',
    );
    expect(one.functions.map((f) => [f.name, f.exportName, f.tasksExport, f.timeoutSeconds])).toEqual([
      ['jobs', 'handler', 'tasks', 120],
    ]);
    expect(one.types.find((t) => t.name === 'Acme.A')).toEqual({
      name: 'Acme.A',
      functionName: 'jobs',
      timeoutSeconds: 120,
      description: 'a',
      parametersSchema: expect.objectContaining({ type: 'object', required: ['n'] }),
    });
    expect(one.types.find((t) => t.name === 'Acme.B')).toEqual({
      name: 'Acme.B',
      functionName: 'jobs',
      timeoutSeconds: 120,
    });
  });

  it('says what is wrong with a bad config', async () => {
    const dir = configDir({ 'bare.ts': 'export const handler = async () => 1;\n' });
    await expect(resolveSetup({ functions: { x: { handler: './missing.ts' } } }, dir, 'cfg')).rejects.toThrow(
      /does not exist/,
    );
    await expect(resolveSetup({ functions: { x: { handler: 1 } } }, dir, 'cfg')).rejects.toThrow(ConfigError);
    await expect(resolveSetup({ functions: {} }, dir, 'cfg')).rejects.toThrow(/no functions/);
    await expect(resolveSetup({ types: { X: { handler: jobs } } }, dir, 'cfg')).rejects.toThrow(/types/);
    await expect(resolveSetup({ functions: { x: { handler: './bare.ts' } } }, dir, 'cfg')).rejects.toThrow(
      /no task map export "tasks"/,
    );
    await expect(
      resolveSetup({ functions: { x: { handler: jobs, export: 'nope' } } }, dir, 'cfg'),
    ).rejects.toThrow(/no function export "nope"/);
  });

  it('loads a TypeScript config file from the working directory, else the demo types', async () => {
    const empty = configDir({});
    expect((await loadLocalSetup({ cwd: empty })).demo).toBe(true);
    const dir = configDir({
      'tickwork.config.ts': `const timeoutSeconds: number = 45;\nexport default { functions: { jobs: { handler: ${JSON.stringify(jobs)}, timeoutSeconds } } };\n`,
    });
    const setup = await loadLocalSetup({ cwd: dir });
    expect(setup.demo).toBe(false);
    expect(setup.types.map((t) => [t.name, t.functionName, t.timeoutSeconds])).toEqual([
      ['Acme.A', 'jobs', 45],
      ['Acme.B', 'jobs', 45],
    ]);
  });

  it('bundles the demo types in one function, with their descriptions and schemas', async () => {
    const setup = await demoSetup();
    expect(setup.functions.map((f) => f.name)).toEqual(['tickwork-demo']);
    expect(setup.types.map((t) => t.name)).toEqual(['demo.echo', 'demo.work', 'demo.fail']);
    expect(setup.types.find((t) => t.name === 'demo.work')?.parametersSchema).toMatchObject({
      properties: { steps: { type: 'integer' } },
    });
  });
});

describe('run logs', () => {
  it('parses Powertools lines and keeps plain ones', () => {
    expect(
      parseLogLine(
        '{"level":"INFO","message":"run claimed","timestamp":"2026-03-29T00:59:01.000Z","service":"s","taskId":"t","runId":"r"}',
        'stdout',
        T0,
      ),
    ).toEqual({ at: '2026-03-29T00:59:01.000Z', level: 'info', message: 'run claimed' });
    expect(parseLogLine('hello', 'stdout', T0)).toEqual({ at: T0.toISOString(), message: 'hello' });
    expect(parseLogLine('{oops', 'stderr', T0)).toEqual({
      at: T0.toISOString(),
      level: 'error',
      message: '{oops',
    });
  });

  it('bounds what it keeps: runs, lines per run, characters per line', () => {
    const book = new RunLogBook({ maxRuns: 2, maxLinesPerRun: 3, maxLineChars: 10 });
    for (let i = 0; i < 5; i++) book.append('t', 'r1', { at: T0.toISOString(), message: `line ${i}` });
    expect(book.read('t', 'r1')?.lines.map((l) => l.message)).toEqual([
      '(2 earlier lines were dropped)',
      'line 2',
      'line 3',
      'line 4',
    ]);
    book.append('t', 'r2', { at: T0.toISOString(), message: 'x'.repeat(25) });
    expect(book.read('t', 'r2')?.lines[0]?.message).toBe(`${'x'.repeat(10)}… (15 more characters)`);
    book.append('t', 'r3', { at: T0.toISOString(), message: 'new' });
    expect(book.read('t', 'r1')).toBeUndefined();
    expect(book.size).toBe(2);
  });
});

describe('demo tasks and tick lines', () => {
  it('seeds valid tasks due at their next slot', () => {
    const heartbeat = newTaskState(demoTasks[0] as (typeof demoTasks)[number], T0);
    expect(heartbeat.nextSlotAt?.toISOString()).toBe('2026-03-29T01:00:00.000Z');
    expect(heartbeat.enabled).toBe(true);
  });

  it('prints one line for a tick that did something, nothing otherwise', () => {
    const report = {
      startedAt: T0,
      shards: [0, 1, 2, 3],
      due: 3,
      started: 2,
      skipped: 1,
      missed: 0,
      timedOut: 0,
      failed: 0,
      contended: 0,
      deferred: 0,
      itemsRead: 3,
      writes: 4,
      durationMs: 12,
      latenessMs: { max: 0, mean: 0 },
      lateness: [],
      leasedAhead: 0,
      sentAhead: 0,
      withdrawn: 0,
      redelivered: 0,
      reaped: 0,
      overdueTasks: [],
      errors: [],
    };
    expect(tickSummary(report)).toBe('00:59:00 tick: 2 started, 1 skipped · 3 due · 12 ms');
    expect(tickSummary({ ...report, started: 0, skipped: 0, overdueTasks: ['nightly-export'] })).toBe(
      '00:59:00 tick: 1 overdue (nightly-export) · 3 due · 12 ms',
    );
    expect(tickSummary({ ...report, due: 0, started: 0, skipped: 0 })).toBeUndefined();
  });
});
