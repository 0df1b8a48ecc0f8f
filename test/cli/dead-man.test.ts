/** `--must-succeed-every` on `tasks create|update`, and the promise in `tasks get`, against the real API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { type ApiHarness, startApi, testTypes } from '../api/harness.js';
import { cliAgainst } from './run-cli.js';

let api: ApiHarness;
let now = new Date('2026-03-29T00:00:00Z');
const cli = cliAgainst(() => api.baseUrl);

beforeAll(async () => {
  api = await startApi(new MemoryTaskStore(), { clock: { now: () => now } });
});
afterAll(async () => {
  await api?.close();
});

describe('tickwork tasks --must-succeed-every', () => {
  it('declares, shows, tightens and removes a promise; refuses a bad one with the reason', async () => {
    const created = await cli(
      'tasks',
      'create',
      '--id',
      'export',
      '--name',
      'Export',
      '--type',
      testTypes.ok,
      '--schedule',
      '0 2 * * *',
      '--must-succeed-every',
      '26h',
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out).toContain(
      'must succeed: every 26h, next by 2026-03-30T02:00:00.000Z (last success never)',
    );

    now = new Date('2026-03-30T02:00:00Z');
    expect((await cli('tasks', 'get', 'export')).out).toContain(
      'must succeed: every 26h: OVERDUE since 2026-03-30T02:00:00.000Z (last success never)',
    );

    const bad = await cli('tasks', 'update', 'export', '--must-succeed-every', '10s');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('below 1 minute');

    const tightened = await cli('tasks', 'update', 'export', '--must-succeed-every', '90m', '-o', 'json');
    expect(JSON.parse(tightened.out)).toMatchObject({ mustSucceedEvery: '90m', overdue: false });

    const removed = await cli('tasks', 'update', 'export', '--must-succeed-every', 'none');
    expect(removed.code, removed.err).toBe(0);
    expect(removed.out).toMatch(/must succeed:\s+-/);
  });

  it('lists the flag in the help of create and update', async () => {
    for (const command of ['create', 'update']) {
      const help = await cli('tasks', command, '--help');
      expect(help.out).toContain('--must-succeed-every <duration|none>');
    }
  });
});
