/**
 * Parameters checked against the type's schema before any run: create, update and run-now refuse
 * what the handler's own parse would refuse, naming the field as it would; `GET /task-types`
 * publishes the schema; keys that reach into prototypes are refused everywhere. Over HTTP, on
 * DynamoDB Local.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { TaskStore } from '../../src/core/ports.js';
import { parametersJsonSchema } from '../../src/task/manifest.js';
import { aTask } from '../support/builders.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, callApi, startApi, testTypes } from './harness.js';

/** A report type: a required enum, an integer with bounds and a default, an optional string. */
const reportParameters = z.object({
  region: z.enum(['eu', 'us', 'apac']),
  pages: z.number().int().min(1).max(500).default(10),
  title: z.string().min(3).optional(),
});
/** A strict type: unknown keys refused (`additionalProperties: false`), a nested object, an array. */
const cleanupParameters = z.strictObject({
  bucket: z.string(),
  olderThanDays: z.int().min(1).default(30),
  limits: z.object({ max: z.int() }).optional(),
  prefixes: z.array(z.string()).max(3).optional(),
});
const types = { report: 'acme.report', cleanup: 'acme.cleanup' } as const;

let api: ApiHarness;
let store: TaskStore;

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  callApi(api.baseUrl, method, path, body, headers);

const aTaskInput = (overrides: Record<string, unknown> = {}) => ({
  name: 'Build report',
  type: types.report,
  schedule: '0 6 * * *',
  ...overrides,
});

/** The refusal the API sends for these fields and messages. */
const refused = (...issues: [field: string, message: string][]) => ({
  error: {
    code: 'validation_failed',
    message: issues.map(([field, message]) => `${field}: ${message}`).join('; '),
    details: issues.map(([field, message]) => ({ field, message })),
  },
});
const badRegion: [string, string] = ['parameters.region', 'Invalid option: expected one of "eu"|"us"|"apac"'];

beforeAll(async () => {
  ({ store } = await createTestTable('api-parameters'));
  await store.putTaskType({
    name: types.report,
    functionName: 'fn-report',
    description: 'Builds the monthly report',
    parametersSchema: parametersJsonSchema(reportParameters),
  });
  await store.putTaskType({
    name: types.cleanup,
    functionName: 'fn-cleanup',
    parametersSchema: parametersJsonSchema(cleanupParameters),
  });
  api = await startApi(store);
});
afterAll(async () => {
  await api?.close();
});

describe('GET /task-types', () => {
  it('publishes each type’s description and parameters schema (null without one)', async () => {
    const res = await call('GET', '/task-types');
    expect(res.status).toBe(200);
    const byName = new Map(res.body.items.map((t: { name: string }) => [t.name, t]));
    expect(byName.get(types.report)).toEqual({
      name: types.report,
      functionName: 'fn-report',
      description: 'Builds the monthly report',
      timeoutSeconds: null,
      parametersSchema: parametersJsonSchema(reportParameters),
    });
    expect(byName.get(types.cleanup)).toMatchObject({
      parametersSchema: { additionalProperties: false, required: ['bucket'] },
    });
    expect(byName.get(testTypes.ok)).toMatchObject({ parametersSchema: null, description: null });
  });
});

