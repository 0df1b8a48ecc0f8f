/**
 * The audit trail through the API, on DynamoDB Local: every administrative action is recorded
 * (who, when, what changed), in the same transaction as the change, so a failed audit write
 * leaves the change undone; the trail reads newest first, paged, per task, after a delete too.
 */
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleDeployEvent } from '../../src/api/deploy-event.js';
import { taskChanges } from '../../src/core/audit.js';
import type { TaskStore } from '../../src/core/ports.js';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { aRun, aTask } from '../support/builders.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, callApi, startApi, testTypes, waitFor } from './harness.js';

let api: ApiHarness;
let store: TaskStore;

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(api.baseUrl, method, path, body, headers);

interface EntryView {
  action: string;
  via: string;
  actor: { kind: string; id: string; name: string | null };
  taskId: string | null;
  runId: string | null;
  changes: { field: string; before: unknown; after: unknown }[];
  at: string;
  expiresAt: string;
}

async function trail(taskId?: string): Promise<EntryView[]> {
  const answer = await call('GET', `/audit?limit=100${taskId ? `&taskId=${taskId}` : ''}`);
  expect(answer.status).toBe(200);
  return answer.body.items;
}

beforeAll(async () => {
  ({ store } = await createTestTable('api-audit'));
  api = await startApi(store);
});
afterAll(async () => {
  await api?.close();
});

