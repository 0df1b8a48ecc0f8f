/**
 * Every route of the admin API, over HTTP (a real server on a free port) against DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../src/core/ports.js';
import { aTask } from '../support/builders.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, callApi, startApi, testTypes, waitFor } from './harness.js';

let api: ApiHarness;
let store: TaskStore;

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(api.baseUrl, method, path, body, headers);

const aTaskInput = (overrides: Record<string, unknown> = {}) => ({
  name: 'Clean up files',
  type: testTypes.ok,
  schedule: '0 3 * * *',
  timezone: 'Europe/Berlin',
  ...overrides,
});

beforeAll(async () => {
  ({ store } = await createTestTable('api-routes'));
  api = await startApi(store, {
    logs: {
      async read(_taskId, runId) {
        return runId.startsWith('0')
          ? { lines: [{ at: '2026-03-29T00:59:00.000Z', level: 'INFO', message: 'hello' }] }
          : undefined;
      },
    },
  });
});
afterAll(async () => {
  await api?.close();
});

describe('task types and tasks', () => {
  it('GET /task-types lists the registry', async () => {
    const res = await call('GET', '/task-types');
    expect(res.status).toBe(200);
    expect(res.body.items.map((t: { name: string }) => t.name)).toEqual(
      [testTypes.fail, testTypes.ok, testTypes.progress, testTypes.slow].sort(),
    );
  });

  it('POST /tasks creates with defaults, GET /tasks/{id} reads it back with the next five slots', async () => {
    const created = await call('POST', '/tasks', aTaskInput({ id: 'create-1', parameters: { bucket: 'b' } }));
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/tasks/create-1');
    expect(created.body).toMatchObject({
      id: 'create-1',
      version: 1,
      enabled: true,
      overlap: 'skip',
      catchUp: 'run-once',
      retry: { maxAttempts: 1, backoffSeconds: 30, maxBackoffSeconds: 3600 },
      runCount: 0,
      currentRun: null,
      system: false,
      parameters: { bucket: 'b' },
    });
    expect(created.body.nextSlots).toHaveLength(5);
    expect(created.body.nextRunAt).toBe(created.body.nextSlots[0]);
    expect(created.body.scheduleDescription).toContain('Europe/Berlin');

    const read = await call('GET', '/tasks/create-1');
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('"1"');
    expect(read.body).toEqual(created.body);
    const stored = await store.getTask('create-1');
    expect(stored?.nextSlotAt?.toISOString()).toBe(created.body.nextSlots[0]);
  });

  it('takes `idempotent` as a boolean: shown when true, removed by a PATCH to false', async () => {
    const created = await call('POST', '/tasks', aTaskInput({ id: 'idem-1', idempotent: true }));
    expect(created.status).toBe(201);
    expect(created.body.idempotent).toBe(true);
    expect((await store.getTask('idem-1'))?.idempotent).toBe(true);
    const refused = await call('POST', '/tasks', aTaskInput({ id: 'idem-2', idempotent: 'yes' }));
    expect(refused.status).toBe(400);
    expect(refused.body.error.details).toEqual([expect.objectContaining({ field: 'idempotent' })]);

    const patched = await call('PATCH', '/tasks/idem-1', { idempotent: false }, { 'if-match': '"1"' });
    expect(patched.status).toBe(200);
    expect(patched.body).not.toHaveProperty('idempotent');
    expect((await store.getTask('idem-1'))?.idempotent).toBeUndefined();
  });

  it('takes `listSucceeded` as a boolean, shown when set; `successesListed` says what the default lists; PATCH null goes back to it', async () => {
    const created = await call('POST', '/tasks', aTaskInput({ id: 'unl-1', listSucceeded: false }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ listSucceeded: false, successesListed: 'none' });
    expect((await store.getTask('unl-1'))?.listSucceeded).toBe(false);
    const listed = await call('POST', '/tasks', aTaskInput({ id: 'unl-2', listSucceeded: true }));
    expect(listed.body).toMatchObject({ listSucceeded: true, successesListed: 'all' });
    expect((await store.getTask('unl-2'))?.listSucceeded).toBe(true);
    const everyMinute = await call('POST', '/tasks', aTaskInput({ id: 'unl-4', schedule: '* * * * *' }));
    expect(everyMinute.body).not.toHaveProperty('listSucceeded');
    expect(everyMinute.body.successesListed).toBe('except-scheduled');
    const everyFive = await call('POST', '/tasks', aTaskInput({ id: 'unl-5', schedule: '*/5 * * * *' }));
    expect(everyFive.body.successesListed).toBe('all');
    for (const bad of ['no', 0, null]) {
      const refused = await call('POST', '/tasks', aTaskInput({ id: 'unl-3', listSucceeded: bad }));
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('validation_failed');
      expect(refused.body.error.details).toEqual([expect.objectContaining({ field: 'listSucceeded' })]);
    }
    const badPatch = await call('PATCH', '/tasks/unl-1', { listSucceeded: 'yes' }, { 'if-match': '"1"' });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.error.details).toEqual([expect.objectContaining({ field: 'listSucceeded' })]);

    const patched = await call('PATCH', '/tasks/unl-1', { listSucceeded: true }, { 'if-match': '"1"' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ listSucceeded: true, successesListed: 'all' });
    expect((await store.getTask('unl-1'))?.listSucceeded).toBe(true);
    const cleared = await call('PATCH', '/tasks/unl-1', { listSucceeded: null }, { 'if-match': '"2"' });
    expect(cleared.status).toBe(200);
    expect(cleared.body).not.toHaveProperty('listSucceeded');
    expect((await store.getTask('unl-1'))?.listSucceeded).toBeUndefined();
    // Moved to every minute, the default leaves its scheduled successes out.
    const faster = await call('PATCH', '/tasks/unl-5', { schedule: '* * * * *' }, { 'if-match': '"1"' });
    expect(faster.body.successesListed).toBe('except-scheduled');
  });

  it('POST /tasks generates an id, refuses a duplicate id with 409', async () => {
    const generated = await call('POST', '/tasks', aTaskInput());
    expect(generated.status).toBe(201);
    expect(generated.body.id).toMatch(/^[0-9A-Z]{26}$/);
    await call('POST', '/tasks', aTaskInput({ id: 'dup' }));
    const again = await call('POST', '/tasks', aTaskInput({ id: 'dup' }));
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
  });

  it('refuses bad schedules, zones, unknown types and unknown fields with 400 and details', async () => {
    const badCron = await call('POST', '/tasks', aTaskInput({ schedule: '61 * * * *' }));
    expect(badCron.status).toBe(400);
    expect(badCron.body.error).toMatchObject({ code: 'invalid_schedule', details: [{ field: 'minute' }] });
    const badZone = await call('POST', '/tasks', aTaskInput({ timezone: 'Mars/Olympus' }));
    expect(badZone.body.error.code).toBe('invalid_schedule');
    expect(badZone.body.error.details[0].field).toBe('timezone');
    const tooOften = await call('POST', '/tasks', aTaskInput({ schedule: '*/30 * * * * *' }));
    expect(tooOften.body.error.code).toBe('invalid_schedule');
    const unknownType = await call('POST', '/tasks', aTaskInput({ type: 'Acme.Nope' }));
    expect(unknownType.status).toBe(400);
    expect(unknownType.body.error.code).toBe('unknown_task_type');
    expect(unknownType.body.error.message).toContain(testTypes.ok);
    const unknownField = await call('POST', '/tasks', aTaskInput({ colour: 'red' }));
    expect(unknownField.body.error).toMatchObject({
      code: 'validation_failed',
      details: [{ field: 'colour' }],
    });
    const wrongType = await call(
      'POST',
      '/tasks',
      aTaskInput({ priority: 'high', retry: { maxAttempts: 0, backoffSeconds: 1 } }),
    );
    expect(wrongType.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual([
      'priority',
      'retry.maxAttempts',
    ]);
  });

  it('GET /tasks paginates with limit and nextToken, hides hidden tasks unless includeHidden=true', async () => {
    const { store: own } = await createTestTable('api-pages');
    const pageApi = await startApi(own);
    try {
      for (let i = 0; i < 7; i++) {
        await own.createTask(aTask({ id: `p-${i}`, type: testTypes.ok, hidden: i === 3 }));
      }
      const seen: string[] = [];
      let token: string | null = null;
      let pages = 0;
      do {
        const query: string = token ? `&nextToken=${encodeURIComponent(token)}` : '';
        const res = await fetch(`${pageApi.baseUrl}/tasks?limit=3${query}`).then((r) => r.json());
        seen.push(...res.items.map((t: { id: string }) => t.id));
        expect(res.items.length).toBeLessThanOrEqual(3);
        token = res.nextToken;
        pages++;
      } while (token);
      expect(pages).toBeGreaterThanOrEqual(2);
      expect(seen.sort()).toEqual(['p-0', 'p-1', 'p-2', 'p-4', 'p-5', 'p-6']);
      const all = await fetch(`${pageApi.baseUrl}/tasks?includeHidden=true&limit=100`).then((r) => r.json());
      expect(all.items.map((t: { id: string }) => t.id)).toContain('p-3');
      expect(all.nextToken).toBeNull();
      const bad = await fetch(`${pageApi.baseUrl}/tasks?nextToken=garbage`);
      expect(bad.status).toBe(400);
      const badLimit = await fetch(`${pageApi.baseUrl}/tasks?limit=101`);
      expect(badLimit.status).toBe(400);
    } finally {
      await pageApi.close();
    }
  });

  it('PATCH /tasks/{id} updates given fields, re-aims the schedule, honours If-Match', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'patch-1' }));
    const res = await call(
      'PATCH',
      '/tasks/patch-1',
      { schedule: 'rate(5 minutes)', description: 'every five' },
      { 'if-match': '"1"' },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ version: 2, schedule: 'rate(5 minutes)', description: 'every five' });
    const gap = Date.parse(res.body.nextSlots[1]) - Date.parse(res.body.nextSlots[0]);
    expect(gap).toBe(5 * 60_000);
    const stale = await call('PATCH', '/tasks/patch-1', { name: 'x' }, { 'if-match': '1' });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe('version_conflict');
    const cleared = await call('PATCH', '/tasks/patch-1', { description: null });
    expect(cleared.body.description).toBeNull();
    const unchanged = await call('PATCH', '/tasks/patch-1', {});
    expect(unchanged.body.version).toBe(cleared.body.version);
    const badCron = await call('PATCH', '/tasks/patch-1', { schedule: 'rate(0 minutes)' });
    expect(badCron.body.error.code).toBe('invalid_schedule');
    expect((await call('PATCH', '/tasks/missing', { name: 'x' })).status).toBe(404);
  });

  it('disable and enable: disabled tasks have no next run; enabling clears disabledReason', async () => {
    await store.createTask(
      aTask({
        id: 'stopped',
        type: testTypes.ok,
        enabled: false,
        disabledReason: 'Disabled by stopOnError',
        nextSlotAt: new Date('2020-01-01T00:00:00Z'),
      }),
    );
    const disabled = await call('GET', '/tasks/stopped');
    expect(disabled.body).toMatchObject({
      enabled: false,
      nextRunAt: null,
      nextSlots: [],
      disabledReason: 'Disabled by stopOnError',
    });
    const enabled = await call('PATCH', '/tasks/stopped', { enabled: true });
    expect(enabled.body.disabledReason).toBeNull();
    expect(Date.parse(enabled.body.nextRunAt)).toBeGreaterThan(Date.now() - 1000);
  });

  it('system tasks are read-only (403) but can be run; hidden ones are left out of lists', async () => {
    await store.createTask(aTask({ id: 'sys-1', type: testTypes.ok, system: true, hidden: true }));
    expect((await call('PATCH', '/tasks/sys-1', { name: 'x' })).body.error.code).toBe('task_read_only');
    expect((await call('DELETE', '/tasks/sys-1')).status).toBe(403);
    const run = await call('POST', '/tasks/sys-1/run');
    expect(run.status).toBe(202);
  });
});

