/**
 * The `tickwork` CLI against the real API over HTTP (DynamoDB Local behind it): in process for
 * the round trips, and one spawned smoke test of the real command line.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../../src/cli/main.js';
import { type ApiHarness, startApi, testTypes, waitFor } from '../api/harness.js';
import { createTestTable } from '../support/dynamo.js';
import { cliAgainst } from './run-cli.js';

let api: ApiHarness;

const cli = cliAgainst(() => api.baseUrl);

beforeAll(async () => {
  const { store } = await createTestTable('cli');
  api = await startApi(store);
});
afterAll(async () => {
  await api?.close();
});

describe('tickwork CLI', () => {
  it('accepts global options before the command too', async () => {
    const out: string[] = [];
    const code = await main(['--endpoint', api.baseUrl, '--json', 'types'], {
      out: (t) => out.push(t),
      err: () => {},
      env: {},
    });
    expect(code).toBe(0);
    expect(Array.isArray(JSON.parse(out.join('\n')))).toBe(true);
  });

  it('round-trips create, run --wait (with a progress bar), runs and cancel', async () => {
    const created = await cli(
      'tasks',
      'create',
      '--id',
      'cli-1',
      '--name',
      'Reindex',
      '--type',
      testTypes.progress,
      '--schedule',
      '0 3 * * *',
      '--tz',
      'Europe/Berlin',
      '--param',
      'batch=50',
      '--json',
    );
    expect(created.code, created.err).toBe(0);
    expect(JSON.parse(created.out)).toMatchObject({
      id: 'cli-1',
      parameters: { batch: 50 },
      timezone: 'Europe/Berlin',
    });

    const listed = await cli('tasks', 'list');
    expect(listed.out).toMatch(/^ID\s+NAME\s+TYPE/);
    expect(listed.out).toContain('cli-1');

    const run = await cli('run', 'cli-1', '--param', 'label=nightly', '--wait');
    expect(run.code, run.err).toBe(0);
    expect(run.err).toMatch(/\[#+\.*\]\s+\d+%\s+running\s+step \d/); // the progress bar
    expect(run.out).toMatch(/status:\s+succeeded/);
    expect(run.out).toContain('"label":"nightly"');

    const runs = await cli('runs', 'cli-1');
    expect(runs.code).toBe(0);
    expect(runs.out).toMatch(/succeeded\s+manual/);
    const runsJson = JSON.parse((await cli('runs', 'cli-1', '--json')).out);
    expect(runsJson[0]).toMatchObject({ status: 'succeeded', parameters: { batch: 50, label: 'nightly' } });

    await cli(
      'tasks',
      'create',
      '--id',
      'cli-slow',
      '--name',
      'Long',
      '--type',
      testTypes.slow,
      '--schedule',
      'rate(1 hour)',
    );
    const started = JSON.parse((await cli('run', 'cli-slow', '--json')).out);
    await waitFor(async () =>
      (await api.deps.store.getRun('cli-slow', started.runId))?.status === 'running' ? true : undefined,
    );
    const cancelled = await cli('cancel', 'cli-slow');
    expect(cancelled.code, cancelled.err).toBe(0);
    expect(cancelled.out).toBe(`cancel requested for run ${started.runId} (running)`);
    await waitFor(async () =>
      (await api.deps.store.getRun('cli-slow', started.runId))?.status === 'cancelled' ? true : undefined,
    );
    expect((await cli('cancel', 'cli-slow')).code).toBe(1);
  });

  it('run --wait exits 1 when the run fails; API errors print their message and exit 1', async () => {
    await cli(
      'tasks',
      'create',
      '--id',
      'cli-fail',
      '--name',
      'Broken',
      '--type',
      testTypes.fail,
      '--schedule',
      '0 3 * * *',
    );
    const failed = await cli('run', 'cli-fail', '--wait');
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('Error: boom');

    const missing = await cli('tasks', 'get', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('task nope does not exist (task_not_found, HTTP 404)');
    const bad = await cli(
      'tasks',
      'create',
      '--name',
      'x',
      '--type',
      testTypes.ok,
      '--schedule',
      '61 * * * *',
    );
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('minute: 61 is out of range 0-59');
  });

  it('update, enable/disable, preview, pause/resume, delete', async () => {
    await cli(
      'tasks',
      'create',
      '--id',
      'cli-2',
      '--name',
      'Two',
      '--type',
      testTypes.ok,
      '--schedule',
      '0 3 * * *',
    );
    const updated = await cli(
      'tasks',
      'update',
      'cli-2',
      '--schedule',
      'rate(2 hours)',
      '--if-match',
      '1',
      '--json',
    );
    expect(JSON.parse(updated.out)).toMatchObject({ schedule: 'rate(2 hours)', version: 2 });
    expect(JSON.parse((await cli('tasks', 'disable', 'cli-2', '--json')).out).enabled).toBe(false);
    expect((await cli('tasks', 'enable', 'cli-2')).out).toMatch(/enabled:\s+yes/);
    const preview = await cli('preview', '0 9 * * 1-5', '--tz', 'Europe/Berlin', '--count', '2');
    expect(preview.out.split('\n')[0]).toBe('At 09:00 AM, Monday through Friday (Europe/Berlin)');
    expect(preview.out.split('\n')).toHaveLength(3);
    expect((await cli('pause')).out).toBe('scheduler paused');
    expect((await cli('status', '--json')).out).toContain('"state":"paused"');
    expect((await cli('resume')).out).toBe('scheduler running');
    expect((await cli('tasks', 'delete', 'cli-2')).out).toBe('deleted cli-2');
    expect((await cli('types')).out).toContain(testTypes.ok);
  });

  it('--list-succeeded yes|no|default sets and clears listSucceeded; anything else is a usage error', async () => {
    const created = await cli(
      'tasks',
      'create',
      '--id',
      'cli-unlisted',
      '--name',
      'Unlisted',
      '--type',
      testTypes.ok,
      '--schedule',
      '* * * * *',
      '--idempotent',
      '--list-succeeded',
      'no',
      '-o',
      'wide',
    );
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/list successes:\s+no \(/);
    expect(created.out).toMatch(/idempotent:\s+yes/);
    const shown = JSON.parse((await cli('tasks', 'get', 'cli-unlisted', '--json')).out);
    expect(shown).toMatchObject({ idempotent: true, listSucceeded: false, successesListed: 'none' });
    const bad = await cli('tasks', 'update', 'cli-unlisted', '--list-succeeded', 'maybe');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--list-succeeded takes yes, no or default, not "maybe"');
    const all = await cli('tasks', 'update', 'cli-unlisted', '--list-succeeded', 'yes', '--json');
    expect(all.code).toBe(0);
    expect(JSON.parse(all.out)).toMatchObject({ listSucceeded: true, successesListed: 'all' });
    expect((await cli('tasks', 'get', 'cli-unlisted', '-o', 'wide')).out).toMatch(/list successes:\s+yes/);
    const restored = await cli('tasks', 'update', 'cli-unlisted', '--list-succeeded', 'default', '--json');
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.out)).not.toHaveProperty('listSucceeded');
    expect((await cli('tasks', 'get', 'cli-unlisted', '-o', 'wide')).out).toMatch(
      /list successes:\s+run-now, retries and replays; scheduled ones only/,
    );
    expect((await cli('tasks', 'create', '--help')).out).toContain('--list-succeeded yes|no|default');
  });

  it('--help for every command; usage errors exit 2', async () => {
    for (const command of [
      ['tasks', 'list'],
      ['tasks', 'get'],
      ['tasks', 'create'],
      ['tasks', 'update'],
      ['tasks', 'delete'],
      ['tasks', 'enable'],
      ['tasks', 'disable'],
      ['run'],
      ['cancel'],
      ['runs'],
      ['pause'],
      ['resume'],
      ['status'],
      ['types'],
      ['preview'],
    ]) {
      const help = await cli(...command, '--help');
      expect(help.code, command.join(' ')).toBe(0);
      expect(help.out).toContain(`usage: tickwork ${command.join(' ')}`);
    }
    expect((await cli('--help')).out).toContain('tasks create');
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('run')).code).toBe(2);
    expect((await cli('run', 'x', '--bogus')).code).toBe(2);
    expect((await cli('run', 'x', '--param', 'novalue')).code).toBe(2);
  });

  it('-o json|yaml|wide; --json is -o json', async () => {
    await cli(
      'tasks',
      'create',
      '--id',
      'cli-out',
      '--name',
      'Out',
      '--type',
      testTypes.ok,
      '--schedule',
      '0 3 * * *',
      '--tz',
      'Europe/Berlin',
    );
    const json = await cli('tasks', 'get', 'cli-out', '-o', 'json');
    expect(JSON.parse(json.out)).toMatchObject({ id: 'cli-out', timezone: 'Europe/Berlin' });
    expect((await cli('tasks', 'get', 'cli-out', '--json')).out).toBe(json.out);
    const yaml = await cli('tasks', 'get', 'cli-out', '-o', 'yaml');
    expect(parse(yaml.out)).toEqual(JSON.parse(json.out));
    expect(yaml.out).toMatch(/^id: cli-out$/m);
    const list = await cli('-o', 'wide', 'tasks', 'list');
    expect(list.code, list.err).toBe(0);
    expect(list.out).toMatch(/^ID\s+NAME.*\s+ZONE\s+OVERLAP\s+PRIORITY\s+RUNS\s+QUEUED\s+PROGRESS$/m);
    expect(list.out).toMatch(/cli-out .*Europe\/Berlin\s+skip\s+0\s+0\s+0/);
    expect((await cli('tasks', 'get', 'cli-out', '-o', 'wide')).out).toMatch(/^overlap:\s+skip$/m);
    expect((await cli('runs', 'cli-out', '-owide')).out).toMatch(
      /^RUN\s+STATUS.*ATTEMPT\s+FINISHED\s+PARAMETERS/,
    );
    const missing = await cli('tasks', 'get', 'nope', '-o', 'yaml');
    expect(missing.code).toBe(1);
    expect(parse(missing.err)).toMatchObject({ error: { code: 'task_not_found' } });
    expect((await cli('tasks', 'list', '-o', 'xml')).code).toBe(2);
    expect((await cli('tasks', 'list', '-o', 'yaml', '--json')).code).toBe(2);
  });

  it('on a TTY, run --wait redraws one status line with the time waited', async () => {
    await cli(
      'tasks',
      'create',
      '--id',
      'cli-tty',
      '--name',
      'Tty',
      '--type',
      testTypes.ok,
      '--schedule',
      '0 3 * * *',
    );
    const status: string[] = [];
    const err: string[] = [];
    const code = await main(['run', 'cli-tty', '--wait', '--endpoint', api.baseUrl], {
      out: () => {},
      err: (line) => err.push(line),
      status: (line) => status.push(line),
      env: {},
    });
    expect(code).toBe(0);
    expect(status.at(-1)).toMatch(/^\[.{24}\]\s+(\d+|\?)%\s+succeeded.*\(\d+(\.\d)? m?s\)$/);
    expect(err.at(-1)).toBe(''); // the status line is ended before the run prints
  });

  it('Ctrl-C during run --wait leaves the run going and says how to cancel it (exit 130)', async () => {
    await cli(
      'tasks',
      'create',
      '--id',
      'cli-ctrl-c',
      '--name',
      'Long',
      '--type',
      testTypes.slow,
      '--schedule',
      'rate(1 hour)',
    );
    let interrupt: (() => void) | undefined;
    const err: string[] = [];
    const code = await main(['run', 'cli-ctrl-c', '--wait', '--endpoint', api.baseUrl], {
      out: () => {},
      err: (line) => {
        err.push(line);
        if (line.includes('running')) interrupt?.();
      },
      env: {},
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {
          interrupt = undefined;
        };
      },
    });
    expect(code).toBe(130);
    expect(interrupt).toBeUndefined(); // the listener is gone once main returns
    const runId = (err[0] ?? '').split(' ')[1] as string;
    expect(err.at(-1)).toBe(`run ${runId} goes on; cancel it with \`tickwork cancel cli-ctrl-c\``);
    expect((await api.deps.store.getRun('cli-ctrl-c', runId))?.status).toBe('running');
    expect((await cli('cancel', 'cli-ctrl-c')).code).toBe(0);
  });

  it('spawned: `tickwork tasks get --json` through the real entry point, and a failing exit code', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'tasks', 'get', 'cli-1', '--json', '--endpoint', api.baseUrl],
      { cwd: new URL('../..', import.meta.url).pathname, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ id: 'cli-1' });
    const failing = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'tasks', 'get', 'absent', '--endpoint', api.baseUrl],
      {
        cwd: new URL('../..', import.meta.url).pathname,
      },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(failing).toMatchObject({ code: 1, stderr: expect.stringContaining('task absent does not exist') });
  });
});
