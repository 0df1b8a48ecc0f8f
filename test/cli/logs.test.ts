/** `tickwork logs` against the real API (DynamoDB Local behind it) with a log reader of known lines. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunLogLine, RunLogReader } from '../../src/api/deps.js';
import { main } from '../../src/cli/main.js';
import { type ApiHarness, startApi, testTypes, waitFor } from '../api/harness.js';
import { createTestTable } from '../support/dynamo.js';
import { cliAgainst } from './run-cli.js';

const metrics = JSON.stringify({
  _aws: {
    Timestamp: 1,
    CloudWatchMetrics: [{ Namespace: 'Tickwork', Metrics: [{ Name: 'Succeeded', Unit: 'Count' }] }],
  },
  Succeeded: 1,
});

/** Lines a run has written, by run id; extra lines a test appends while following. */
const extra = new Map<string, RunLogLine[]>();

function linesOf(runId: string): RunLogLine[] {
  return [
    { at: '2026-11-30T04:05:06.000Z', message: `START RequestId: r-1 Version: $LATEST` },
    { at: '2026-11-30T04:05:06.100Z', level: 'info', message: `working on ${runId}` },
    { at: '2026-11-30T04:05:06.200Z', message: metrics },
    { at: '2026-11-30T04:05:06.300Z', level: 'ERROR', message: 'one row skipped' },
    { at: '2026-11-30T04:05:06.400Z', message: 'END RequestId: r-1' },
    ...(extra.get(runId) ?? []),
  ];
}

const reader: RunLogReader = {
  async read(taskId, runId) {
    if (taskId === 'logs-aws') return { url: `https://console.aws.example/logs/${runId}` };
    return { lines: linesOf(runId) };
  },
};

let api: ApiHarness;
const cli = cliAgainst(() => api.baseUrl);

async function createTask(id: string, type: string) {
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
    '0 3 * * *',
  );
  expect(created.code, created.err).toBe(0);
}

async function runIds(id: string): Promise<string[]> {
  return JSON.parse((await cli('runs', id, '--json')).out).map((r: { runId: string }) => r.runId);
}

beforeAll(async () => {
  const { store } = await createTestTable('cli-logs');
  api = await startApi(store, { logs: reader });
  await createTask('logs-1', testTypes.ok);
  for (let i = 0; i < 2; i++) expect((await cli('run', 'logs-1', '--wait')).code).toBe(0);
});
afterAll(async () => {
  await api?.close();
});

describe('tickwork logs', () => {
  it("prints the task's own lines of the latest run by default, platform lines hidden", async () => {
    const [latest, older] = await runIds('logs-1');
    const logs = await cli('logs', 'logs-1');
    expect(logs.code, logs.err).toBe(0);
    expect(logs.out.split('\n')).toEqual([
      `04:05:06.100 INFO  working on ${latest}`,
      '04:05:06.300 ERROR one row skipped',
    ]);
    expect(logs.err).toContain('3 platform lines hidden');
    const given = await cli('logs', 'logs-1', older as string);
    expect(given.out).toContain(`working on ${older}`);
  });

  it('--all marks platform lines and folds metrics', async () => {
    const logs = await cli('logs', 'logs-1', '--all');
    expect(logs.code, logs.err).toBe(0);
    expect(logs.out.split('\n')).toEqual([
      '04:05:06.000 [platform] START RequestId: r-1 Version: $LATEST',
      expect.stringMatching(/^04:05:06\.100 INFO {2}working on /),
      '04:05:06.200 [metrics] Succeeded=1',
      '04:05:06.300 ERROR one row skipped',
      '04:05:06.400 [platform] END RequestId: r-1',
    ]);
    expect(logs.err).toBe('');
  });

  it('-o json prints the raw lines', async () => {
    const logs = await cli('logs', 'logs-1', '-o', 'json');
    expect(logs.code).toBe(0);
    const body = JSON.parse(logs.out);
    expect(body.url).toBeNull();
    expect(body.lines).toHaveLength(5);
    expect(body.lines[2]).toEqual({ at: '2026-11-30T04:05:06.200Z', level: null, message: metrics });
  });

  it('prints the link, with a sentence, when the logs are in CloudWatch', async () => {
    await createTask('logs-aws', testTypes.ok);
    expect((await cli('run', 'logs-aws', '--wait')).code).toBe(0);
    const [runId] = await runIds('logs-aws');
    const logs = await cli('logs', 'logs-aws');
    expect(logs.code, logs.err).toBe(0);
    expect(logs.out).toContain('CloudWatch');
    expect(logs.out).toContain(`https://console.aws.example/logs/${runId}`);
  });

  it("exits 1 with the API's message for a missing task, and for a task without runs", async () => {
    const missing = await cli('logs', 'no-such-task');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/error: .*no-such-task.*\(task_not_found, HTTP 404\)/);
    await createTask('logs-none', testTypes.ok);
    const none = await cli('logs', 'logs-none');
    expect(none.code).toBe(1);
    expect(none.err).toContain('task logs-none has no runs yet');
  });

  it('-f of an ended run prints its lines once and stops', async () => {
    const logs = await cli('logs', 'logs-1', '-f');
    expect(logs.code, logs.err).toBe(0);
    expect(logs.out.split('\n')).toHaveLength(2);
  });

  it('-f prints only new lines until the run ends; Ctrl-C ends it with 130', async () => {
    await createTask('logs-slow', testTypes.slow);
    expect((await cli('run', 'logs-slow')).code).toBe(0);
    const [runId] = await runIds('logs-slow');
    const out: string[] = [];
    let interrupt = () => {};
    const io = { out: (t: string) => out.push(t), err: () => {}, env: {} };
    const following = main(['logs', 'logs-slow', '-f', '--endpoint', api.baseUrl], {
      ...io,
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {};
      },
    });
    await waitFor(async () => (out.length === 2 ? true : undefined));
    extra.set(runId as string, [{ at: '2026-11-30T04:05:07.000Z', level: 'warn', message: 'still going' }]);
    await waitFor(async () => (out.length === 3 ? true : undefined));
    interrupt();
    expect(await following).toBe(130);
    expect(out[2]).toBe('04:05:07.000 WARN  still going');

    const ending = main(['logs', 'logs-slow', '-f', '--endpoint', api.baseUrl], io);
    expect((await cli('cancel', 'logs-slow')).code).toBe(0);
    expect(await ending).toBe(0);
    expect(out.slice(3)).toEqual([
      expect.stringContaining('working on'),
      '04:05:06.300 ERROR one row skipped',
      expect.stringContaining('still going'),
    ]);
  });
});
