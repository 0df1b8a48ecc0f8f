/**
 * The page's sign-in, from load to sign-out: reads `GET /dashboard-config`; without a provider the
 * dashboard works as before (IAM, local runtime). With one it finishes a sign-in the provider just
 * answered, keeps a session, or starts a sign-in; then it hands every API request the access
 * token, renewing it when it expires or the API answers 401 (refresh token, else a new sign-in).
 */

import type { DashboardConfig } from '../../api/schemas.js';
import { parseApiResponse } from '../../api-response.js';
import { getToken, useBearer } from './api.js';
import {
  beginLogin,
  completeLogin,
  isLoginAnswer,
  type LoginConfig,
  LoginError,
  loadSession,
  refreshSession,
  type Session,
  saveSession,
  signedOut,
  signOut,
} from './auth.js';

/** What the page shows once the sign-in is settled. */
export type Boot =
  /** The dashboard (signed in, or no sign-in needed). */
  | { kind: 'app' }
  /** On the way to the provider: nothing to show. */
  | { kind: 'redirecting' }
  /** A screen with a message and a "Sign in" button. */
  | { kind: 'screen'; title: string; message: string };

/** Renew the access token this long before it expires (at most a tenth of its lifetime). */
const EXPIRY_MARGIN_MS = 5000;
/**
 * A 401 for a token that has not expired is a revoked token, or one the API never accepts (an
 * audience or scope that does not fit): renew for it at most this often, so a misconfiguration
 * shows its error instead of sending the browser round the provider again and again.
 */
const UNEXPIRED_RENEWAL_EVERY_MS = 60_000;
const UNEXPIRED_RENEWAL_KEY = 'tickwork.renewedUnexpired';

let config: LoginConfig | undefined;
let renewing: Promise<boolean> | undefined;

/** The signed-in user, when the page signs in through OIDC. */
export function currentUser(): string | undefined {
  return config ? loadSession()?.user : undefined;
}

/** Whether the page signs in through OIDC (so no token is ever pasted). */
export function loginActive(): boolean {
  return config !== undefined;
}

/** Signs out of this tab (and of the provider, when it offers a logout endpoint). */
export function signOutNow(): void {
  if (config) location.assign(signOut(config));
}

/** Starts a new sign-in from a button ("Sign in", "Sign in again"). */
export function signInNow(): void {
  if (config) void beginLogin(config, '/');
}

/**
 * Settles the sign-in before the dashboard renders.
 *
 * @example
 * const boot = await bootLogin();
 * render(boot.kind === 'app' ? h(App, null) : h(LoginScreen, boot), root);
 */
export async function bootLogin(): Promise<Boot> {
  const loaded = await loadConfig();
  if (loaded.kind !== 'config') return loaded.boot;
  config = loaded.login;
  useBearer({
    token: accessToken,
    unauthorized,
    hint: ' (HTTP 401/403: the API refused the token from the sign-in provider; its audience and scopes must allow this client)',
  });
  const here = new URL(location.href);
  if (isLoginAnswer(here)) {
    try {
      const { returnTo } = await completeLogin(config, here);
      history.replaceState(null, '', returnTo);
      return { kind: 'app' };
    } catch (error) {
      history.replaceState(null, '', here.pathname);
      const message = error instanceof LoginError ? error.message : String(error);
      return { kind: 'screen', title: 'Sign-in failed', message };
    }
  }
  if (loadSession()) return { kind: 'app' };
  if (signedOut()) return { kind: 'screen', title: 'Signed out', message: 'You signed out of this tab.' };
  void beginLogin(config);
  return { kind: 'redirecting' };
}

/** The sign-in settings, or what to show instead. */
async function loadConfig(): Promise<{ kind: 'config'; login: LoginConfig } | { kind: 'done'; boot: Boot }> {
  let response: Response;
  try {
    const token = getToken(); // a local runtime beyond loopback wants its own token everywhere
    response = await fetch('dashboard-config', {
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      cache: 'no-store',
    });
  } catch {
    return { kind: 'done', boot: { kind: 'app' } }; // the dashboard says it cannot reach the API
  }
  const answer = await parseApiResponse<DashboardConfig>(response);
  if (answer.ok) {
    const login = answer.body.login;
    return login ? { kind: 'config', login } : { kind: 'done', boot: { kind: 'app' } };
  }
  if (answer.refusal.code === 'unavailable') {
    return {
      kind: 'done',
      boot: { kind: 'screen', title: 'Cannot sign in', message: answer.refusal.message },
    };
  }
  // An API without this route, or a local runtime that wants its token first: as before.
  return { kind: 'done', boot: { kind: 'app' } };
}

/** The access token for the next request, renewed first when it is about to expire. */
async function accessToken(): Promise<string> {
  const session = loadSession();
  if (!session) {
    await renew();
    return loadSession()?.accessToken ?? '';
  }
  const margin = Math.min(EXPIRY_MARGIN_MS, (session.expiresAt - session.obtainedAt) / 10);
  if (session.expiresAt - margin <= Date.now()) await renew();
  return loadSession()?.accessToken ?? '';
}

/** The API refused the token: renew it and retry (see {@link UNEXPIRED_RENEWAL_EVERY_MS}). */
async function unauthorized(): Promise<boolean> {
  const session = loadSession();
  const now = Date.now();
  if (session && now < session.expiresAt) {
    try {
      const last = Number(sessionStorage.getItem(UNEXPIRED_RENEWAL_KEY) ?? 0);
      if (now - last < UNEXPIRED_RENEWAL_EVERY_MS) return false;
      sessionStorage.setItem(UNEXPIRED_RENEWAL_KEY, String(now));
    } catch {
      return false; // no storage to remember it by: never renew for an unexpired token
    }
  }
  return renew();
}

/** One renewal at a time: the refresh token if it still works, else a new sign-in (leaves the page). */
function renew(): Promise<boolean> {
  renewing ??= (async () => {
    const login = config as LoginConfig;
    const session: Session | undefined = loadSession();
    const renewed = session ? await refreshSession(login, session) : undefined;
    if (renewed) return true;
    saveSession(undefined);
    return beginLogin(login);
  })().finally(() => {
    renewing = undefined;
  });
  return renewing;
}