describe('GET /audit records every administrative action', () => {
  it('records create, edit (field by field), run-now, cancel, delete; the entries outlive the task', async () => {
    const created = await call('POST', '/tasks', {
      id: 'audit-a',
      name: 'Audited',
      type: testTypes.slow,
      schedule: '0 6 * * *',
      parameters: { region: 'eu', limit: 10 },
    });
    const edited = await call(
      'PATCH',
      '/tasks/audit-a',
      { schedule: '*/5 * * * *', parameters: { region: 'us', limit: 10 } },
      { 'if-match': '"1"' },
    );
    const run = await call('POST', '/tasks/audit-a/run', { parameters: { limit: 3 } });
    await waitFor(async () =>
      (await store.getRun('audit-a', run.body.runId))?.status === 'running' ? true : undefined,
    );
    const cancelled = await call('POST', '/tasks/audit-a/cancel', {});
    const deleted = await call('DELETE', '/tasks/audit-a?force=true');
    expect([created.status, edited.status, run.status, cancelled.status, deleted.status]).toEqual([
      201, 200, 202, 202, 204,
    ]);

    const entries = await trail('audit-a');
    expect(entries.map((e) => e.action)).toEqual(['delete', 'cancel', 'run', 'update', 'create']);
    const [del, cancel, runNow, update, create] = entries as [
      EntryView,
      EntryView,
      EntryView,
      EntryView,
      EntryView,
    ];
    for (const entry of entries) {
      expect(entry).toMatchObject({
        actor: { kind: 'local', id: 'local', name: null },
        via: 'api',
        taskId: 'audit-a',
      });
      const kept = Date.parse(entry.expiresAt) - Date.parse(entry.at);
      expect(Math.round(kept / 86_400_000)).toBe(90);
    }
    expect(update.changes).toEqual([
      { field: 'parameters.region', before: 'eu', after: 'us' },
      { field: 'schedule', before: '0 6 * * *', after: '*/5 * * * *' },
    ]);
    expect(create.changes).toContainEqual({ field: 'schedule', before: null, after: '0 6 * * *' });
    expect(create.changes).toContainEqual({
      field: 'parameters',
      before: null,
      after: { region: 'eu', limit: 10 },
    });
    expect(runNow).toMatchObject({
      runId: run.body.runId,
      changes: [{ field: 'parameters.limit', before: 10, after: 3 }],
    });
    expect(cancel).toMatchObject({ runId: run.body.runId, changes: [] });
    expect(del.changes).toContainEqual({ field: 'schedule', before: '*/5 * * * *', after: null });
    expect(del.changes).toContainEqual({ field: 'name', before: 'Audited', after: null });
  });

  it('records pause and resume outside any task, and apply with what it changed', async () => {
    await call('POST', '/scheduler/pause');
    await call('POST', '/scheduler/resume');
    const applied = await call('POST', '/tasks/apply', {
      tasks: [{ id: 'audit-apply', type: testTypes.ok, schedule: '0 7 * * *' }],
    });
    const reapplied = await call('POST', '/tasks/apply', {
      tasks: [{ id: 'audit-apply', type: testTypes.ok, schedule: '0 8 * * *', enabled: false }],
    });
    const dry = await call('POST', '/tasks/apply', {
      dryRun: true,
      tasks: [{ id: 'audit-apply', type: testTypes.ok, schedule: '0 9 * * *' }],
    });
    expect([applied.status, reapplied.status, dry.status]).toEqual([200, 200, 200]);

    const all = await trail();
    const newest = all.slice(0, 4);
    expect(newest.map((e) => [e.action, e.via, e.taskId])).toEqual([
      ['update', 'apply', 'audit-apply'],
      ['create', 'apply', 'audit-apply'],
      ['resume', 'api', null],
      ['pause', 'api', null],
    ]);
    expect(newest[0]?.changes).toEqual([
      { field: 'enabled', before: true, after: false },
      { field: 'schedule', before: '0 7 * * *', after: '0 8 * * *' },
    ]);
  });

  it('records a deploy’s create and delete as cloudformation, via deploy', async () => {
    const properties = {
      TickworkTask: JSON.stringify({
        id: 'audit-deployed',
        type: testTypes.ok,
        schedule: '0 5 * * *',
        system: true,
      }),
    };
    await handleDeployEvent(api.deps, { RequestType: 'Create', ResourceProperties: properties });
    await handleDeployEvent(api.deps, {
      RequestType: 'Delete',
      PhysicalResourceId: 'tickwork-task:audit-deployed',
      ResourceProperties: properties,
    });

    const entries = await trail('audit-deployed');
    expect(entries.map((e) => [e.action, e.via, e.actor.kind, e.actor.id])).toEqual([
      ['delete', 'deploy', 'deploy', 'cloudformation'],
      ['create', 'deploy', 'deploy', 'cloudformation'],
    ]);
  });

  it('records a replay (the new run, what it replays) and a backfill (range, concurrency, slots), not a dry run', async () => {
    await call('POST', '/tasks', {
      id: 'audit-replay',
      name: 'Replayed',
      type: testTypes.fail,
      schedule: '0 * * * *',
    });
    const run = await call('POST', '/tasks/audit-replay/run', {});
    await waitFor(async () =>
      (await store.getRun('audit-replay', run.body.runId))?.status === 'failed' ? true : undefined,
    );
    const replay = await call('POST', `/tasks/audit-replay/runs/${run.body.runId}/replay`, {});
    const range = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T02:00:00.000Z', concurrency: 2 };
    const dry = await call('POST', '/tasks/audit-replay/backfill', { ...range, dryRun: true });
    const backfill = await call('POST', '/tasks/audit-replay/backfill', range);
    expect([replay.status, dry.status, backfill.status]).toEqual([202, 200, 202]);

    const entries = await trail('audit-replay');
    expect(entries.map((e) => e.action)).toEqual(['backfill', 'replay', 'run', 'create']);
    expect(entries[0]).toMatchObject({
      actor: { kind: 'local', id: 'local' },
      via: 'api',
      runId: null,
      changes: [
        { field: 'from', before: null, after: range.from },
        { field: 'to', before: null, after: range.to },
        { field: 'concurrency', before: null, after: 2 },
        { field: 'slots', before: null, after: 3 },
      ],
    });
    expect(entries[1]).toMatchObject({
      runId: replay.body.runId,
      changes: [{ field: 'replayOf', before: null, after: run.body.runId }],
    });
  });

  it('records nothing for a refused or empty change', async () => {
    await call('POST', '/tasks', { id: 'audit-r', name: 'R', type: testTypes.ok, schedule: '0 6 * * *' });
    const before = await trail('audit-r');
    const refused = [
      await call('PATCH', '/tasks/audit-r', { schedule: 'not a cron' }),
      await call('PATCH', '/tasks/audit-r', { name: 'X' }, { 'if-match': '"7"' }),
      await call('DELETE', '/tasks/audit-r', undefined, { 'if-match': '"7"' }),
      await call('POST', '/tasks/audit-r/cancel', {}),
      await call('POST', '/tasks', {
        id: 'audit-r',
        name: 'again',
        type: testTypes.ok,
        schedule: '0 6 * * *',
      }),
    ];
    const unchanged = await call('PATCH', '/tasks/audit-r', { name: 'R' });

    expect(refused.map((r) => r.status)).toEqual([400, 409, 409, 409, 409]);
    expect(unchanged.status).toBe(200);
    expect(await trail('audit-r')).toEqual(before);
  });

  it('pages newest first and filters by task; refuses a token it never gave', async () => {
    for (const name of ['one', 'two', 'three', 'four']) {
      await call('PATCH', '/tasks/audit-r', { name });
    }
    const first = await call('GET', '/audit?taskId=audit-r&limit=2');
    const second = await call('GET', `/audit?taskId=audit-r&limit=2&nextToken=${first.body.nextToken}`);
    const names = [...first.body.items, ...second.body.items].map(
      (e: EntryView) => e.changes.find((c) => c.field === 'name')?.after,
    );
    expect(names).toEqual(['four', 'three', 'two', 'one']);
    expect((await call('GET', '/audit?taskId=no%20such%20id')).body).toEqual({ items: [], nextToken: null });
    const bad = await call('GET', '/audit?nextToken=bm90LWEtdG9rZW4');
    expect([bad.status, bad.body.error.code, bad.body.error.details[0].field]).toEqual([
      400,
      'validation_failed',
      'nextToken',
    ]);
    expect((await call('GET', '/audit?limit=0')).status).toBe(400);
  });
});

