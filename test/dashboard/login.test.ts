/**
 * The dashboard signs in on its own through the OIDC provider the API names (authorization code
 * with PKCE), in a real browser (Debian's Chromium): against a provider stand-in this test starts
 * (`test/support/oidc-provider.ts`) and the admin API behind a JWT check that verifies every token
 * against that provider's keys, as API Gateway's JWT authorizer does on AWS. No token is pasted.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type OidcProvider, type ProviderEvent, startOidcProvider } from '../support/oidc-provider.js';
import { type LoginGateway, startLoginGateway } from './login-gateway.js';
import { launchChromium, waitFor } from './support.js';

let provider: OidcProvider;
let gateway: LoginGateway;
let browser: Browser;
let context: BrowserContext | undefined;

const defaults = { tokenTtlSeconds: 3600, refreshTokens: true, forgeNextState: false };

beforeAll(async () => {
  provider = await startOidcProvider();
  [gateway, browser] = await Promise.all([startLoginGateway(provider), launchChromium()]);
}, 60_000);

afterEach(async () => {
  await context?.close();
  context = undefined;
  Object.assign(provider.settings, defaults);
});

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  await provider?.stop();
}, 30_000);

/** A new browser profile's tab (nothing stored), every request it makes recorded. */
async function aTab(): Promise<{ page: Page; requests: string[] }> {
  context = await browser.newContext();
  const page = await context.newPage();
  const requests: string[] = [];
  page.on('request', (request) => {
    requests.push(`${request.method()} ${request.url()}`);
  });
  return { page, requests };
}

const authorizations = () =>
  provider.events.filter((e): e is Extract<ProviderEvent, { kind: 'authorize' }> => e.kind === 'authorize');
const tokenEvents = () =>
  provider.events.filter((e): e is Extract<ProviderEvent, { kind: 'token' }> => e.kind === 'token');

/** Opens the dashboard and waits until it shows who is signed in and lists the task. */
async function signIn(page: Page): Promise<void> {
  await page.goto(`${gateway.url}/`);
  await page.getByTestId('signed-in-user').waitFor({ timeout: 15_000 });
  await page.locator('tr[data-task-id="nightly-report"]').waitFor();
}

