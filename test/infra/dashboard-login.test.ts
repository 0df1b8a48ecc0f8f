/**
 * The construct's `dashboardLogin`: the API function learns the dashboard's OIDC public client
 * from its environment, and a setting API Gateway would refuse the tokens of fails at synth.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import type { TickworkProps } from '../../infra/tickwork.js';
import { aTickworkStack } from './support.js';

const issuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example';
const jwt = (audience = ['dashboard-client']): TickworkProps['apiAuth'] => ({
  type: 'jwt',
  issuer,
  audience,
});

/** The environment of the API function (the one with TICKWORK_TICK_SCHEDULE_NAME). */
function apiEnvironment(template: Template): Record<string, unknown> {
  const fns = Object.values(template.findResources('AWS::Lambda::Function')).map(
    (r) => (r.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables,
  );
  const api = fns.find((vars) => vars?.TICKWORK_TICK_SCHEDULE_NAME !== undefined);
  if (!api) throw new Error('no API function in the template');
  return api;
}

describe('dashboardLogin', () => {
  it('gives the API function the issuer, the client and the three role scopes by default', () => {
    const { template } = aTickworkStack({
      apiAuth: jwt(),
      dashboardLogin: { clientId: 'dashboard-client' },
    });
    const env = apiEnvironment(template);
    expect(env).toMatchObject({
      TICKWORK_OIDC_ISSUER: issuer,
      TICKWORK_OIDC_CLIENT_ID: 'dashboard-client',
      TICKWORK_OIDC_SCOPES: 'tickwork/read tickwork/operate tickwork/admin',
    });
    expect(env.TICKWORK_OIDC_TOKEN_ENDPOINT).toBeUndefined(); // discovery
    expect(env.TICKWORK_OIDC_REDIRECT_URI).toBeUndefined();
  });

  it('passes explicit endpoints, scopes and redirect URI', () => {
    const { template } = aTickworkStack({
      apiAuth: jwt(),
      dashboardLogin: {
        clientId: 'dashboard-client',
        scopes: ['openid', 'tickwork/read'],
        endpoints: {
          authorization: 'https://login.example.com/authorize',
          token: 'https://login.example.com/token',
        },
        redirectUri: 'https://ops.example.com/',
      },
    });
    expect(apiEnvironment(template)).toMatchObject({
      TICKWORK_OIDC_SCOPES: 'tickwork/read',
      TICKWORK_OIDC_AUTHORIZATION_ENDPOINT: 'https://login.example.com/authorize',
      TICKWORK_OIDC_TOKEN_ENDPOINT: 'https://login.example.com/token',
      TICKWORK_OIDC_REDIRECT_URI: 'https://ops.example.com/',
    });
  });

  it('sets nothing without it', () => {
    const { template } = aTickworkStack({ apiAuth: jwt() });
    expect(Object.keys(apiEnvironment(template)).filter((k) => k.startsWith('TICKWORK_OIDC_'))).toEqual([]);
  });

  it('refuses settings whose tokens the API would refuse, or that are not a client', () => {
    expect(() => aTickworkStack({ dashboardLogin: { clientId: 'dashboard-client' } })).toThrow(
      /dashboardLogin needs apiAuth: \{ type: 'jwt'/,
    );
    expect(() =>
      aTickworkStack({ apiAuth: jwt(['another-client']), dashboardLogin: { clientId: 'dashboard-client' } }),
    ).toThrow(/clientId dashboard-client must be one of apiAuth.audience \(another-client\)/);
    expect(() =>
      aTickworkStack({ apiAuth: jwt(), dashboardLogin: { clientId: 'dashboard-client', scopes: ['a b'] } }),
    ).toThrow(/scopes: "a b" is not a scope token/);
    expect(() =>
      aTickworkStack({
        apiAuth: jwt(),
        dashboardLogin: { clientId: 'dashboard-client', redirectUri: 'http://ops.example.com/' },
      }),
    ).toThrow(/redirectUri must be an https:\/\/ URL/);
  });
});
