/**
 * Tasks as code over HTTP: `POST /tasks/apply` against DynamoDB Local, and what it does to an
 * administrator's later edits and to system tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyTasks } from '../../src/api/apply.js';
import type { TaskStore } from '../../src/core/ports.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, callApi, startApi, testTypes } from './harness.js';

let api: ApiHarness;
let store: TaskStore;

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(api.baseUrl, method, path, body, headers);

const apply = (tasks: unknown[], dryRun?: boolean) =>
  call('POST', '/tasks/apply', { tasks, ...(dryRun !== undefined ? { dryRun } : {}) });

const aDeclaration = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  type: testTypes.ok,
  schedule: '0 6 * * *',
  timezone: 'Europe/Berlin',
  ...overrides,
});

beforeAll(async () => {
  ({ store } = await createTestTable('api-apply'));
  api = await startApi(store);
});
afterAll(async () => {
  await api?.close();
});

describe('POST /tasks/apply', () => {
  it('creates absent tasks (name defaults to the id), then reports them unchanged', async () => {
    const declarations = [
      aDeclaration('apply-a', { parameters: { region: 'eu', depth: 2 } }),
      aDeclaration('apply-b', { name: 'Report B', retry: { maxAttempts: 3, backoffSeconds: 10 } }),
    ];

    const first = await apply(declarations);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      dryRun: false,
      changes: [
        { id: 'apply-a', action: 'created' },
        { id: 'apply-b', action: 'created' },
      ],
    });
    const a = await call('GET', '/tasks/apply-a');
    expect(a.body).toMatchObject({
      id: 'apply-a',
      name: 'apply-a',
      schedule: '0 6 * * *',
      timezone: 'Europe/Berlin',
      parameters: { region: 'eu', depth: 2 },
      system: false,
      version: 1,
    });
    expect((await call('GET', '/tasks/apply-b')).body.retry).toEqual({
      maxAttempts: 3,
      backoffSeconds: 10,
      maxBackoffSeconds: 3600,
    });

    // The same declarations again, parameters' keys in another order: nothing to do, nothing written.
    const again = await apply([
      aDeclaration('apply-a', { parameters: { depth: 2, region: 'eu' } }),
      declarations[1],
    ]);
    expect(again.body.changes).toEqual([
      { id: 'apply-a', action: 'unchanged' },
      { id: 'apply-b', action: 'unchanged' },
    ]);
    expect((await call('GET', '/tasks/apply-a')).body.version).toBe(1);
  });

  it('updates only the declared fields, listing each change from → to', async () => {
    await call('POST', '/tasks', {
      id: 'apply-c',
      name: 'Made by hand',
      type: testTypes.ok,
      schedule: '0 6 * * *',
      priority: 5,
      description: 'keep me',
    });

    const res = await apply([{ id: 'apply-c', type: testTypes.ok, schedule: '0 7 * * *', priority: 5 }]);

    expect(res.status).toBe(200);
    expect(res.body.changes).toEqual([
      { id: 'apply-c', action: 'updated', fields: { schedule: { from: '0 6 * * *', to: '0 7 * * *' } } },
    ]);
    const task = (await call('GET', '/tasks/apply-c')).body;
    expect(task).toMatchObject({
      name: 'Made by hand',
      description: 'keep me',
      schedule: '0 7 * * *',
      priority: 5,
      version: 2,
    });
    expect(task.nextSlots[0]).toMatch(/T07:00:00.000Z$/);
  });

  it('a dry run writes nothing and lists what an apply would do', async () => {
    await apply([aDeclaration('apply-d')]);
    const before = (await call('GET', '/tasks/apply-d')).body;

    const res = await apply(
      [
        aDeclaration('apply-d', { schedule: '0 7 * * *', enabled: false }),
        aDeclaration('apply-d2'),
        aDeclaration('apply-c', { schedule: '0 7 * * *', timezone: 'UTC', priority: 5 }),
      ],
      true,
    );

    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      dryRun: true,
      changes: [
        {
          id: 'apply-d',
          action: 'updated',
          fields: {
            schedule: { from: '0 6 * * *', to: '0 7 * * *' },
            enabled: { from: true, to: false },
          },
        },
        { id: 'apply-d2', action: 'created' },
        { id: 'apply-c', action: 'unchanged' },
      ],
    });
    expect((await call('GET', '/tasks/apply-d')).body).toEqual(before);
    expect((await call('GET', '/tasks/apply-d2')).status).toBe(404);
  });

  it("keeps an admin's edit through an unchanged re-apply; a changed declaration overwrites only its fields", async () => {
    const declared = aDeclaration('apply-e', { schedule: '0 6 * * *', priority: 1 });
    await apply([declared]);

    // An edit of a field the declaration does not set survives re-applying it.
    expect((await call('PATCH', '/tasks/apply-e', { description: 'by hand' })).status).toBe(200);
    const reapplied = await apply([declared]);
    expect(reapplied.body.changes).toEqual([{ id: 'apply-e', action: 'unchanged' }]);
    expect((await call('GET', '/tasks/apply-e')).body).toMatchObject({ description: 'by hand', version: 2 });

    // The administrator edits a declared field too.
    const edited = await call('PATCH', '/tasks/apply-e', { schedule: '30 6 * * *' });
    expect(edited.status).toBe(200);

    // The construct applies a declaration only when it changed; an apply of the same one still
    // reports the drift it would undo, field by field.
    const drift = await apply([declared], true);
    expect(drift.body.changes[0]).toEqual({
      id: 'apply-e',
      action: 'updated',
      fields: { schedule: { from: '30 6 * * *', to: '0 6 * * *' } },
    });

    // A changed declaration (a new priority) is applied: its fields win, the others stay.
    const changed = await apply([{ ...declared, priority: 2 }]);
    expect(changed.body.changes[0]).toEqual({
      id: 'apply-e',
      action: 'updated',
      fields: { schedule: { from: '30 6 * * *', to: '0 6 * * *' }, priority: { from: 1, to: 2 } },
    });
    expect((await call('GET', '/tasks/apply-e')).body).toMatchObject({
      schedule: '0 6 * * *',
      priority: 2,
      description: 'by hand',
    });
  });

  it('refuses the whole apply when one declaration is invalid, naming it; nothing is written', async () => {
    const res = await apply([
      aDeclaration('apply-f'),
      aDeclaration('apply-g', { schedule: '61 * * * *' }),
      aDeclaration('apply-h', { type: 'Acme.Unknown' }),
    ]);

    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_schedule');
    expect(res.body.error.message).toMatch(/^task apply-g: /);
    expect(res.body.error.details[0].field).toMatch(/^tasks\.1\./); // the cron field, under the declaration
    expect((await call('GET', '/tasks/apply-f')).status).toBe(404);

    const unknown = await apply([aDeclaration('apply-h', { type: 'Acme.Unknown' })]);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_task_type' });
    expect(unknown.body.error.details[0].field).toBe('tasks.0.type');
  });

  it('refuses a body that is not a list of declarations: unknown fields, no id, an id twice', async () => {
    const unknownField = await apply([aDeclaration('apply-i', { colour: 'red' })]);
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.details).toEqual([
      { field: 'tasks.0.colour', message: 'is not a known field' },
    ]);

    const noId = await apply([{ type: testTypes.ok, schedule: '0 6 * * *' }]);
    expect(noId.status).toBe(400);
    expect(noId.body.error.details.map((d: { field: string }) => d.field)).toEqual(['tasks.0.id']);

    const twice = await apply([aDeclaration('apply-j'), aDeclaration('apply-j', { priority: 3 })]);
    expect(twice.status).toBe(400);
    expect(twice.body.error).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'tasks.1.id', message: 'declares apply-j again (first at tasks.0)' }],
    });
    expect((await call('GET', '/tasks/apply-j')).status).toBe(404);
  });
});

describe('system tasks', () => {
  beforeAll(async () => {
    await applyTasks(api.deps, [aDeclaration('sys-apply', { system: true, parameters: { a: 1 } })], {
      source: 'deploy',
    });
  });

  it('can be read and run, not changed or deleted, through HTTP', async () => {
    expect((await call('GET', '/tasks/sys-apply')).body).toMatchObject({ system: true, version: 1 });

    const patch = await call('PATCH', '/tasks/sys-apply', { description: 'mine now' });
    expect(patch.status).toBe(403);
    expect(patch.body.error.code).toBe('task_read_only');
    const del = await call('DELETE', '/tasks/sys-apply?force=true');
    expect(del.status).toBe(403);
    expect(del.body.error.code).toBe('task_read_only');

    const run = await call('POST', '/tasks/sys-apply/run');
    expect(run.status).toBe(202);
    expect((await call('GET', '/tasks/sys-apply')).body).toMatchObject({ system: true, description: null });
  });

  it('an HTTP apply cannot change one, nor set or clear `system`; an unchanged one is fine', async () => {
    const same = await apply([aDeclaration('sys-apply', { parameters: { a: 1 } })]);
    expect(same.status).toBe(200);
    expect(same.body.changes).toEqual([{ id: 'sys-apply', action: 'unchanged' }]);

    const change = await apply([aDeclaration('sys-apply', { priority: 9 })]);
    expect(change.status).toBe(403);
    expect(change.body.error).toMatchObject({ code: 'task_read_only' });
    expect(change.body.error.message).toMatch(/^task sys-apply: /);

    const clear = await apply([aDeclaration('sys-apply', { system: false })]);
    expect(clear.status).toBe(403);

    const set = await apply([aDeclaration('apply-k', { system: true })], true);
    expect(set.status).toBe(403);
    expect(set.body.error.details).toEqual([{ field: 'tasks.0.system', message: 'is set only by a deploy' }]);
    expect((await call('GET', '/tasks/apply-k')).status).toBe(404);
  });

  it('POST /tasks with system: true is refused 403; system: false is a plain task', async () => {
    const refused = await call('POST', '/tasks', { ...aDeclaration('apply-l'), name: 'x', system: true });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('task_read_only');
    expect((await call('GET', '/tasks/apply-l')).status).toBe(404);

    const plain = await call('POST', '/tasks', { ...aDeclaration('apply-m'), name: 'x', system: false });
    expect(plain.status).toBe(201);
    expect(plain.body.system).toBe(false);
  });

  it('the deploy path changes them and clears the flag; then HTTP may edit', async () => {
    const cleared = await applyTasks(api.deps, [aDeclaration('sys-apply', { system: false, priority: 4 })], {
      source: 'deploy',
    });
    expect(cleared.changes).toEqual([
      {
        id: 'sys-apply',
        action: 'updated',
        fields: { system: { from: true, to: false }, priority: { from: 0, to: 4 } },
      },
    ]);
    expect((await call('PATCH', '/tasks/sys-apply', { description: 'now editable' })).status).toBe(200);
  });
});