describe('POST /tasks', () => {
  it.each([
    ['a value outside the enum', { region: 'mars' }, [badRegion]],
    [
      'a wrong type',
      { region: 'eu', pages: 'abc' },
      [['parameters.pages', 'Invalid input: expected number, received string']],
    ],
    [
      'an integer out of range',
      { region: 'eu', pages: 501 },
      [['parameters.pages', 'Too big: expected number to be <=500']],
    ],
    ['a missing required field', {}, [badRegion]],
    [
      'two bad fields',
      { region: 'mars', title: 'x' },
      [badRegion, ['parameters.title', 'Too small: expected string to have >=3 characters']],
    ],
  ])('refuses %s with 400 naming each field, creating nothing', async (_what, parameters, issues) => {
    const res = await call('POST', '/tasks', aTaskInput({ id: 'refused-1', parameters }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual(refused(...(issues as [string, string][])));
    expect((await call('GET', '/tasks/refused-1')).status).toBe(404);
  });

  it('refuses a task with no parameters when a field is required', async () => {
    const res = await call('POST', '/tasks', aTaskInput());
    expect(res.status).toBe(400);
    expect(res.body).toEqual(refused(badRegion));
  });

  it('refuses unknown, nested and array fields of a strict schema by their path', async () => {
    const res = await call(
      'POST',
      '/tasks',
      aTaskInput({
        type: types.cleanup,
        parameters: { bucket: 'b', extra: 1, limits: { max: 'x' }, prefixes: ['a', 2] },
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([
        { field: 'parameters.extra', message: 'Unrecognized key: "extra"' },
        { field: 'parameters.limits.max', message: 'Invalid input: expected number, received string' },
        { field: 'parameters.prefixes.1', message: 'Invalid input: expected string, received number' },
      ]),
    );
    expect(res.body.error.details).toHaveLength(3);
  });

  it('creates with good parameters, stored as sent: fields with defaults are not required', async () => {
    const res = await call('POST', '/tasks', aTaskInput({ id: 'report-ok', parameters: { region: 'apac' } }));
    expect(res.status).toBe(201);
    expect(res.body.parameters).toEqual({ region: 'apac' });
    const strict = await call(
      'POST',
      '/tasks',
      aTaskInput({
        id: 'cleanup-ok',
        type: types.cleanup,
        parameters: { bucket: 'logs', limits: { max: 5 } },
      }),
    );
    expect(strict.status).toBe(201);
  });

  it('accepts any JSON object for a type without a schema', async () => {
    const parameters = { anything: [1, { nested: 'yes' }], region: 'mars' };
    const res = await call('POST', '/tasks', aTaskInput({ id: 'free-1', type: testTypes.ok, parameters }));
    expect(res.status).toBe(201);
    expect(res.body.parameters).toEqual(parameters);
  });
});

describe('PATCH /tasks/{id}', () => {
  it('refuses parameters that do not fit, leaving the task as it was', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'patch-1', parameters: { region: 'eu' } }));
    const res = await call('PATCH', '/tasks/patch-1', { parameters: { region: 'mars' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(refused(badRegion));
    const task = (await call('GET', '/tasks/patch-1')).body;
    expect(task).toMatchObject({ version: 1, parameters: { region: 'eu' } });
  });

  it('checks the current parameters against a new type', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'patch-2', type: testTypes.ok, parameters: { x: 1 } }));
    const res = await call('PATCH', '/tasks/patch-2', { type: types.cleanup });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { field: 'parameters.bucket', message: 'Invalid input: expected string, received undefined' },
      { field: 'parameters.x', message: 'Unrecognized key: "x"' },
    ]);
    const both = await call('PATCH', '/tasks/patch-2', { type: types.cleanup, parameters: { bucket: 'b' } });
    expect(both.status).toBe(200);
    expect(both.body).toMatchObject({ type: types.cleanup, parameters: { bucket: 'b' }, version: 2 });
  });

  it('accepts good parameters; a change of something else does not re-check them', async () => {
    await store.createTask(aTask({ id: 'patch-3', type: types.report, parameters: { region: 'mars' } }));
    expect((await call('PATCH', '/tasks/patch-3', { name: 'Renamed' })).status).toBe(200);
    const res = await call('PATCH', '/tasks/patch-3', { parameters: { region: 'us', pages: 3 } });
    expect(res.status).toBe(200);
    expect(res.body.parameters).toEqual({ region: 'us', pages: 3 });
  });
});