describe('an action is never without its entry', () => {
  /** A store on the same table whose transactions carrying an audit entry are throttled, unsent. */
  async function faultyApi(): Promise<{ faulty: ApiHarness; refusedWrites: () => number }> {
    const { client, tableName } = await createTestTable('api-audit-faults');
    const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
    let refused = 0;
    const wrapped = new Proxy(doc, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: unknown) => {
          const items = command instanceof TransactWriteCommand ? (command.input.TransactItems ?? []) : [];
          if (items.some((item) => String(item.Put?.Item?.sk ?? '').startsWith('AUDIT#'))) {
            refused++;
            throw new ProvisionedThroughputExceededException({ message: 'throttled', $metadata: {} });
          }
          return send(command);
        };
      },
    });
    const faulty = await startApi(new DynamoTaskStore({ client: wrapped, tableName }));
    return { faulty, refusedWrites: () => refused };
  }

  it('neither replays nor starts a backfill when its entry cannot be written', async () => {
    const { faulty, refusedWrites } = await faultyApi();
    try {
      const faultyStore = faulty.deps.store;
      await faultyStore.createTask(aTask({ id: 'fault-r', type: testTypes.ok, schedule: '0 * * * *' }));
      const original = aRun({ taskId: 'fault-r', status: 'failed' });
      const task = await faultyStore.getTask('fault-r');
      if (!task) throw new Error('fault-r was not created');
      await faultyStore.saveTask(
        { ...task, version: 2 },
        { expectedVersion: 1, runWrites: [{ kind: 'record', record: original }] },
      );
      const at = (path: string, body: unknown) => callApi(faulty.baseUrl, 'POST', path, body);

      const answers = [
        await at(`/tasks/fault-r/runs/${original.runId}/replay`, {}),
        await at('/tasks/fault-r/backfill', { from: '2026-01-01T00:00:00Z', to: '2026-01-01T02:00:00Z' }),
      ];

      expect(answers.map((a) => [a.status, a.body.error.code])).toEqual([
        [503, 'unavailable'],
        [503, 'unavailable'],
      ]);
      expect(refusedWrites()).toBeGreaterThanOrEqual(2);
      const after = await faultyStore.getTask('fault-r');
      expect([after?.pending, after?.active, after?.version]).toEqual([[], [], 2]);
      expect(await faultyStore.listBackfills()).toEqual([]);
      expect((await faultyStore.listRuns('fault-r', { limit: 10 })).items.map((r) => r.runId)).toEqual([
        original.runId,
      ]);
      expect((await faultyStore.listAudit({ taskId: 'fault-r', limit: 10 })).items).toEqual([]);
    } finally {
      await faulty.close();
    }
  });

  it('answers 503 and leaves the task as it was when the entry cannot be written', async () => {
    const { faulty, refusedWrites } = await faultyApi();
    try {
      const faultyStore = faulty.deps.store;
      const task = aTask({ id: 'fault-a', type: testTypes.ok });
      await faultyStore.createTask(task);
      const at = (method: string, path: string, body?: unknown) =>
        callApi(faulty.baseUrl, method, path, body);

      const answers = [
        await at('POST', '/tasks', { id: 'fault-b', name: 'B', type: testTypes.ok, schedule: '0 6 * * *' }),
        await at('PATCH', '/tasks/fault-a', { name: 'Changed' }),
        await at('POST', '/tasks/fault-a/run', {}),
        await at('DELETE', '/tasks/fault-a'),
        await at('POST', '/scheduler/pause'),
      ];

      expect(answers.map((a) => [a.status, a.body.error.code])).toEqual(
        Array.from({ length: 5 }, () => [503, 'unavailable']),
      );
      expect(refusedWrites()).toBeGreaterThanOrEqual(5);
      expect(await faultyStore.getTask('fault-b')).toBeUndefined();
      const after = await faultyStore.getTask('fault-a');
      expect(taskChanges(task, after)).toEqual([]);
      expect(after?.pending).toEqual([]);
      expect(after?.version).toBe(1);
      expect((await faultyStore.getSchedulerState()).paused).toBe(false);
      expect(await faulty.deps.scheduler.state()).toBe('running');
      expect((await faultyStore.listAudit({ limit: 10 })).items).toEqual([]);
    } finally {
      await faulty.close();
    }
  });
});