describe('runs', () => {
  it('run-now on an idle task invokes the handler within 1 s, with parameters merged over the defaults', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'now-1', parameters: { a: 1, b: 2 } }));
    const before = Date.now();
    const res = await call('POST', '/tasks/now-1/run', { parameters: { b: 3 } });
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('dispatched');
    const invocation = await waitFor(
      async () => api.handlers.invocations.find((i) => i.event.runId === res.body.runId),
      1000,
    );
    expect(invocation.at - before).toBeLessThan(1000);
    expect(invocation.event).toMatchObject({
      taskId: 'now-1',
      trigger: 'manual',
      parameters: { a: 1, b: 3 },
    });
    const done = await waitFor(async () => {
      const run = await call('GET', `/tasks/now-1/runs/${res.body.runId}`);
      return run.body.status === 'succeeded' ? run.body : undefined;
    });
    expect(done).toMatchObject({ result: 'ok', trigger: 'manual', parameters: { a: 1, b: 3 } });
    // The task view folds the finished run for display, before any tick wrote it back.
    const task = await call('GET', '/tasks/now-1');
    expect(task.body).toMatchObject({
      runCount: 1,
      lastStatus: 'succeeded',
      lastResult: 'ok',
      currentRun: null,
    });
    expect(task.body.lastDurationMs).toBeGreaterThanOrEqual(0);
  });

  it('run-now works on a disabled task; GET runs lists history newest first with pagination', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'hist', enabled: false }));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await call('POST', '/tasks/hist/run', { parameters: { i } });
      expect(res.status).toBe(202);
      ids.push(res.body.runId);
      await waitFor(async () =>
        (await store.getRun('hist', res.body.runId))?.status === 'succeeded' ? true : undefined,
      );
    }
    const first = await call('GET', '/tasks/hist/runs?limit=3');
    expect(first.body.items.map((r: { runId: string }) => r.runId)).toEqual([ids[3], ids[2], ids[1]]);
    expect(first.body.nextToken).toEqual(expect.any(String));
    const second = await call(
      'GET',
      `/tasks/hist/runs?limit=3&nextToken=${encodeURIComponent(first.body.nextToken)}`,
    );
    expect(second.body.items.map((r: { runId: string }) => r.runId)).toEqual([ids[0]]);
    expect(second.body.nextToken).toBeNull();
    expect((await call('GET', '/tasks/hist/runs?nextToken=abc')).status).toBe(400);
    expect((await call('GET', '/tasks/hist/runs/01NOTARUN0000000000000000')).body.error.code).toBe(
      'run_not_found',
    );
  });

  it('shows progress of the current run, cancels it (202), and 409 when nothing runs', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'slow-1', type: testTypes.slow }));
    expect((await call('POST', '/tasks/slow-1/cancel')).body.error.code).toBe('nothing_running');
    const started = await call('POST', '/tasks/slow-1/run');
    const running = await waitFor(async () => {
      const task = await call('GET', '/tasks/slow-1');
      return task.body.currentRun?.progress?.value >= 1 ? task.body : undefined;
    });
    expect(running.currentRun).toMatchObject({ runId: started.body.runId, status: 'running' });
    expect(running.currentRun.progress).toMatchObject({
      max: 3,
      percent: expect.any(Number),
      message: expect.any(String),
    });
    const deleteWhileRunning = await call('DELETE', '/tasks/slow-1');
    expect(deleteWhileRunning.status).toBe(409);
    expect(deleteWhileRunning.body.error.code).toBe('run_active');

    const cancel = await call('POST', '/tasks/slow-1/cancel');
    expect(cancel.status).toBe(202);
    expect(cancel.body).toEqual({ runId: started.body.runId, status: 'running' });
    const ended = await waitFor(async () => {
      const run = await call('GET', `/tasks/slow-1/runs/${started.body.runId}`);
      return run.body.status === 'cancelled' ? run.body : undefined;
    });
    expect(ended.cancelRequested).toBe(true);
  });

  it('cancels a queued manual run before it starts (recorded cancelled)', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'queue-1', type: testTypes.slow }));
    const first = await call('POST', '/tasks/queue-1/run');
    const second = await call('POST', '/tasks/queue-1/run');
    expect(second.body.status).toBe('queued');
    const task = await call('GET', '/tasks/queue-1');
    expect(task.body.queuedRuns).toBe(1);
    const cancelQueued = await call('POST', '/tasks/queue-1/cancel', { runId: second.body.runId });
    expect(cancelQueued.body).toEqual({ runId: second.body.runId, status: 'cancelled' });
    expect((await store.getRun('queue-1', second.body.runId))?.status).toBe('cancelled');
    expect((await call('GET', '/tasks/queue-1')).body.queuedRuns).toBe(0);
    // Force-delete cancels the running one, then deletes.
    const forced = await call('DELETE', '/tasks/queue-1?force=true');
    expect(forced.status).toBe(204);
    expect((await call('GET', '/tasks/queue-1')).status).toBe(404);
    expect(first.body.runId).toBeDefined();
  });

  it('GET logs: lines from the log reader, 404 when it has none', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'logs-1' }));
    const run = await call('POST', '/tasks/logs-1/run');
    await waitFor(async () =>
      (await store.getRun('logs-1', run.body.runId))?.status === 'succeeded' ? true : undefined,
    );
    const view = await call('GET', `/tasks/logs-1/runs/${run.body.runId}`);
    expect(view.body.logs).toBe(`/tasks/logs-1/runs/${run.body.runId}/logs`);
    const logs = await call('GET', view.body.logs);
    expect(logs.status).toBe(200);
    expect(logs.body).toEqual({
      lines: [{ at: '2026-03-29T00:59:00.000Z', level: 'INFO', message: 'hello' }],
      url: null,
    });
    expect((await call('GET', '/tasks/logs-1/runs/ZZZ/logs')).status).toBe(404);
  });

  it('DELETE /tasks/{id} -> 204, then 404', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'del-1' }));
    expect((await call('DELETE', '/tasks/del-1', undefined, { 'if-match': '"7"' })).body.error.code).toBe(
      'version_conflict',
    );
    expect((await call('DELETE', '/tasks/del-1')).status).toBe(204);
    expect((await call('GET', '/tasks/del-1')).body.error.code).toBe('task_not_found');
  });
});

