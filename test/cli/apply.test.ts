/**
 * `tickwork tasks apply` against the real API over HTTP (DynamoDB Local behind it), with
 * declaration files in JSON and YAML written to a temporary directory.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatChanges, readDeclarations } from '../../src/cli/apply.js';
import { type ApiHarness, startApi, testTypes } from '../api/harness.js';
import { createTestTable } from '../support/dynamo.js';
import { cliAgainst } from './run-cli.js';

let api: ApiHarness;
let dir: string;

const cli = cliAgainst(() => api.baseUrl);

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const getTask = async (id: string) => {
  const response = await fetch(`${api.baseUrl}/tasks/${id}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const yamlTasks = (euSchedule: string) => `# tasks as code
tasks:
  - id: nightly-report
    type: ${testTypes.ok}
    schedule: "0 2 * * *"
    timezone: Europe/Berlin
    parameters:
      format: pdf
  - id: eu-report
    name: EU report
    type: ${testTypes.ok}
    schedule: "${euSchedule}"
  - id: cleanup
    type: ${testTypes.ok}
    schedule: rate(6 hours)
`;

beforeAll(async () => {
  const { store } = await createTestTable('cli-apply');
  api = await startApi(store);
  dir = mkdtempSync(join(tmpdir(), 'tickwork-apply-'));
});
afterAll(async () => {
  await api?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('tickwork tasks apply', () => {
  it('creates from YAML, then a dry run prints the diff and writes nothing, then applies it', async () => {
    const path = file('tasks.yaml', yamlTasks('0 6 * * *'));

    const created = await cli('tasks', 'apply', '-f', path);
    expect(created.code, created.err).toBe(0);
    expect(created.out).toBe(
      [
        '+ nightly-report  created',
        '+ eu-report       created',
        '+ cleanup         created',
        '3 created, 0 updated, 0 unchanged',
      ].join('\n'),
    );
    expect((await getTask('nightly-report')).body).toMatchObject({
      name: 'nightly-report',
      timezone: 'Europe/Berlin',
      parameters: { format: 'pdf' },
    });

    file('tasks.yaml', yamlTasks('0 7 * * *'));
    const dry = await cli('tasks', 'apply', '-f', path, '--dry-run');
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out.split('\n')).toEqual([
      'dry run: nothing was written; an apply would do this:',
      '= nightly-report  unchanged',
      '~ eu-report       schedule: "0 6 * * *" → "0 7 * * *"',
      '= cleanup         unchanged',
      '0 created, 1 updated, 2 unchanged',
    ]);
    expect((await getTask('eu-report')).body).toMatchObject({ schedule: '0 6 * * *', version: 1 });

    const applied = await cli('tasks', 'apply', '-f', path, '--json');
    expect(applied.code, applied.err).toBe(0);
    expect(JSON.parse(applied.out)).toEqual({
      dryRun: false,
      changes: [
        { id: 'nightly-report', action: 'unchanged' },
        { id: 'eu-report', action: 'updated', fields: { schedule: { from: '0 6 * * *', to: '0 7 * * *' } } },
        { id: 'cleanup', action: 'unchanged' },
      ],
    });
    expect((await getTask('eu-report')).body).toMatchObject({ schedule: '0 7 * * *', version: 2 });
  });

  it('reads JSON, as { tasks } or as a bare list, and prints every changed field', async () => {
    const declaration = { id: 'json-1', type: testTypes.ok, schedule: '0 3 * * *' };
    const wrapped = file('wrapped.json', JSON.stringify({ tasks: [declaration] }));
    expect((await cli('tasks', 'apply', '-f', wrapped)).out).toContain('+ json-1  created');

    const bare = file('bare.json', JSON.stringify([{ ...declaration, priority: 2, parameters: { a: [1] } }]));
    const updated = await cli('tasks', 'apply', '-f', bare);
    expect(updated.code, updated.err).toBe(0);
    expect(updated.out.split('\n')).toEqual([
      '~ json-1  priority: 0 → 2',
      '          parameters: {} → {"a":[1]}',
      '0 created, 1 updated, 0 unchanged',
    ]);
  });

  it('a file that is not valid YAML or JSON fails with its name and line', async () => {
    const yaml = file('broken.yaml', 'tasks:\n  - id: a\n    schedule: "0 6 * * *\n');
    const badYaml = await cli('tasks', 'apply', '-f', yaml);
    expect(badYaml.code).toBe(1);
    expect(badYaml.err).toMatch(/broken\.yaml:\d+:\d+: not valid YAML: /);

    const indented = file('indent.yaml', 'tasks:\n  - id: a\n   type: x\n');
    expect((await cli('tasks', 'apply', '-f', indented)).err).toMatch(/indent\.yaml:3:\d+: not valid YAML/);

    const json = file('broken.json', '{\n  "tasks": [\n    { "id": "a", }\n  ]\n}\n');
    const badJson = await cli('tasks', 'apply', '-f', json);
    expect(badJson.code).toBe(1);
    expect(badJson.err).toMatch(/broken\.json(:3:\d+)?: not valid JSON: /);

    const notAList = file('map.yaml', 'id: a\ntype: x\n');
    expect((await cli('tasks', 'apply', '-f', notAList)).err).toContain(
      'map.yaml: expected a list of task declarations, or an object with a "tasks" list',
    );

    const missing = await cli('tasks', 'apply', '-f', join(dir, 'absent.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/absent\.yaml: cannot read it: .*ENOENT/);
  });

  it('the API refusing a declaration prints its field, and nothing is written', async () => {
    const path = file(
      'refused.yaml',
      `- id: ok-1\n  type: ${testTypes.ok}\n  schedule: "0 6 * * *"\n- id: bad-1\n  type: Acme.Unknown\n  schedule: "0 6 * * *"\n`,
    );

    const refused = await cli('tasks', 'apply', '-f', path);

    expect(refused.code).toBe(1);
    expect(refused.err).toContain('task bad-1: type: Acme.Unknown is not a registered task type');
    expect(refused.err).toContain('tasks.1.type:');
    expect((await getTask('ok-1')).status).toBe(404);
  });

  it('without -f it is a usage error', async () => {
    const result = await cli('tasks', 'apply');
    expect(result.code).toBe(2);
    expect(result.err).toContain('give the declarations file: -f <file>');
  });
});

describe('declaration files and the diff, without an API', () => {
  it('reads YAML timestamps and yes/no as the strings JSON would have', () => {
    expect(
      readDeclarations('- id: a\n  startAt: 2026-03-29T09:00:00Z\n  description: no\n', 'x.yml'),
    ).toEqual([{ id: 'a', startAt: '2026-03-29T09:00:00Z', description: 'no' }]);
  });

  it('says so when no task is declared', () => {
    expect(formatChanges({ dryRun: false, changes: [] })).toBe(
      'no tasks declared\n0 created, 0 updated, 0 unchanged',
    );
  });
});
