/**
 * The deployed API's shape for the sign-in tests: the real admin app with the dashboard and its
 * sign-in (discovery against the test provider), behind a stand-in for API Gateway's JWT
 * authorizer that verifies every bearer token against the provider's JWKS with `jose` (issuer,
 * RS256 signature, expiry, and `aud` or `client_id` in the audience, as API Gateway does). As on
 * AWS, `GET /` and `GET /dashboard-config` are open.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { monotonicFactory } from 'ulid';
import { createApp } from '../../src/api/app.js';
import { type DashboardLoginSettings, makeDashboardLogin } from '../../src/api/dashboard-login.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { MemorySchedulerControl } from '../../src/api/memory-scheduler-control.js';
import { createTask } from '../../src/api/task-service.js';
import { dashboardHandler } from '../../src/dashboard/serve.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { FakeHandlers, testTypes } from '../api/harness.js';
import { makeTestDeps } from '../support/deps.js';
import type { OidcProvider } from '../support/oidc-provider.js';

/** One request that reached the authorizer, and its verdict. */
export interface GatewayCall {
  method: string;
  path: string;
  /** The verified token's `jti`, when it was let through. */
  jti?: string;
  /** Why it was refused (401), when it was. */
  refused?: string;
}

export interface LoginGateway {
  /** `http://127.0.0.1:<port>`; the dashboard is at `${url}/`. */
  url: string;
  calls: GatewayCall[];
  deps: ApiDeps;
  close(): Promise<void>;
}

const OPEN = new Set(['/', '/dashboard-config']);

/** Serves the app behind the JWT check for `provider`'s client, with one task to list. */
export async function startLoginGateway(
  provider: OidcProvider,
  login: Partial<DashboardLoginSettings> = {},
  /** The authorizer's audience. @default the provider's client */
  audience: string[] = [provider.clientId],
): Promise<LoginGateway> {
  const store = new MemoryTaskStore();
  for (const name of Object.values(testTypes)) await store.putTaskType({ name, functionName: `fn-${name}` });
  const handlers = new FakeHandlers(store);
  const newRunId = monotonicFactory();
  const deps: ApiDeps = {
    ...makeTestDeps({
      store,
      clock: { now: () => new Date() },
      invoker: handlers,
      newRunId: () => newRunId(),
    }),
    scheduler: new MemorySchedulerControl(),
    minIntervalMs: 60_000,
    dashboard: dashboardHandler,
    dashboardLogin: makeDashboardLogin({
      issuer: provider.issuer,
      clientId: provider.clientId,
      scopes: ['tickwork/read', 'tickwork/operate', 'tickwork/admin'],
      ...login,
    }),
  };
  const app = createApp(deps);
  const jwks = createRemoteJWKSet(new URL(provider.jwksUri));
  const calls: GatewayCall[] = [];
  const gateway = new Hono();
  gateway.use('*', async (c, next) => {
    if (c.req.method === 'GET' && OPEN.has(c.req.path)) return next();
    const call: GatewayCall = { method: c.req.method, path: c.req.path };
    calls.push(call);
    const token = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    try {
      if (!token) throw new Error('no bearer token');
      const { payload } = await jwtVerify(token, jwks, { issuer: provider.issuer, algorithms: ['RS256'] });
      const named = [payload.aud, payload.client_id].flat();
      if (!named.some((a) => typeof a === 'string' && audience.includes(a))) {
        throw new Error('not for this audience');
      }
      call.jti = String(payload.jti);
    } catch (error) {
      call.refused = error instanceof Error ? error.message : String(error);
      return c.json({ message: 'Unauthorized' }, 401);
    }
    return next();
  });
  gateway.all('*', (c) => app.fetch(c.req.raw));
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: gateway.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  provider.allowRedirectUri(`${url}/`);
  await createTask(deps, {
    id: 'nightly-report',
    name: 'Nightly report',
    type: testTypes.ok,
    schedule: '0 3 * * *',
  });
  return {
    url,
    calls,
    deps,
    async close() {
      await handlers.drain();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}
