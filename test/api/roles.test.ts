/**
 * Roles on AWS: the API function behind API Gateway (payload format 2.0, as `hono/aws-lambda`
 * receives it) reads the caller from the request context, refuses a route whose role the JWT's
 * scopes do not grant with 403 `forbidden_role`, and names the caller in the audit trail (the
 * JWT's subject, or the IAM caller's ARN).
 */
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import {
  type Access,
  callerOf,
  type Role,
  rolesOfScopes,
  roleTable,
  scopesFor,
  scopesOf,
} from '../../src/api/roles.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { type ApiHarness, startApi, testTypes } from './harness.js';

let api: ApiHarness;

beforeAll(async () => {
  api = await startApi(new MemoryTaskStore());
});
afterAll(async () => {
  await api?.close();
});

type Authorizer =
  | { jwt: { claims: Record<string, unknown>; scopes: string[] | null } }
  | { iam: Record<string, unknown> };

function event(method: string, path: string, authorizer: Authorizer | undefined, body?: unknown) {
  const [rawPath, rawQueryString = ''] = path.split('?') as [string, string?];
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: {
      host: 'abc.execute-api.eu-west-1.amazonaws.com',
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc',
      domainName: 'abc.execute-api.eu-west-1.amazonaws.com',
      domainPrefix: 'abc',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      time: '29/Mar/2026:00:59:00 +0000',
      timeEpoch: 1774745940000,
      ...(authorizer ? { authorizer } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    isBase64Encoded: false,
  };
}

const jwt = (scope: string, claims: Record<string, unknown> = {}): Authorizer => ({
  jwt: { claims: { sub: 'user-sub-1', scope, ...claims }, scopes: null },
});

function lambda(access: Access) {
  const deps: ApiDeps = { ...api.deps, access };
  const handler = handle(createApp(deps)) as (
    e: unknown,
    c: unknown,
  ) => Promise<{ statusCode: number; body: string }>;
  return async (method: string, path: string, authorizer?: Authorizer, body?: unknown) => {
    const out = await handler(event(method, path, authorizer, body), {});
    return { status: out.statusCode, body: out.body?.startsWith('{') ? JSON.parse(out.body) : undefined };
  };
}

const jwtAccess: Access = { mode: 'jwt', scopePrefix: 'tickwork/' };

/** A concrete request for each route of the role table. */
function requestOf(route: string): [string, string, unknown] {
  const [method, template] = route.split(' ') as [string, string];
  const path = template.replace('{id}', 'role-task').replace('{runId}', '01JQ0000000000000000000000');
  const body = method === 'GET' ? undefined : path === '/tasks/apply' ? { tasks: [] } : {};
  return [method, path, body];
}

describe('roles with JWT authorization', () => {
  it('refuses exactly the routes whose role the scopes do not grant, on every route', async () => {
    const call = lambda(jwtAccess);
    const holders: { scope: string; holds: Role[] }[] = [
      { scope: '', holds: [] },
      { scope: 'openid other/admin tickworkadmin', holds: [] },
      { scope: 'tickwork/read', holds: ['read'] },
      { scope: 'openid tickwork/operate', holds: ['read', 'operate'] },
      { scope: 'tickwork/admin', holds: ['read', 'operate', 'admin'] },
    ];
    const table = roleTable();
    expect(table.length).toBeGreaterThan(15);
    for (const { route, role } of table) {
      const [method, path, body] = requestOf(route);
      for (const { scope, holds } of holders) {
        const answer = await call(method, path, jwt(scope), body);
        const allowed = role === 'public' || holds.includes(role);
        if (allowed) {
          expect(answer.body?.error?.code, `${route} with "${scope}"`).not.toBe('forbidden_role');
        } else {
          expect([answer.status, answer.body.error.code], `${route} with "${scope}"`).toEqual([
            403,
            'forbidden_role',
          ]);
          expect(answer.body.error.message).toContain(`needs the ${role} role`);
          expect(answer.body.error.details).toEqual([]);
        }
      }
    }
  });

  it('changes nothing on a refused request', async () => {
    const call = lambda(jwtAccess);
    const refused = await call('POST', '/tasks', jwt('tickwork/operate'), {
      id: 'never-made',
      name: 'x',
      type: testTypes.ok,
      schedule: '0 6 * * *',
    });
    expect(refused.status).toBe(403);
    expect(await api.deps.store.getTask('never-made')).toBeUndefined();
    expect((await api.deps.store.listAudit({ taskId: 'never-made', limit: 5 })).items).toEqual([]);
  });

  it('records the JWT subject and username of each change, with a configured scope prefix', async () => {
    const call = lambda({ mode: 'jwt', scopePrefix: 'https://ops.example.com/' });
    const admin = jwt('https://ops.example.com/admin', { username: 'ada' });
    const operator: Authorizer = {
      jwt: {
        claims: { sub: 'user-sub-2', 'cognito:username': 'bob' },
        scopes: ['https://ops.example.com/operate'],
      },
    };
    expect((await call('GET', '/tasks', jwt('tickwork/admin'))).status).toBe(403);

    const created = await call('POST', '/tasks', admin, {
      id: 'jwt-task',
      name: 'JWT task',
      type: testTypes.ok,
      schedule: '0 6 * * *',
    });
    const paused = await call('POST', '/scheduler/pause', operator, {});
    const resumed = await call('POST', '/scheduler/resume', operator, {});
    const trail = await call('GET', '/audit?limit=3', operator);

    expect([created.status, paused.status, resumed.status, trail.status]).toEqual([201, 200, 200, 200]);
    expect(trail.body.items.map((e: { action: string; actor: unknown }) => [e.action, e.actor])).toEqual([
      ['resume', { kind: 'jwt', id: 'user-sub-2', name: 'bob' }],
      ['pause', { kind: 'jwt', id: 'user-sub-2', name: 'bob' }],
      ['create', { kind: 'jwt', id: 'user-sub-1', name: 'ada' }],
    ]);
  });
});

describe('roles with IAM authorization', () => {
  it('lets every route through (the IAM policy decided) and records the caller ARN', async () => {
    const call = lambda({ mode: 'iam' });
    const arn = 'arn:aws:sts::123456789012:assumed-role/ops/alice';
    const iam: Authorizer = { iam: { userArn: arn, accountId: '123456789012' } };

    const created = await call('POST', '/tasks', iam, {
      id: 'iam-task',
      name: 'IAM task',
      type: testTypes.ok,
      schedule: '0 6 * * *',
    });
    const trail = await call('GET', '/audit?taskId=iam-task', iam);

    expect(created.status).toBe(201);
    expect(trail.body.items).toHaveLength(1);
    expect(trail.body.items[0]).toMatchObject({
      action: 'create',
      via: 'api',
      actor: { kind: 'iam', id: arn },
    });
  });
});

describe('scopes and callers', () => {
  it('reads scopes from the scope claim and the scopes list; admin implies operate implies read', () => {
    expect(scopesOf({ claims: { scope: 'a  b' }, scopes: ['c', 1] })).toEqual(['c', 'a', 'b']);
    expect(scopesOf({ claims: { scp: ['d', 'a'] }, scopes: null })).toEqual(['d', 'a']);
    expect(scopesOf({ claims: { scp: 'e f' } })).toEqual(['e', 'f']);
    expect(scopesOf(undefined)).toEqual([]);
    expect([...rolesOfScopes(['tickwork/operate'], 'tickwork/')]).toEqual(['read', 'operate']);
    expect([...rolesOfScopes(['tickwork/admin'], 'tickwork/')]).toEqual(['read', 'operate', 'admin']);
    expect([...rolesOfScopes(['tickwork/read', 'x/admin'], 'tickwork/')]).toEqual(['read']);
    expect(scopesFor('operate')).toEqual(['tickwork/operate', 'tickwork/admin']);
  });

  it('gives the local runtime every role under its own name', () => {
    const caller = callerOf({ mode: 'local', actor: { kind: 'local', id: 'local:token' } }, undefined);
    expect(caller.actor).toEqual({ kind: 'local', id: 'local:token' });
    expect([...caller.roles]).toEqual(['read', 'operate', 'admin']);
  });

  it('gives a JWT caller without a subject or scopes nothing but a name', () => {
    const caller = callerOf(jwtAccess, { authorizer: { jwt: { claims: {}, scopes: null } } });
    expect(caller).toEqual({ actor: { kind: 'jwt', id: 'unknown' }, roles: new Set() });
  });
});
