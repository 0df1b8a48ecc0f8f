/**
 * The dashboard's OpenID Connect client: authorization code with PKCE (RFC 7636, `S256` through
 * `crypto.subtle`), a fresh `state` and `nonce` per sign-in, the code exchanged at the provider's
 * token endpoint by this page (a public client: no secret), and the refresh token grant.
 *
 * Everything is kept in `sessionStorage`: the pending sign-in must survive the round trip to the
 * provider in this tab, and the tokens live as long as the tab and reach no other tab or origin
 * (docs/security.md says why not `localStorage` or cookies).
 *
 * The ID token is read, not verified by signature: it comes straight from the token endpoint over
 * TLS (OpenID Connect Core 1.0, 3.1.3.7), and the API never trusts it; API Gateway verifies the
 * access token on every call. Its claims are checked so that an answer to another sign-in
 * (wrong `nonce`), another client or another issuer is refused.
 */
import type { DashboardConfig } from '../../api/schemas.js';

/** Where and as whom the page signs in (`GET /dashboard-config`). */
export type LoginConfig = NonNullable<DashboardConfig['login']>;

/** A signed-in tab. */
export interface Session {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** When the access token expires, ms since the epoch (this browser's clock). */
  expiresAt: number;
  /** When it was obtained, ms since the epoch. */
  obtainedAt: number;
  /** Who is signed in, for display: e-mail, user name or subject. */
  user: string;
}

/** A sign-in that went wrong, with the message to show. */
export class LoginError extends Error {
  override readonly name = 'LoginError';
}

/** A sign-in started in this tab and not finished yet. */
interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  redirectUri: string;
  /** Path, query and fragment to come back to. */
  returnTo: string;
}

const SESSION_KEY = 'tickwork.session';
const PENDING_KEY = 'tickwork.login';
/** Set by "Sign out": the next page load shows the signed-out screen instead of signing in. */
const SIGNED_OUT_KEY = 'tickwork.signedOut';
/** Clock difference tolerated when checking the ID token's expiry. */
const SKEW_MS = 60_000;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 32 random bytes, base64url: a PKCE verifier (43 characters), a state or a nonce. */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** The PKCE `S256` challenge of a verifier: base64url(SHA-256(verifier)). */
export async function pkceChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** The claims of a JWT, unverified; undefined when it is not a JWT. */
export function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const text = new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    const claims: unknown = JSON.parse(text);
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function read<T>(key: string): T | undefined {
  try {
    const text = sessionStorage.getItem(key);
    return text === null ? undefined : (JSON.parse(text) as T);
  } catch {
    return undefined;
  }
}

function write(key: string, value: unknown): void {
  try {
    if (value === undefined) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // storage disabled: the page signs in again on its next load
  }
}

/** This tab's session, if it has one. */
export function loadSession(): Session | undefined {
  const session = read<Session>(SESSION_KEY);
  return typeof session?.accessToken === 'string' ? session : undefined;
}

/** Keeps (or, with undefined, forgets) this tab's session. */
export function saveSession(session: Session | undefined): void {
  write(SESSION_KEY, session);
}

/** Whether the user signed out in this tab (and has not signed in since). */
export function signedOut(): boolean {
  return read<boolean>(SIGNED_OUT_KEY) === true;
}

/** Where this page is, as the place to come back to after signing in. */
function currentPlace(): string {
  return `${location.pathname}${location.search}${location.hash}`;
}

/**
 * Starts a sign-in: keeps a new verifier, state and nonce for this tab and sends the browser to
 * the provider. The returned promise never settles (the page is going away).
 */
export async function beginLogin(config: LoginConfig, returnTo = currentPlace()): Promise<never> {
  const pending: PendingLogin = {
    state: randomToken(),
    nonce: randomToken(),
    verifier: randomToken(),
    redirectUri: config.redirectUri,
    returnTo,
  };
  write(PENDING_KEY, pending);
  write(SIGNED_OUT_KEY, undefined);
  const url = new URL(config.authorizationEndpoint);
  const query = {
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scopes.join(' '),
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await pkceChallenge(pending.verifier),
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  location.assign(url.href);
  return new Promise<never>(() => {});
}

/** Whether `url` is the provider sending the browser back (a code or an error, with a state). */
export function isLoginAnswer(url: URL): boolean {
  return url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'));
}

/**
 * Finishes a sign-in from the provider's answer in `url`: checks the `state` against the one this
 * tab sent, exchanges the code (with the PKCE verifier) and checks the ID token.
 *
 * @returns the session and where to go back to.
 * @throws LoginError saying what was refused.
 */
export async function completeLogin(
  config: LoginConfig,
  url: URL,
  now: () => number = Date.now,
): Promise<{ session: Session; returnTo: string }> {
  const pending = read<PendingLogin>(PENDING_KEY);
  write(PENDING_KEY, undefined); // one answer per sign-in, whatever it is
  const params = url.searchParams;
  if (!pending) throw new LoginError('This tab did not start a sign-in, so its answer is ignored.');
  if (params.get('state') !== pending.state) {
    throw new LoginError(
      'The answer from the sign-in provider does not belong to the sign-in this tab started (state mismatch).',
    );
  }
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description');
    throw new LoginError(`The sign-in provider refused: ${error}${description ? ` (${description})` : ''}`);
  }
  const tokens = await tokenRequest(config, {
    grant_type: 'authorization_code',
    code: params.get('code') ?? '',
    redirect_uri: pending.redirectUri,
    client_id: config.clientId,
    code_verifier: pending.verifier,
  });
  if (typeof tokens.id_token !== 'string') throw new LoginError('The sign-in provider sent no ID token.');
  const claims = checkIdToken(config, tokens.id_token, pending.nonce, now());
  const session = sessionOf(tokens, claims, undefined, now());
  saveSession(session);
  const returnTo =
    pending.returnTo.startsWith('/') && !pending.returnTo.startsWith('//') ? pending.returnTo : '/';
  return { session, returnTo };
}

