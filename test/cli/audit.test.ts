/** `tickwork audit` against the real API (DynamoDB Local behind it): table, wide, JSON and YAML. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { type ApiHarness, startApi, testTypes } from '../api/harness.js';
import { createTestTable } from '../support/dynamo.js';
import { cliAgainst } from './run-cli.js';

let api: ApiHarness;
const cli = cliAgainst(() => api.baseUrl);

beforeAll(async () => {
  const { store } = await createTestTable('cli-audit');
  api = await startApi(store);
  for (const args of [
    [
      'tasks',
      'create',
      '--id',
      'aud-1',
      '--name',
      'Nightly',
      '--type',
      testTypes.ok,
      '--schedule',
      '0 3 * * *',
    ],
    ['tasks', 'update', 'aud-1', '--schedule', '0 4 * * *'],
    ['tasks', 'disable', 'aud-1'],
    [
      'tasks',
      'create',
      '--id',
      'aud-2',
      '--name',
      'Other',
      '--type',
      testTypes.ok,
      '--schedule',
      '0 5 * * *',
    ],
    ['pause'],
  ]) {
    const run = await cli(...args);
    expect(run.code, run.err).toBe(0);
  }
});
afterAll(async () => {
  await api?.close();
});

describe('tickwork audit', () => {
  it('prints the trail newest first as a table, one task’s with its id', async () => {
    const all = await cli('audit');
    expect(all.code, all.err).toBe(0);
    const lines = all.out.split('\n');
    expect(lines[0]).toMatch(/^AT\s+WHO\s+ACTION\s+TASK\s+RUN\s+CHANGES$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).slice(1, 4))).toEqual([
      ['local', 'pause', '-'],
      ['local', 'create', 'aud-2'],
      ['local', 'update', 'aud-1'],
      ['local', 'update', 'aud-1'],
      ['local', 'create', 'aud-1'],
    ]);

    const one = await cli('audit', 'aud-1', '--limit', '2');
    expect(one.out.split('\n')).toHaveLength(3);
    expect(one.out).toContain('enabled: true → false');
    expect(one.out).toContain('schedule: "0 3 * * *" → "0 4 * * *"');
  });

  it('prints every field with -o wide, and the API’s shapes with -o json and -o yaml', async () => {
    const wide = await cli('audit', 'aud-1', '-o', 'wide');
    expect(wide.out.split('\n')[0]).toMatch(/VIA\s+ENTRY\s+CHANGES$/);
    expect(wide.out).toMatch(/create .* api .*name: "Nightly"; .*schedule: "0 3 \* \* \*"/);

    const json = JSON.parse((await cli('audit', 'aud-1', '-o', 'json')).out);
    const yaml = parse((await cli('audit', 'aud-1', '-o', 'yaml')).out);
    expect(json).toEqual(yaml);
    expect(json.map((e: { action: string }) => e.action)).toEqual(['update', 'update', 'create']);
    expect(json[0]).toMatchObject({
      actor: { kind: 'local', id: 'local', name: null },
      via: 'api',
      taskId: 'aud-1',
      changes: [{ field: 'enabled', before: true, after: false }],
    });
  });

  it('says so when there is nothing, and refuses a bad limit', async () => {
    expect((await cli('audit', 'no-such-task')).out).toBe('no audit entries');
    expect(JSON.parse((await cli('audit', 'no-such-task', '--json')).out)).toEqual([]);
    const bad = await cli('audit', '--limit', 'many');
    expect(bad.code).toBe(2);
  });
});
