/**
 * The deploy path of tasks as code: CloudFormation custom-resource requests, as the CDK Provider
 * framework passes them to the API function, against DynamoDB Local; and the API function's
 * handler telling them from API Gateway requests.
 */
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { type CustomResourceRequest, handleDeployEvent, makeApiHandler } from '../../src/api/deploy-event.js';
import type { TaskStore } from '../../src/core/ports.js';
import { createTestTable } from '../support/dynamo.js';
import { type ApiHarness, startApi, testTypes } from './harness.js';

let api: ApiHarness;
let store: TaskStore;

const SERVICE_TOKEN = 'arn:aws:lambda:eu-west-1:123456789012:function:provider-framework-onEvent';

function request(
  type: CustomResourceRequest['RequestType'],
  declaration: unknown,
  physicalId?: string,
): CustomResourceRequest {
  return {
    RequestType: type,
    ...(physicalId !== undefined ? { PhysicalResourceId: physicalId } : {}),
    ResourceProperties: {
      ServiceToken: SERVICE_TOKEN,
      TickworkTask: typeof declaration === 'string' ? declaration : JSON.stringify(declaration),
    },
    LogicalResourceId: 'NightlyReportTask',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/app/1',
    RequestId: 'req-1',
  };
}

const declaration = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  type: testTypes.ok,
  schedule: '0 6 * * *',
  timezone: 'Europe/Berlin',
  system: true,
  ...overrides,
});

beforeAll(async () => {
  ({ store } = await createTestTable('api-apply-deploy'));
  api = await startApi(store);
});
afterAll(async () => {
  await api?.close();
});