/**
 * A new access token from the refresh token, or undefined when there is none or the provider
 * refuses it (the user must sign in again).
 */
export async function refreshSession(
  config: LoginConfig,
  session: Session,
  now: () => number = Date.now,
): Promise<Session | undefined> {
  if (!session.refreshToken) return undefined;
  let tokens: TokenAnswer;
  try {
    tokens = await tokenRequest(config, {
      grant_type: 'refresh_token',
      refresh_token: session.refreshToken,
      client_id: config.clientId,
    });
  } catch {
    return undefined;
  }
  let claims: Record<string, unknown> | undefined;
  if (typeof tokens.id_token === 'string') {
    try {
      claims = checkIdToken(config, tokens.id_token, undefined, now());
    } catch {
      return undefined;
    }
  }
  const renewed = sessionOf(tokens, claims, session, now());
  saveSession(renewed);
  return renewed;
}

/**
 * Forgets this tab's session and marks it signed out.
 *
 * @returns where to send the browser: the provider's logout when it has one, else the dashboard.
 */
export function signOut(config: LoginConfig): string {
  const session = loadSession();
  saveSession(undefined);
  write(SIGNED_OUT_KEY, true);
  if (!config.endSessionEndpoint) return config.redirectUri;
  const url = new URL(config.endSessionEndpoint);
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('post_logout_redirect_uri', config.redirectUri);
  if (session?.idToken) url.searchParams.set('id_token_hint', session.idToken);
  return url.href;
}

/** A token endpoint's answer (RFC 6749, 5.1). */
interface TokenAnswer {
  access_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
  id_token?: unknown;
}

/** Posts a grant to the token endpoint; a refusal is a {@link LoginError} with the provider's reason. */
async function tokenRequest(config: LoginConfig, grant: Record<string, string>): Promise<TokenAnswer> {
  let response: Response;
  try {
    response = await fetch(config.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(grant),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    throw new LoginError(
      `Cannot reach the sign-in provider's token endpoint (${error instanceof Error ? error.message : String(error)}).`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as TokenAnswer & {
    error?: unknown;
    error_description?: unknown;
  };
  if (!response.ok) {
    const reason = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
    const description = typeof body.error_description === 'string' ? ` (${body.error_description})` : '';
    throw new LoginError(
      `The sign-in provider refused the ${grant.grant_type} grant: ${reason}${description}`,
    );
  }
  if (typeof body.access_token !== 'string' || String(body.token_type).toLowerCase() !== 'bearer') {
    throw new LoginError('The sign-in provider answered without a bearer access token.');
  }
  return body;
}

/** Checks the ID token's issuer, audience, expiry and (on sign-in) nonce; returns its claims. */
function checkIdToken(
  config: LoginConfig,
  idToken: string,
  nonce: string | undefined,
  now: number,
): Record<string, unknown> {
  const claims = jwtClaims(idToken);
  if (!claims) throw new LoginError('The ID token is not a JWT.');
  const refuse = (why: string) => new LoginError(`The ID token was refused: ${why}.`);
  if (claims.iss !== config.issuer) throw refuse(`issued by ${String(claims.iss)}, not ${config.issuer}`);
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audience.includes(config.clientId)) throw refuse(`not meant for client ${config.clientId}`);
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < now - SKEW_MS) throw refuse('it has expired');
  if (nonce !== undefined && claims.nonce !== nonce) throw refuse('its nonce is not the one this tab sent');
  return claims;
}

/** Who the claims name, for display. */
function userOf(claims: Record<string, unknown> | undefined): string | undefined {
  for (const name of ['email', 'preferred_username', 'cognito:username', 'username', 'name', 'sub']) {
    const value = claims?.[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** The session a token answer makes (a refresh keeps what it does not replace). */
function sessionOf(
  tokens: TokenAnswer,
  idClaims: Record<string, unknown> | undefined,
  previous: Session | undefined,
  now: number,
): Session {
  const accessToken = tokens.access_token as string;
  // The earlier of `expires_in` and the token's own `exp` (when it is a JWT): `exp` is whole
  // seconds, so it may fall before now + expires_in, and the API goes by `exp`.
  const exp = jwtClaims(accessToken)?.exp;
  const candidates = [
    typeof tokens.expires_in === 'number' && tokens.expires_in > 0
      ? now + tokens.expires_in * 1000
      : undefined,
    typeof exp === 'number' ? exp * 1000 : undefined,
  ].filter((t): t is number => t !== undefined);
  const expiresAt = candidates.length > 0 ? Math.min(...candidates) : now + 3_600_000;
  return {
    accessToken,
    refreshToken:
      typeof tokens.refresh_token === 'string' ? tokens.refresh_token : (previous?.refreshToken ?? null),
    idToken: typeof tokens.id_token === 'string' ? tokens.id_token : (previous?.idToken ?? null),
    expiresAt,
    obtainedAt: now,
    user: userOf(idClaims) ?? previous?.user ?? userOf(jwtClaims(accessToken)) ?? 'unknown user',
  };
}
