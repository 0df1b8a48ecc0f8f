/**
 * The dead-man promise (`mustSucceedEvery`) through the API, on DynamoDB Local and in memory:
 * declared on create, apply and patch, refused with a clear message when it is not a duration of
 * at least a minute, shown on the task view, recorded in the audit trail field by field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../src/core/ports.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, callApi, startApi, testTypes } from './harness.js';

function describePromise(name: string, makeStore: () => Promise<TaskStore>) {
  describe(`mustSucceedEvery through the API (${name})`, () => {
    let api: ApiHarness;
    let store: TaskStore;
    let now = new Date('2026-03-29T00:00:00Z');
    const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      callApi(api.baseUrl, method, path, body, headers);

    beforeAll(async () => {
      store = await makeStore();
      api = await startApi(store, { clock: { now: () => now } });
    });
    afterAll(async () => {
      await api?.close();
    });

    it('is declared on create and shown with its deadline, counted from the creation', async () => {
      now = new Date('2026-03-29T00:00:00Z');
      const created = await call('POST', '/tasks', {
        id: 'nightly',
        name: 'Nightly export',
        type: testTypes.ok,
        schedule: '0 2 * * *',
        mustSucceedEvery: '26h',
      });

      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        mustSucceedEvery: '26h',
        lastSucceededAt: null,
        successDeadline: '2026-03-30T02:00:00.000Z',
        overdue: false,
      });
      now = new Date('2026-03-30T02:00:00Z');
      expect((await call('GET', '/tasks/nightly')).body.overdue).toBe(true);
    });

    it('refuses what is not a duration of a minute or more, naming the field and why', async () => {
      for (const [value, why] of [
        ['30s', 'below 1 minute'],
        ['26', 'is not a duration'],
        ['1.5h', 'is not a duration'],
        ['400d', 'over 366 days'],
      ] as const) {
        const answer = await call('POST', '/tasks', {
          name: 'Bad',
          type: testTypes.ok,
          schedule: '0 2 * * *',
          mustSucceedEvery: value,
        });
        expect(answer.status, value).toBe(400);
        expect(answer.body.error.code).toBe('validation_failed');
        expect(answer.body.error.details[0].field).toBe('mustSucceedEvery');
        expect(answer.body.error.details[0].message).toContain(why);
      }
      const patched = await call('PATCH', '/tasks/nightly', { mustSucceedEvery: 90 });
      expect(patched.status).toBe(400);
    });

    it('a new value starts the clock from the edit; null removes it; both are audited', async () => {
      now = new Date('2026-03-30T03:00:00Z');
      const tightened = await call('PATCH', '/tasks/nightly', { mustSucceedEvery: '90m' });
      expect(tightened.status).toBe(200);
      expect(tightened.body).toMatchObject({
        mustSucceedEvery: '90m',
        successDeadline: '2026-03-30T04:30:00.000Z',
        overdue: false,
      });
      const same = await call('PATCH', '/tasks/nightly', { mustSucceedEvery: '90m' });
      expect(same.body.version).toBe(tightened.body.version);

      const removed = await call('PATCH', '/tasks/nightly', { mustSucceedEvery: null });
      expect(removed.body).toMatchObject({ mustSucceedEvery: null, successDeadline: null, overdue: false });
      expect((await store.getTask('nightly'))?.mustSucceedSetAt).toBeUndefined();

      const trail = (await call('GET', '/audit?taskId=nightly&limit=10')).body.items;
      expect(trail.map((e: { action: string }) => e.action)).toEqual(['update', 'update', 'create']);
      expect(trail[0].changes).toEqual([{ field: 'mustSucceedEvery', before: '90m', after: null }]);
      expect(trail[1].changes).toEqual([{ field: 'mustSucceedEvery', before: '26h', after: '90m' }]);
      expect(trail[2].changes).toContainEqual({ field: 'mustSucceedEvery', before: null, after: '26h' });
    });

    it('is declared by apply, and a changed declaration shows in its diff', async () => {
      const declare = (every: string) =>
        call('POST', '/tasks/apply', {
          tasks: [{ id: 'applied', type: testTypes.ok, schedule: '0 3 * * *', mustSucceedEvery: every }],
        });
      expect((await declare('2d')).body.changes).toEqual([{ id: 'applied', action: 'created' }]);
      expect((await declare('2d')).body.changes).toEqual([{ id: 'applied', action: 'unchanged' }]);
      expect((await declare('25h')).body.changes).toEqual([
        { id: 'applied', action: 'updated', fields: { mustSucceedEvery: { from: '2d', to: '25h' } } },
      ]);
      const removed = await call('POST', '/tasks/apply', {
        tasks: [{ id: 'applied', type: testTypes.ok, schedule: '0 3 * * *', mustSucceedEvery: null }],
      });
      expect(removed.body.changes).toEqual([
        { id: 'applied', action: 'updated', fields: { mustSucceedEvery: { from: '25h', to: null } } },
      ]);
      const none = await call('POST', '/tasks/apply', {
        tasks: [{ id: 'applied-none', type: testTypes.ok, schedule: '0 3 * * *', mustSucceedEvery: null }],
      });
      expect(none.body.changes).toEqual([{ id: 'applied-none', action: 'created' }]);
      const bad = await declare('5s');
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.body.error.details)).toContain('below 1 minute');
    });
  });
}

describePromise('DynamoDB Local', async () => (await createTestTable('api-dead-man')).store);
describePromise('in memory', async () => new MemoryTaskStore());