describe('dashboard sign-in through OIDC', () => {
  it('sends the browser to the provider and comes back signed in, every API call carrying a verified token', async () => {
    const { page, requests } = await aTab();
    const callsBefore = gateway.calls.length;

    await signIn(page);

    expect(await page.getByTestId('signed-in-user').textContent()).toBe(provider.user.email);
    expect(await page.getByRole('button', { name: 'API token' }).count()).toBe(0); // nothing to paste
    const sent = authorizations().at(-1)?.params ?? {};
    expect(sent).toMatchObject({
      response_type: 'code',
      client_id: provider.clientId,
      redirect_uri: `${gateway.url}/`,
      scope: 'openid tickwork/read tickwork/operate tickwork/admin',
      code_challenge_method: 'S256',
    });
    for (const value of [sent.state, sent.nonce, sent.code_challenge]) expect(value).toMatch(/^[\w-]{43}$/);
    const issued = tokenEvents().filter((e) => e.outcome === 'issued');
    expect(issued.map((e) => e.grant)).toEqual(['authorization_code']);
    // Every call the page made went through the JWT check with the token just issued.
    const calls = gateway.calls.slice(callsBefore);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.filter((c) => c.jti !== issued[0]?.jti)).toEqual([]);
    expect(calls.map((c) => c.path)).toEqual(expect.arrayContaining(['/tasks', '/scheduler']));
    // The code and state left the address bar; the session is this tab's alone.
    expect(page.url()).toBe(`${gateway.url}/`);
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('tickwork.session'),
      pending: sessionStorage.getItem('tickwork.login'),
      local: localStorage.length,
    }));
    expect(stored.session).toContain('accessToken');
    expect(stored).toMatchObject({ pending: null, local: 0 });
    // Only the dashboard's origin and the provider's were ever asked for anything.
    const origins = new Set(requests.map((r) => new URL(r.split(' ')[1] as string).origin));
    expect([...origins].sort()).toEqual([gateway.url, provider.issuer].sort());
  });

  it('refuses an answer whose state is not the one the tab sent, and never exchanges its code', async () => {
    const { page } = await aTab();
    provider.settings.forgeNextState = true;
    const tokensBefore = tokenEvents().length;
    const callsBefore = gateway.calls.length;

    await page.goto(`${gateway.url}/`);
    const screen = page.getByTestId('login-screen');
    await screen.waitFor();

    expect(await screen.textContent()).toContain('state mismatch');
    expect(tokenEvents().length).toBe(tokensBefore);
    expect(gateway.calls.length).toBe(callsBefore);
    expect(page.url()).toBe(`${gateway.url}/`); // the forged code is gone from the address bar
    expect(await page.evaluate(() => sessionStorage.getItem('tickwork.session'))).toBeNull();
    // A new sign-in from the screen works.
    await screen.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-user').waitFor();
  });

  it('is refused by the provider when the PKCE verifier does not match the challenge', async () => {
    const { page } = await aTab();
    // Swap the verifier on its way to the token endpoint for another well-formed one.
    await page.route(provider.tokenEndpoint, async (route) => {
      const form = new URLSearchParams(route.request().postData() ?? '');
      form.set('code_verifier', 'A'.repeat(43));
      await route.continue({ postData: form.toString() });
    });
    const callsBefore = gateway.calls.length;

    await page.goto(`${gateway.url}/`);
    const screen = page.getByTestId('login-screen');
    await screen.waitFor();

    expect(tokenEvents().at(-1)).toMatchObject({
      grant: 'authorization_code',
      outcome: 'refused',
      reason: expect.stringContaining('PKCE verification failed'),
    });
    expect(await screen.textContent()).toContain('invalid_grant');
    expect(gateway.calls.length).toBe(callsBefore);
    expect(await page.evaluate(() => sessionStorage.getItem('tickwork.session'))).toBeNull();
  });

  it('goes back to the provider to sign in again when the token expires and cannot be refreshed', async () => {
    Object.assign(provider.settings, { tokenTtlSeconds: 3, refreshTokens: false });
    const { page } = await aTab();
    await signIn(page);
    const signIns = authorizations().length;
    const firstJti = tokenEvents().at(-1)?.jti;

    // The dashboard refreshes its list every few seconds: past expiry it must sign in anew.
    const next = await waitFor(
      'a new sign-in and a call with its token',
      async () => {
        if (authorizations().length <= signIns) return undefined;
        const jti = tokenEvents().at(-1)?.jti;
        return jti !== firstJti && gateway.calls.some((c) => c.jti === jti) ? jti : undefined;
      },
      20_000,
    );

    expect(next).toBeDefined();
    expect(tokenEvents().filter((e) => e.grant === 'refresh_token')).toEqual([]);
    await page.getByTestId('signed-in-user').waitFor();
  });

  it('renews an expired token with the refresh token, without leaving the page', async () => {
    provider.settings.tokenTtlSeconds = 3;
    const { page } = await aTab();
    await signIn(page);
    const signIns = authorizations().length;

    const refreshed = await waitFor(
      'a refresh grant and a call with its token',
      async () => {
        const event = tokenEvents().find((e) => e.grant === 'refresh_token' && e.outcome === 'issued');
        return event && gateway.calls.some((c) => c.jti === event.jti) ? event : undefined;
      },
      20_000,
    );

    expect(refreshed.jti).toBeDefined();
    expect(authorizations().length).toBe(signIns);
    expect(await page.getByTestId('signed-in-user').textContent()).toBe(provider.user.email);
  });

  it('signs out at the provider and stays out until asked to sign in', async () => {
    const { page } = await aTab();
    await signIn(page);
    const signIns = authorizations().length;

    await page.getByRole('button', { name: 'Sign out' }).click();
    const screen = page.getByTestId('login-screen');
    await screen.waitFor();

    expect(await screen.textContent()).toContain('Signed out');
    expect(provider.events.at(-1)).toMatchObject({
      kind: 'logout',
      params: { client_id: provider.clientId, post_logout_redirect_uri: `${gateway.url}/` },
    });
    expect(await page.evaluate(() => sessionStorage.getItem('tickwork.session'))).toBeNull();
    await page.reload();
    await screen.waitFor();
    expect(authorizations().length).toBe(signIns);

    await screen.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('signed-in-user').waitFor();
    expect(authorizations().length).toBe(signIns + 1);
  });

  it('says why it cannot sign in when the provider cannot be reached', async () => {
    const dead = await startOidcProvider();
    await dead.stop();
    const unreachable = await startLoginGateway(provider, { issuer: dead.issuer });
    try {
      const { page } = await aTab();
      await page.goto(`${unreachable.url}/`);
      const screen = page.getByTestId('login-screen');
      await screen.waitFor();
      expect(await screen.textContent()).toContain('Cannot sign in');
      expect(await screen.textContent()).toContain(`${dead.issuer}/.well-known/openid-configuration`);
    } finally {
      await unreachable.close();
    }
  });

  it('does not loop through the provider when the API refuses the tokens it just issued', async () => {
    provider.settings.refreshTokens = false;
    const strict = await startLoginGateway(provider, {}, ['another-client']);
    try {
      const { page } = await aTab();
      const signIns = authorizations().length;
      await page.goto(`${strict.url}/`);
      await page.getByTestId('signed-in-user').waitFor();
      const alert = page.getByRole('alert').first();
      await expect
        .poll(() => alert.textContent())
        .toContain('the API refused the token from the sign-in provider');
      // The first refusal may be a revoked token: one more sign-in, then the error stays.
      await page.waitForTimeout(6000);
      expect(authorizations().length).toBe(signIns + 2);
      expect(strict.calls.every((c) => c.refused === 'not for this audience')).toBe(true);
    } finally {
      await strict.close();
    }
  });
});