describe('POST /tasks/{id}/run', () => {
  it('refuses run parameters that do not fit once merged over the task’s, recording no run', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'run-1', parameters: { region: 'eu' } }));
    const bad = await call('POST', '/tasks/run-1/run', { parameters: { region: 'mars' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual(refused(badRegion));
    const wrongType = await call('POST', '/tasks/run-1/run', { parameters: { pages: 'abc' } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toEqual(
      refused(['parameters.pages', 'Invalid input: expected number, received string']),
    );
    expect((await call('GET', '/tasks/run-1')).body.version).toBe(1);
    expect(api.handlers.invocations.filter((i) => i.event.taskId === 'run-1')).toEqual([]);

    const good = await call('POST', '/tasks/run-1/run', { parameters: { pages: 5 } });
    expect(good.status).toBe(202);
    const run = await call('GET', `/tasks/run-1/runs/${good.body.runId}`);
    expect(run.body.parameters).toEqual({ region: 'eu', pages: 5 });
  });

  it('checks the stored parameters of a run-now without any', async () => {
    await store.createTask(aTask({ id: 'run-2', type: types.report, parameters: { region: 'mars' } }));
    const res = await call('POST', '/tasks/run-2/run');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(refused(badRegion));
    const fixed = await call('POST', '/tasks/run-2/run', { parameters: { region: 'us' } });
    expect(fixed.status).toBe(202);
  });

  it('runs a type without a schema with anything', async () => {
    await call('POST', '/tasks', aTaskInput({ id: 'run-3', type: testTypes.ok }));
    const res = await call('POST', '/tasks/run-3/run', { parameters: { whatever: [true, null] } });
    expect(res.status).toBe(202);
  });
});

describe('keys that reach into prototypes', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('%s is a 400 naming it, on every route', async (key) => {
    const bodyWith = (json: string) => json.replace('"KEY"', JSON.stringify(key));
    const create = await call(
      'POST',
      '/tasks',
      bodyWith(
        `{"name":"x","type":"${testTypes.ok}","schedule":"0 3 * * *","parameters":{"a":[{"KEY":{"polluted":true}}]}}`,
      ),
    );
    expect(create.status).toBe(400);
    expect(create.body.error).toMatchObject({
      code: 'validation_failed',
      details: [{ field: `parameters.a.0.${key}`, message: expect.stringContaining('reserved key') }],
    });
    await call('POST', '/tasks', aTaskInput({ id: `proto-${key.replaceAll('_', '')}`, type: testTypes.ok }));
    const path = `/tasks/proto-${key.replaceAll('_', '')}`;
    const patch = await call('PATCH', path, bodyWith('{"parameters":{"KEY":1}}'));
    expect(patch.status).toBe(400);
    expect(patch.body.error.details[0].field).toBe(`parameters.${key}`);
    const run = await call('POST', `${path}/run`, bodyWith('{"parameters":{"KEY":"x"}}'));
    expect(run.status).toBe(400);
    expect(run.body.error.details[0].field).toBe(`parameters.${key}`);
    const top = await call('POST', '/tasks', bodyWith(`{"KEY":{"name":"x"}}`));
    expect(top.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await call('GET', path)).body).toMatchObject({ version: 1, parameters: {} });
  });
});

describe('POST /tasks/apply', () => {
  it('checks each declaration’s parameters like a create or an update, writing nothing on a refusal', async () => {
    const declaration = { ...aTaskInput({ id: 'apply-params' }), parameters: { region: 'mars' } };
    const created = await call('POST', '/tasks/apply', { tasks: [declaration] });
    expect(created.status).toBe(400);
    expect(JSON.stringify(created.body)).toContain('parameters.region');
    expect((await call('GET', '/tasks/apply-params')).status).toBe(404);

    const good = await call('POST', '/tasks/apply', {
      tasks: [{ ...declaration, parameters: { region: 'eu' } }],
    });
    expect(good.status).toBe(200);
    const updated = await call('POST', '/tasks/apply', {
      tasks: [{ ...declaration, parameters: { region: 'mars' } }],
    });
    expect(updated.status).toBe(400);
    expect((await call('GET', '/tasks/apply-params')).body).toMatchObject({ parameters: { region: 'eu' } });
  });
});
