/** Run-now with an `Idempotency-Key`, against DynamoDB Local: one run per key within 24 hours. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TaskStore } from '../../src/core/ports.js';
import { parametersJsonSchema } from '../../src/task/manifest.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, callApi, startApi, testTypes, waitFor } from './harness.js';

let api: ApiHarness;
let store: TaskStore;

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(api.baseUrl, method, path, body, headers);

const runWith = (taskId: string, key: string, parameters?: Record<string, unknown>) =>
  call('POST', `/tasks/${taskId}/run`, parameters ? { parameters } : {}, { 'idempotency-key': key });

const manualRuns = async (taskId: string) =>
  (await store.listRuns(taskId, { limit: 50 })).items.filter((r) => r.trigger === 'manual').length;

beforeAll(async () => {
  ({ store } = await createTestTable('api-idempotency'));
  await store.putTaskType({
    name: 'idem.checked',
    functionName: 'fn-checked',
    parametersSchema: parametersJsonSchema(z.object({ region: z.enum(['eu', 'us']) })),
  });
  api = await startApi(store);
  for (const [id, type] of [
    ['idem-a', testTypes.ok],
    ['idem-b', 'idem.checked'],
  ] as const) {
    const parameters = type === 'idem.checked' ? { region: 'eu' } : {};
    const created = await call('POST', '/tasks', { id, name: id, type, schedule: '0 6 * * *', parameters });
    expect(created.status).toBe(201);
  }
});
afterAll(async () => {
  await api?.close();
});

describe('POST /tasks/{id}/run with Idempotency-Key', () => {
  it('answers a repeated key with the first run and starts nothing more', async () => {
    const first = await runWith('idem-a', 'key-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await runWith('idem-a', 'key-1');
    expect(again.status).toBe(202);
    expect(again.body.runId).toBe(first.body.runId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    await waitFor(async () => ((await manualRuns('idem-a')) === 1 ? true : undefined));
    const task = await call('GET', '/tasks/idem-a');
    expect(task.body.queuedRuns).toBe(0);
    expect(await manualRuns('idem-a')).toBe(1);
  });

  it('starts a new run for a new key, and for the same key on another task', async () => {
    const a = await runWith('idem-a', 'key-2');
    const b = await runWith('idem-b', 'key-2', { region: 'eu' });
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(a.body.runId).not.toBe(b.body.runId);
  });

  it('unties the key of a refused run-now, so the corrected retry starts the run', async () => {
    const refused = await runWith('idem-b', 'key-3', { region: 'mars' });
    expect(refused.status).toBe(400);
    const retried = await runWith('idem-b', 'key-3', { region: 'us' });
    expect(retried.status).toBe(202);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
  });

  it('refuses a malformed key and an unknown task', async () => {
    const spaced = await runWith('idem-a', 'has space');
    expect(spaced.status).toBe(400);
    expect(spaced.body.error.code).toBe('validation_failed');
    expect((await runWith('idem-a', 'x'.repeat(256))).status).toBe(400);
    const missing = await runWith('no-such-task', 'key-4');
    expect(missing.status).toBe(404);
  });
});
