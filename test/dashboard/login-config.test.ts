/**
 * The API's side of the dashboard's sign-in: `GET /dashboard-config` (the public client, the
 * provider's endpoints from its discovery document), the page's Content-Security-Policy naming the
 * token endpoint, and the settings read from the API function's environment. Against the provider
 * stand-in over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import {
  type DashboardLoginSettings,
  type DiscoveryOptions,
  dashboardLoginFromEnv,
  makeDashboardLogin,
} from '../../src/api/dashboard-login.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { MemorySchedulerControl } from '../../src/api/memory-scheduler-control.js';
import { dashboardHandler } from '../../src/dashboard/serve.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { makeTestDeps } from '../support/deps.js';
import { type OidcProvider, startOidcProvider } from '../support/oidc-provider.js';

let provider: OidcProvider;

beforeAll(async () => {
  provider = await startOidcProvider();
});
afterAll(async () => {
  await provider?.stop();
});

const settings = (overrides: Partial<DashboardLoginSettings> = {}): DashboardLoginSettings => ({
  issuer: provider.issuer,
  clientId: provider.clientId,
  scopes: ['tickwork/read', 'tickwork/operate', 'tickwork/admin'],
  ...overrides,
});

/** The app as the API function builds it, with a discovery fetch that counts its calls. */
function anApp(login?: DashboardLoginSettings, options: Omit<DiscoveryOptions, 'fetch'> = {}) {
  const discoveries: string[] = [];
  const counting: typeof fetch = (input, init) => {
    discoveries.push(String(input));
    return fetch(input, init);
  };
  const deps: ApiDeps = {
    ...makeTestDeps({ store: new MemoryTaskStore() }),
    scheduler: new MemorySchedulerControl(),
    minIntervalMs: 60_000,
    dashboard: dashboardHandler,
    ...(login ? { dashboardLogin: makeDashboardLogin(login, { fetch: counting, ...options }) } : {}),
  };
  const app = createApp(deps);
  const get = async (path: string) => {
    const response = await app.request(`https://tickwork.example.com${path}`);
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  return { get, discoveries };
}

describe('GET /dashboard-config', () => {
  it('answers login: null when the dashboard needs no sign-in', async () => {
    const answer = await anApp().get('/dashboard-config');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ login: null });
  });

  it("names the client, openid plus the role scopes, the page's own address and the discovered endpoints", async () => {
    const { get, discoveries } = anApp(settings());
    const answer = await get('/dashboard-config');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({
      login: {
        issuer: provider.issuer,
        clientId: provider.clientId,
        scopes: ['openid', 'tickwork/read', 'tickwork/operate', 'tickwork/admin'],
        redirectUri: 'https://tickwork.example.com/',
        authorizationEndpoint: provider.authorizationEndpoint,
        tokenEndpoint: provider.tokenEndpoint,
        endSessionEndpoint: `${provider.issuer}/logout`,
      },
    });
    expect(discoveries).toEqual([`${provider.issuer}/.well-known/openid-configuration`]);
  });

  it('reads the discovery document once per ten minutes', async () => {
    let now = 0;
    const { get, discoveries } = anApp(settings(), { now: () => now });
    await get('/dashboard-config');
    now += 9 * 60_000;
    await get('/dashboard-config');
    await get('/');
    expect(discoveries).toHaveLength(1);
    now += 2 * 60_000;
    await get('/dashboard-config');
    expect(discoveries).toHaveLength(2);
  });

  it('uses configured endpoints and redirect URI without reading any discovery document', async () => {
    const { get, discoveries } = anApp(
      settings({
        authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
        tokenEndpoint: 'https://login.example.com/oauth2/token',
        redirectUri: 'https://ops.example.com/',
      }),
    );
    expect(JSON.parse((await get('/dashboard-config')).text).login).toMatchObject({
      authorizationEndpoint: 'https://login.example.com/oauth2/authorize',
      tokenEndpoint: 'https://login.example.com/oauth2/token',
      endSessionEndpoint: null,
      redirectUri: 'https://ops.example.com/',
    });
    expect(discoveries).toEqual([]);
  });

  it('is a 503 naming the document when the provider cannot be read, and tries again next time', async () => {
    const dead = await startOidcProvider();
    const issuer = dead.issuer;
    await dead.stop();
    const warnings: unknown[] = [];
    const logger = {
      info: () => undefined,
      error: () => undefined,
      warn: (...args: unknown[]) => warnings.push(args),
    };
    const { get, discoveries } = anApp(settings({ issuer }), { logger });
    for (let i = 0; i < 2; i++) {
      const answer = await get('/dashboard-config');
      expect(answer.status).toBe(503);
      const { error } = JSON.parse(answer.text) as { error: { code: string; message: string } };
      expect(error.code).toBe('unavailable');
      expect(error.message).toContain(`${issuer}/.well-known/openid-configuration`);
    }
    expect(discoveries).toHaveLength(2);
    expect(warnings).toHaveLength(2);
    expect(JSON.stringify(warnings[0])).toContain('discovery failed');
  });

  it('refuses a discovery document that names another issuer', async () => {
    const answer = await anApp(settings({ issuer: `${provider.issuer}/` })).get('/dashboard-config');
    expect(answer.status).toBe(503);
    expect(answer.text).toContain(`names the issuer \\"${provider.issuer}\\"`);
  });
});

