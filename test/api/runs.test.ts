/** Runs across tasks, replay and backfill, over HTTP against DynamoDB Local. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../src/core/ports.js';
import { runTick } from '../../src/tick/run-tick.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, callApi, startApi, testTypes, waitFor } from './harness.js';

let api: ApiHarness;
let store: TaskStore;

const call = (method: string, path: string, body?: unknown) => callApi(api.baseUrl, method, path, body);

const create = async (id: string, type: string, extra: Record<string, unknown> = {}) => {
  const created = await call('POST', '/tasks', { id, name: id, type, schedule: '0 6 * * *', ...extra });
  expect(created.status).toBe(201);
};

/** Runs of a task once `count` of them have ended. */
const ended = (taskId: string, count: number) =>
  waitFor(async () => {
    const page = await call('GET', `/tasks/${taskId}/runs?limit=100`);
    // biome-ignore lint/suspicious/noExplicitAny: an API answer
    const done = page.body.items.filter((r: any) => ['succeeded', 'failed'].includes(r.status));
    return done.length >= count ? done : undefined;
  });

beforeAll(async () => {
  ({ store } = await createTestTable('api-runs'));
  api = await startApi(store);
  await create('runs-ok', testTypes.ok, { parameters: { region: 'eu' } });
  await create('runs-fail', testTypes.fail);
  for (let i = 0; i < 3; i++) {
    expect((await call('POST', '/tasks/runs-ok/run', {})).status).toBe(202);
    await ended('runs-ok', i + 1);
  }
  expect((await call('POST', '/tasks/runs-fail/run', { parameters: { attempt: 7 } })).status).toBe(202);
  await ended('runs-fail', 1);
});
afterAll(async () => {
  await api?.close();
});

describe('GET /runs', () => {
  it('lists the runs of every task, newest first, and filters them', async () => {
    const all = await call('GET', '/runs');
    expect(all.status).toBe(200);
    expect(all.body.items.map((r: { taskId: string }) => r.taskId)).toEqual([
      'runs-fail',
      'runs-ok',
      'runs-ok',
      'runs-ok',
    ]);
    expect(all.body.nextToken).toBeNull();
    expect(all.body.items[0]).toMatchObject({
      status: 'failed',
      trigger: 'manual',
      type: testTypes.fail,
      replayOf: null,
    });

    const failed = await call('GET', '/runs?status=failed,timed-out');
    expect(failed.body.items.map((r: { taskId: string }) => r.taskId)).toEqual(['runs-fail']);
    const byType = await call('GET', `/runs?type=${testTypes.ok}&trigger=manual`);
    expect(byType.body.items).toHaveLength(3);
    expect((await call('GET', '/runs?taskId=runs-fail')).body.items).toHaveLength(1);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await call('GET', `/runs?from=${encodeURIComponent(future)}`)).body.items).toEqual([]);

    const first = await call('GET', '/runs?limit=2');
    expect(first.body.items).toHaveLength(2);
    const second = await call('GET', `/runs?limit=2&nextToken=${first.body.nextToken}`);
    expect(second.body.items.map((r: { runId: string }) => r.runId)).toEqual(
      all.body.items.slice(2).map((r: { runId: string }) => r.runId),
    );
  });

  it('refuses a bad state, trigger, range or token, naming the field', async () => {
    const bad = await call('GET', '/runs?status=exploded');
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('query.status');
    expect((await call('GET', '/runs?trigger=whenever')).status).toBe(400);
    const range = await call('GET', '/runs?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z');
    expect(range.status).toBe(400);
    expect(range.body.error.details[0].field).toBe('query.from');
    const token = await call('GET', '/runs?nextToken=nope');
    expect(token.status).toBe(400);
    expect(token.body.error.details[0].field).toBe('nextToken');
  });
});