describe('scheduler, preview, documents and errors', () => {
  it('GET /scheduler, POST pause and resume', async () => {
    expect((await call('GET', '/scheduler')).body).toMatchObject({ state: 'running' });
    expect((await call('POST', '/scheduler/pause')).body.state).toBe('paused');
    expect((await call('GET', '/scheduler')).body.state).toBe('paused');
    expect((await store.getSchedulerState()).paused).toBe(true);
    expect((await call('POST', '/scheduler/resume')).body.state).toBe('running');
  });

  it('GET /schedule-preview lists slots in the zone and describes them; validates like create', async () => {
    const res = await call(
      'GET',
      `/schedule-preview?schedule=${encodeURIComponent('0 9 * * 1-5')}&timezone=Europe/Berlin&count=3&from=2026-03-27T00:00:00Z`,
    );
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      schedule: '0 9 * * 1-5',
      timezone: 'Europe/Berlin',
      description: 'At 09:00 AM, Monday through Friday (Europe/Berlin)',
      next: ['2026-03-27T08:00:00.000Z', '2026-03-30T07:00:00.000Z', '2026-03-31T07:00:00.000Z'],
    });
    expect((await call('GET', '/schedule-preview?schedule=nope')).body.error.code).toBe('invalid_schedule');
    expect((await call('GET', '/schedule-preview?schedule=*%20*%20*%20*%20*&count=51')).status).toBe(400);
  });

  it('GET /openapi.json is OpenAPI 3.1 with every route; GET / serves a page', async () => {
    const doc = await call('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining([
        '/tasks',
        '/tasks/{id}',
        '/tasks/{id}/run',
        '/tasks/{id}/runs/{runId}/logs',
        '/scheduler/pause',
        '/schedule-preview',
      ]),
    );
    const page = await fetch(`${api.baseUrl}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it('maps routing and body errors: 404, 405, 413, 415, invalid JSON', async () => {
    expect((await call('GET', '/nope')).body.error.code).toBe('route_not_found');
    const put = await call('PUT', '/tasks');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toContain('POST');
    const big = await fetch(`${api.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(300 * 1024) }),
    });
    expect(big.status).toBe(413);
    const text = await fetch(`${api.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(text.status).toBe(415);
    const broken = await fetch(`${api.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    });
    expect(((await broken.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });
});
