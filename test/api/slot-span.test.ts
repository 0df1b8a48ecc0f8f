/**
 * The slots a record stands for, as the API shows them: a catch-up run queued for a span, a
 * skipped record for a span, and a run of one slot (nulls), in the history and the single view.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/model.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { aRun, aTask, at } from '../support/builders.js';
import { type ApiHarness, callApi, startApi, testTypes } from './harness.js';

let api: ApiHarness;
const store = new MemoryTaskStore();
/** The API's clock: half a minute past a minute. */
const fixedNow = new Date('2026-03-29T01:00:30Z');
const call = (method: string, path: string, body?: unknown) => callApi(api.baseUrl, method, path, body);

beforeAll(async () => {
  api = await startApi(store, { clock: { now: () => fixedNow } });
});
afterAll(async () => {
  await api?.close();
});

describe('slot spans in the API', () => {
  it('shows firstSlotAt, lastSlotAt and slotCount on records standing for several slots', async () => {
    const task = aTask({
      id: 'spans',
      type: testTypes.ok,
      enabled: false,
      pending: [
        {
          runId: '01JQ00000000000000000000Q1',
          trigger: 'catch-up',
          scheduledFor: at(300_000),
          notBefore: at(3_600_000),
          attempt: 1,
          parameters: {},
          firstSlotAt: at(60_000),
          lastSlotAt: at(300_000),
          slotCount: 5,
        },
      ],
    });
    await store.createTask(task);
    const skipped: RunRecord = aRun({
      taskId: 'spans',
      runId: '01JQ00000000000000000000S1',
      status: 'skipped',
      trigger: 'catch-up',
      scheduledFor: at(-240_000),
      firstSlotAt: at(-240_000),
      lastSlotAt: at(0),
      slotCount: 5,
    });
    const single = aRun({ taskId: 'spans', runId: '01JQ00000000000000000000R1' });
    const saved = await store.saveTask(
      { ...task, version: 2 },
      {
        expectedVersion: 1,
        runWrites: [
          { kind: 'record', record: skipped },
          { kind: 'record', record: single },
        ],
      },
    );
    expect(saved.saved).toBe(true);

    const list = await call('GET', '/tasks/spans/runs');
    const byId = new Map(list.body.items.map((r: { runId: string }) => [r.runId, r]));
    expect(byId.get('01JQ00000000000000000000Q1')).toMatchObject({
      status: 'queued',
      firstSlotAt: at(60_000).toISOString(),
      lastSlotAt: at(300_000).toISOString(),
      slotCount: 5,
    });
    expect(byId.get('01JQ00000000000000000000S1')).toMatchObject({
      status: 'skipped',
      firstSlotAt: at(-240_000).toISOString(),
      lastSlotAt: at(0).toISOString(),
      slotCount: 5,
    });
    expect(byId.get('01JQ00000000000000000000R1')).toMatchObject({
      firstSlotAt: null,
      lastSlotAt: null,
      slotCount: null,
    });
    const one = await call('GET', '/tasks/spans/runs/01JQ00000000000000000000S1');
    expect(one.body).toMatchObject({ slotCount: 5, firstSlotAt: at(-240_000).toISOString() });
  });

  it('records the slots a task came due for, not yet ticked, when it is disabled or rescheduled', async () => {
    const minute = 60_000;
    const thisMinute = Math.floor(fixedNow.getTime() / minute) * minute;
    const behind = (id: string) =>
      aTask({ id, type: testTypes.ok, schedule: '* * * * *', nextSlotAt: new Date(thisMinute - 2 * minute) });
    await store.createTask(behind('to-disable'));
    await store.createTask(behind('to-reschedule'));

    expect((await call('PATCH', '/tasks/to-disable', { enabled: false })).status).toBe(200);
    expect((await call('PATCH', '/tasks/to-reschedule', { schedule: '0 3 * * *' })).status).toBe(200);

    for (const [id, why] of [
      ['to-disable', 'disabled'],
      ['to-reschedule', 'schedule changed'],
    ] as const) {
      const { items } = (await call('GET', `/tasks/${id}/runs`)).body;
      expect(items, id).toEqual([
        expect.objectContaining({
          status: 'skipped',
          firstSlotAt: new Date(thisMinute - 2 * minute).toISOString(),
          lastSlotAt: new Date(thisMinute).toISOString(),
          slotCount: 3,
          note: expect.stringContaining(why),
        }),
      ]);
    }
    // Nothing is owed by a task that is disabled already, or changed in another field.
    expect((await call('PATCH', '/tasks/to-disable', { name: 'renamed' })).status).toBe(200);
    expect((await call('GET', '/tasks/to-disable/runs')).body.items).toHaveLength(1);
  });
});