describe('POST /tasks/{id}/runs/{runId}/replay', () => {
  it("starts a new run with the original's parameters and slot, linked to it", async () => {
    const [original] = await ended('runs-fail', 1);
    const replay = await call('POST', `/tasks/runs-fail/runs/${original.runId}/replay`, {});
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ replayOf: original.runId });
    expect(replay.body.runId).not.toBe(original.runId);
    const run = await waitFor(async () => {
      const got = await call('GET', `/tasks/runs-fail/runs/${replay.body.runId}`);
      return got.body.status === 'failed' ? got.body : undefined;
    });
    expect(run).toMatchObject({
      trigger: 'replay',
      replayOf: original.runId,
      parameters: { attempt: 7 },
      scheduledFor: original.scheduledFor,
    });
    const listed = await call('GET', '/runs?trigger=replay');
    expect(listed.body.items).toMatchObject([{ runId: replay.body.runId, replayOf: original.runId }]);
  });

  it('answers 404 for a run or task that does not exist', async () => {
    expect(
      (await call('POST', '/tasks/runs-fail/runs/01JQ0000000000000000000000/replay', {})).body.error.code,
    ).toBe('run_not_found');
    expect(
      (await call('POST', '/tasks/nope/runs/01JQ0000000000000000000000/replay', {})).body.error.code,
    ).toBe('task_not_found');
  });
});

describe('POST /tasks/{id}/backfill', () => {
  const from = '2026-01-01T00:00:00.000Z';
  const to = '2026-01-01T05:00:00.000Z';

  it('lists the slots with their idempotency keys in a dry run, and queues nothing', async () => {
    await create('bf-dry', testTypes.ok, { schedule: '0 * * * *' });
    const dry = await call('POST', '/tasks/bf-dry/backfill', { from, to, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ backfillId: null, dryRun: true, count: 6 });
    expect(dry.body.slots[0]).toEqual({
      scheduledFor: from,
      idempotencyKey: `bf-dry:${from}`,
    });
    expect(dry.body.slots.at(-1).scheduledFor).toBe(to);
    expect((await call('GET', '/tasks/bf-dry/runs')).body.items).toEqual([]);
    expect((await call('GET', '/backfills')).body.items).toEqual([]);
  });

  it('runs every slot once, at most `concurrency` at a time, as the tick tops it up', async () => {
    await create('bf-run', testTypes.ok, { schedule: '0 * * * *', overlap: 'allow', enabled: false });
    const started = await call('POST', '/tasks/bf-run/backfill', { from, to, concurrency: 2 });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ dryRun: false, count: 6 });
    expect(started.body.backfillId).toEqual(expect.any(String));
    const jobs = (await call('GET', '/backfills')).body.items;
    expect(jobs).toMatchObject([{ taskId: 'bf-run', queued: 2, total: 6, concurrency: 2 }]);
    const firstEvents = api.handlers.invocations.filter((i) => i.event.taskId === 'bf-run');
    expect(firstEvents.map((i) => i.event.scheduledFor)).toEqual([from, '2026-01-01T01:00:00.000Z']);

    const runs = await waitFor(async () => {
      await runTick(api.deps, { recordTick: false });
      const done = await ended('bf-run', 0);
      return done.length === 6 ? done : undefined;
    }, 20_000);
    // biome-ignore lint/suspicious/noExplicitAny: an API answer
    expect(runs.every((r: any) => r.trigger === 'backfill')).toBe(true);
    // biome-ignore lint/suspicious/noExplicitAny: an API answer
    expect(runs.map((r: any) => r.scheduledFor).sort()).toEqual(
      Array.from({ length: 6 }, (_, h) => `2026-01-01T0${h}:00:00.000Z`),
    );
    const events = api.handlers.invocations.filter((i) => i.event.taskId === 'bf-run');
    expect(events).toHaveLength(6);
    expect((await call('GET', '/backfills')).body.items).toEqual([]);
  });

  it('refuses a range in the future, reversed, or of more than 1000 slots', async () => {
    await create('bf-bad', testTypes.ok, { schedule: '* * * * *' });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const ahead = await call('POST', '/tasks/bf-bad/backfill', { from, to: future });
    expect(ahead.status).toBe(400);
    expect(ahead.body.error.details[0].field).toBe('to');
    expect(
      (await call('POST', '/tasks/bf-bad/backfill', { from: to, to: from })).body.error.details[0].field,
    ).toBe('from');
    const many = await call('POST', '/tasks/bf-bad/backfill', { from, to: '2026-01-02T00:00:00Z' });
    expect(many.status).toBe(400);
    expect(many.body.error.message).toMatch(/more than 1000 slots/);
    expect((await call('POST', '/tasks/bf-bad/backfill', { from, to, concurrency: 11 })).status).toBe(400);
    expect((await call('POST', '/tasks/nope/backfill', { from, to })).status).toBe(404);
  });
});