describe('deploy events', () => {
  it('Create applies the declaration, as a system task; the physical id names the task', async () => {
    const response = await handleDeployEvent(api.deps, request('Create', declaration('dep-a')));

    expect(response).toEqual({ PhysicalResourceId: 'tickwork-task:dep-a', Data: { Action: 'created' } });
    expect(await store.getTask('dep-a')).toMatchObject({
      name: 'dep-a',
      schedule: '0 6 * * *',
      timezone: 'Europe/Berlin',
      system: true,
    });
  });

  it('Update sets the declared fields (system tasks included) and reports unchanged when nothing moved', async () => {
    await handleDeployEvent(api.deps, request('Create', declaration('dep-b')));

    const updated = await handleDeployEvent(
      api.deps,
      request('Update', declaration('dep-b', { schedule: '0 7 * * *' }), 'tickwork-task:dep-b'),
    );
    const same = await handleDeployEvent(
      api.deps,
      request('Update', declaration('dep-b', { schedule: '0 7 * * *' }), 'tickwork-task:dep-b'),
    );

    expect(updated).toEqual({ PhysicalResourceId: 'tickwork-task:dep-b', Data: { Action: 'updated' } });
    expect(same.Data.Action).toBe('unchanged');
    expect(await store.getTask('dep-b')).toMatchObject({ schedule: '0 7 * * *', system: true, version: 2 });
  });

  it("an admin's edits of a non-system task stay until a changed declaration is applied, which sets only its fields", async () => {
    const declared = declaration('dep-i', { system: false, priority: 1 });
    await handleDeployEvent(api.deps, request('Create', declared));
    const edited = await fetch(`${api.baseUrl}/tasks/dep-i`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ schedule: '30 6 * * *', description: 'by hand' }),
    });
    expect(edited.status).toBe(200);
    // A deploy that leaves this declaration as it was sends no request for it: the edits stay.

    const response = await handleDeployEvent(
      api.deps,
      request('Update', { ...declared, priority: 2 }, 'tickwork-task:dep-i'),
    );

    expect(response.Data.Action).toBe('updated');
    expect(await store.getTask('dep-i')).toMatchObject({
      schedule: '0 6 * * *',
      priority: 2,
      description: 'by hand',
      system: false,
    });
  });

  it('Create of a task that exists (made by hand) takes it over: declared fields set, the rest kept', async () => {
    const made = await fetch(`${api.baseUrl}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'dep-c',
        name: 'By hand',
        type: testTypes.ok,
        schedule: '0 5 * * *',
        priority: 7,
      }),
    });
    expect(made.status).toBe(201);

    const response = await handleDeployEvent(api.deps, request('Create', declaration('dep-c')));

    expect(response.Data.Action).toBe('updated');
    expect(await store.getTask('dep-c')).toMatchObject({
      name: 'By hand',
      priority: 7,
      schedule: '0 6 * * *',
      system: true,
    });
  });

  it('Delete deletes the task the resource applied, system or not; an absent one is fine', async () => {
    await handleDeployEvent(api.deps, request('Create', declaration('dep-d')));

    const deleted = await handleDeployEvent(
      api.deps,
      request('Delete', declaration('dep-d'), 'tickwork-task:dep-d'),
    );
    const again = await handleDeployEvent(
      api.deps,
      request('Delete', declaration('dep-d'), 'tickwork-task:dep-d'),
    );

    expect(deleted).toEqual({ PhysicalResourceId: 'tickwork-task:dep-d', Data: { Action: 'deleted' } });
    expect(again.Data.Action).toBe('deleted');
    expect(await store.getTask('dep-d')).toBeUndefined();
  });

  it('a changed id is a replacement: the new task is applied, then the old physical id is deleted', async () => {
    await handleDeployEvent(api.deps, request('Create', declaration('dep-e')));

    const replaced = await handleDeployEvent(
      api.deps,
      request('Update', declaration('dep-e2'), 'tickwork-task:dep-e'),
    );
    expect(replaced).toEqual({ PhysicalResourceId: 'tickwork-task:dep-e2', Data: { Action: 'created' } });
    // CloudFormation's clean-up after a replacement: a Delete of the old physical id.
    await handleDeployEvent(api.deps, request('Delete', declaration('dep-e'), 'tickwork-task:dep-e'));

    expect(await store.getTask('dep-e')).toBeUndefined();
    expect(await store.getTask('dep-e2')).toMatchObject({ system: true });
  });

  it('Delete of a resource that never applied a task (its create failed) deletes nothing', async () => {
    await handleDeployEvent(api.deps, request('Create', declaration('dep-f')));

    const response = await handleDeployEvent(
      api.deps,
      request('Delete', declaration('dep-f'), 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED'),
    );

    expect(response.Data.Action).toBe('none');
    expect(await store.getTask('dep-f')).toBeDefined();
  });

  it('an invalid declaration throws a message naming the task and the field; nothing is written', async () => {
    const failure = (event: CustomResourceRequest) =>
      handleDeployEvent(api.deps, event).then(
        () => 'applied',
        (error: Error) => error.message,
      );

    expect(await failure(request('Create', declaration('dep-g', { schedule: '0 6 * *' })))).toMatch(
      /^task dep-g: .*schedule/,
    );
    expect(await failure(request('Create', declaration('dep-g', { type: 'Acme.Unknown' })))).toMatch(
      /^task dep-g: type: Acme\.Unknown is not a registered task type/,
    );
    expect(await failure(request('Create', declaration('dep-g', { priority: 'high' })))).toMatch(
      /^TickworkTask\.priority: /,
    );
    expect(await failure(request('Create', { type: testTypes.ok, schedule: '0 6 * * *' }))).toMatch(
      /^TickworkTask\.id: /,
    );
    expect(await failure(request('Create', '{"id": "dep-g",'))).toMatch(/^TickworkTask: is not JSON/);
    const missing = { ...request('Create', declaration('dep-g')), ResourceProperties: { ServiceToken: 'x' } };
    expect(await failure(missing)).toMatch(/^TickworkTask: is missing/);
    expect(await store.getTask('dep-g')).toBeUndefined();
  });
});

describe('the API function handler', () => {
  const httpEvent = (method: string, path: string) => ({
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc.execute-api.eu-west-1.amazonaws.com' },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc',
      domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      time: '29/Mar/2026:00:59:00 +0000',
      timeEpoch: 1774745940000,
    },
    isBase64Encoded: false,
  });

  it('serves API Gateway requests with the admin API and custom-resource requests with the deploy path', async () => {
    const handler = makeApiHandler(handle(createApp(api.deps)), api.deps);

    const deployed = await handler(request('Create', declaration('dep-h')), undefined);
    expect(deployed).toEqual({ PhysicalResourceId: 'tickwork-task:dep-h', Data: { Action: 'created' } });

    const read = (await handler(httpEvent('GET', '/tasks/dep-h'), undefined)) as {
      statusCode: number;
      body: string;
    };
    expect(read.statusCode).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ id: 'dep-h', system: true });
  });

  it('refuses any other event with a clear error', async () => {
    const handler = makeApiHandler(handle(createApp(api.deps)), api.deps);

    await expect(handler({ shards: [0] }, undefined)).rejects.toThrow(
      /unsupported event \(keys: shards\).*API Gateway request or a CloudFormation custom-resource request/,
    );
    await expect(handler({ RequestType: 'Rollback', ResourceProperties: {} }, undefined)).rejects.toThrow(
      /unsupported event/,
    );
  });
});
