/** `tickwork runs` across tasks, `replay` and `backfill`, against the real API on DynamoDB Local. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { sinceInstant } from '../../src/cli/commands/runs.js';
import { type ApiHarness, startApi, testTypes, waitFor } from '../api/harness.js';
import { createTestTable } from '../support/dynamo.js';
import { cliAgainst } from './run-cli.js';

let api: ApiHarness;
const cli = cliAgainst(() => api.baseUrl);

async function createTask(id: string, type: string, schedule = '0 3 * * *') {
  const created = await cli(
    'tasks',
    'create',
    '--id',
    id,
    '--name',
    id,
    '--type',
    type,
    '--schedule',
    schedule,
  );
  expect(created.code, created.err).toBe(0);
}

/** The runs `tickwork runs ... --json` lists, once `count` of them have ended. */
async function endedRuns(args: string[], count: number) {
  return waitFor(async () => {
    const runs = JSON.parse((await cli('runs', ...args, '--json')).out) as {
      status: string;
      runId: string;
    }[];
    return runs.filter((r) => ['succeeded', 'failed'].includes(r.status)).length >= count ? runs : undefined;
  });
}

beforeAll(async () => {
  const { store } = await createTestTable('cli-runs');
  api = await startApi(store);
  await createTask('cli-ok', testTypes.ok);
  await createTask('cli-fail', testTypes.fail);
  expect((await cli('run', 'cli-ok', '--wait')).code).toBe(0);
  expect((await cli('run', 'cli-fail', '--param', 'n=3', '--wait')).code).toBe(1);
});
afterAll(async () => {
  await api?.close();
});

describe('tickwork runs (across tasks)', () => {
  it('lists the runs of every task, with filters, as a table, wide, JSON and YAML', async () => {
    const table = await cli('runs', '--since', '1h');
    expect(table.code, table.err).toBe(0);
    expect(table.out).toMatch(/^RUN\s+TASK\s+STATUS\s+TRIGGER/);
    expect(table.out).toContain('cli-ok');
    expect(table.out).toContain('cli-fail');

    const failed = JSON.parse((await cli('runs', '--status', 'failed,timed-out', '-o', 'json')).out);
    expect(failed.map((r: { taskId: string }) => r.taskId)).toEqual(['cli-fail']);
    const yaml = parse((await cli('runs', '--type', testTypes.ok, '-o', 'yaml')).out);
    expect(yaml).toMatchObject([{ taskId: 'cli-ok', status: 'succeeded', trigger: 'manual' }]);
    const wide = await cli('runs', '--trigger', 'manual', '-o', 'wide');
    expect(wide.out).toMatch(/TYPE\s+ATTEMPT\s+FINISHED\s+LATE\s+REPLAY OF/);
    expect(JSON.parse((await cli('runs', 'cli-ok', '--status', 'failed', '--json')).out)).toEqual([]);
  });

  it('refuses a state that does not exist, and --since with --from', async () => {
    const bad = await cli('runs', '--status', 'exploded');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--status takes');
    expect((await cli('runs', '--since', '1h', '--from', '2026-01-01T00:00:00Z')).code).toBe(2);
    expect((await cli('runs', '--since', 'yesterday')).err).toContain('--since takes a duration');
    expect(sinceInstant('2h', new Date('2026-01-01T12:00:00Z'))).toBe('2026-01-01T10:00:00.000Z');
  });
});

describe('tickwork replay', () => {
  it('starts a new run linked to the original and follows it with --wait', async () => {
    const [original] = await endedRuns(['cli-fail'], 1);
    const replay = await cli('replay', 'cli-fail', (original as { runId: string }).runId, '--wait');
    expect(replay.code).toBe(1); // the type always fails
    expect(replay.err).toContain(`(replay of ${(original as { runId: string }).runId})`);
    expect(replay.out).toMatch(/replay of:\s+\S+/);
    const listed = JSON.parse((await cli('runs', '--trigger', 'replay', '--json')).out);
    expect(listed).toMatchObject([{ taskId: 'cli-fail', replayOf: (original as { runId: string }).runId }]);
  });
});

describe('tickwork backfill', () => {
  it('lists the slots in a dry run, then starts the backfill', async () => {
    await createTask('cli-hourly', testTypes.ok, '0 * * * *');
    const args = ['cli-hourly', '--from', '2026-01-01T00:00:00Z', '--to', '2026-01-01T02:00:00Z'];
    const dry = await cli('backfill', ...args, '--dry-run');
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain('cli-hourly:2026-01-01T01:00:00.000Z');
    expect(dry.out).toContain('3 slots would run (dry run: nothing queued)');
    const started = await cli('backfill', ...args, '--json');
    expect(JSON.parse(started.out)).toMatchObject({ dryRun: false, count: 3 });
    const runs = await endedRuns(['cli-hourly'], 1);
    expect(runs.length).toBeGreaterThan(0);
    expect((await cli('backfill', 'cli-hourly')).code).toBe(2);
  });
});