describe('the dashboard page', () => {
  it("lets the page post to the provider's token endpoint, and to nothing else beyond its origin", async () => {
    const csp = (await anApp(settings()).get('/')).headers.get('content-security-policy') ?? '';
    expect(/connect-src ([^;]*)/.exec(csp)?.[1]).toBe(`'self' ${provider.issuer}`);
    const plain = (await anApp().get('/')).headers.get('content-security-policy') ?? '';
    expect(/connect-src ([^;]*)/.exec(plain)?.[1]).toBe("'self'");
  });
});

describe('dashboardLoginFromEnv', () => {
  const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example';

  it('is off without a client id, and defaults to the role scopes', () => {
    expect(dashboardLoginFromEnv({ TICKWORK_OIDC_ISSUER: issuer })).toBeUndefined();
    expect(dashboardLoginFromEnv({ TICKWORK_OIDC_ISSUER: issuer, TICKWORK_OIDC_CLIENT_ID: 'abc' })).toEqual({
      issuer,
      clientId: 'abc',
      scopes: ['tickwork/read', 'tickwork/operate', 'tickwork/admin'],
      authorizationEndpoint: undefined,
      tokenEndpoint: undefined,
      redirectUri: undefined,
    });
    expect(
      dashboardLoginFromEnv({
        TICKWORK_OIDC_ISSUER: issuer,
        TICKWORK_OIDC_CLIENT_ID: 'abc',
        TICKWORK_OIDC_SCOPES: 'openid  email tickwork/read',
      })?.scopes,
    ).toEqual(['email', 'tickwork/read']);
  });

  it('refuses a client without issuer, a plain-http issuer, and one endpoint without the other', () => {
    expect(() => dashboardLoginFromEnv({ TICKWORK_OIDC_CLIENT_ID: 'abc' })).toThrow(
      'TICKWORK_OIDC_CLIENT_ID is set but TICKWORK_OIDC_ISSUER is not',
    );
    expect(() =>
      dashboardLoginFromEnv({
        TICKWORK_OIDC_CLIENT_ID: 'abc',
        TICKWORK_OIDC_ISSUER: 'http://login.example.com',
      }),
    ).toThrow('TICKWORK_OIDC_ISSUER must be an https:// URL (http:// only on localhost)');
    expect(() =>
      dashboardLoginFromEnv({
        TICKWORK_OIDC_CLIENT_ID: 'abc',
        TICKWORK_OIDC_ISSUER: issuer,
        TICKWORK_OIDC_TOKEN_ENDPOINT: 'https://login.example.com/token',
      }),
    ).toThrow('go together');
  });
});
