/**
 * A minimal OpenID Connect provider for tests, on 127.0.0.1 at a free port: a discovery document,
 * `/authorize` that approves a fixed test user at once and redirects with a code, `/token` for
 * the authorization code grant (public client, PKCE `S256` checked) and the refresh token grant,
 * `/jwks` and `/logout`. Tokens are RS256 JWTs signed with a key made at start (`node:crypto`);
 * the access token looks like Cognito's (`client_id` and `scope`, no `aud`).
 *
 * Knobs (`settings`) let a test shorten token lifetimes, stop issuing refresh tokens or answer a
 * sign-in with a forged `state`; `events` records what the provider saw and decided.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One thing the provider saw, and what it decided. */
export type ProviderEvent =
  | { kind: 'authorize'; params: Record<string, string> }
  | { kind: 'token'; grant: string; outcome: 'issued' | 'refused'; reason?: string; jti?: string }
  | { kind: 'logout'; params: Record<string, string> };

/** What a test may change while the provider runs. */
export interface ProviderSettings {
  /** Lifetime of access and ID tokens, in seconds. */
  tokenTtlSeconds: number;
  /** Issue refresh tokens, and honour them. */
  refreshTokens: boolean;
  /** Answer the next sign-in with a state other than the one sent. */
  forgeNextState: boolean;
}

export interface OidcProvider {
  /** `http://127.0.0.1:<port>` */
  issuer: string;
  jwksUri: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientId: string;
  user: { sub: string; email: string };
  settings: ProviderSettings;
  events: ProviderEvent[];
  /** Registers a redirect URI of the client (the dashboard's address). */
  allowRedirectUri(uri: string): void;
  stop(): Promise<void>;
}

const SCOPES = ['openid', 'email', 'profile', 'tickwork/read', 'tickwork/operate', 'tickwork/admin'];
const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

interface Grant {
  redirectUri: string;
  challenge: string;
  nonce: string | undefined;
  scope: string;
  expiresAt: number;
}

/** Starts the provider for one public client. */
export async function startOidcProvider(
  options: { clientId?: string; settings?: Partial<ProviderSettings> } = {},
): Promise<OidcProvider> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const redirectUris = new Set<string>();
  const codes = new Map<string, Grant>();
  const refreshTokens = new Map<string, { scope: string }>();
  const provider: OidcProvider = {
    issuer: '',
    jwksUri: '',
    authorizationEndpoint: '',
    tokenEndpoint: '',
    clientId: options.clientId ?? 'tickwork-dashboard',
    user: { sub: 'user-0001', email: 'ada@example.com' },
    settings: { tokenTtlSeconds: 3600, refreshTokens: true, forgeNextState: false, ...options.settings },
    events: [],
    allowRedirectUri: (uri) => redirectUris.add(uri),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
  const ctx: Context = { provider, privateKey, publicKey, kid, redirectUris, codes, refreshTokens };
  const server = createServer((req, res) => {
    void route(ctx, req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(provider, {
    issuer,
    jwksUri: `${issuer}/jwks`,
    authorizationEndpoint: `${issuer}/authorize`,
    tokenEndpoint: `${issuer}/token`,
  });
  return provider;
}

interface Context {
  provider: OidcProvider;
  privateKey: KeyObject;
  publicKey: KeyObject;
  kid: string;
  redirectUris: Set<string>;
  codes: Map<string, Grant>;
  refreshTokens: Map<string, { scope: string }>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      'access-control-allow-origin': '*',
    })
    .end(JSON.stringify(body));
}

async function route(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', ctx.provider.issuer);
  const key = `${req.method} ${url.pathname}`;
  if (key === 'GET /.well-known/openid-configuration') return json(res, 200, discovery(ctx.provider));
  if (key === 'GET /jwks') {
    const jwk = ctx.publicKey.export({ format: 'jwk' });
    return json(res, 200, { keys: [{ ...jwk, kid: ctx.kid, use: 'sig', alg: 'RS256' }] });
  }
  if (key === 'GET /authorize') return authorize(ctx, url, res);
  if (key === 'OPTIONS /token') {
    res.writeHead(204, {
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, accept',
    });
    return void res.end();
  }
  if (key === 'POST /token') return token(ctx, new URLSearchParams(await bodyOf(req)), res);
  if (key === 'GET /logout') {
    const params = Object.fromEntries(url.searchParams);
    ctx.provider.events.push({ kind: 'logout', params });
    const back = params.post_logout_redirect_uri;
    if (back && ctx.redirectUris.has(back)) return void res.writeHead(302, { location: back }).end();
    return void res.writeHead(200, { 'content-type': 'text/plain' }).end('signed out');
  }
  json(res, 404, { error: 'not_found' });
}

function discovery(p: OidcProvider): Record<string, unknown> {
  return {
    issuer: p.issuer,
    authorization_endpoint: p.authorizationEndpoint,
    token_endpoint: p.tokenEndpoint,
    jwks_uri: p.jwksUri,
    end_session_endpoint: `${p.issuer}/logout`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    scopes_supported: SCOPES,
  };
}

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Approves the test user at once: checks the request, then redirects with a code. */
function authorize(ctx: Context, url: URL, res: ServerResponse) {
  const params = Object.fromEntries(url.searchParams);
  ctx.provider.events.push({ kind: 'authorize', params });
  // An unknown client or redirect URI gets an error page, never a redirect (RFC 6749, 4.1.2.1).
  if (params.client_id !== ctx.provider.clientId || !ctx.redirectUris.has(params.redirect_uri ?? '')) {
    return void res.writeHead(400, { 'content-type': 'text/plain' }).end('unknown client or redirect_uri');
  }
  const back = new URL(params.redirect_uri as string);
  const refuse = (error: string, description: string) => {
    back.searchParams.set('error', error);
    back.searchParams.set('error_description', description);
    if (params.state) back.searchParams.set('state', params.state);
    res.writeHead(302, { location: back.href }).end();
  };
  if (params.response_type !== 'code') return refuse('unsupported_response_type', 'only code');
  if (params.code_challenge_method !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(params.code_challenge ?? '')) {
    return refuse('invalid_request', 'PKCE with S256 is required');
  }
  const scopes = (params.scope ?? '').split(' ');
  if (!scopes.includes('openid') || scopes.some((s) => !SCOPES.includes(s))) {
    return refuse('invalid_scope', `scopes must include openid and be among ${SCOPES.join(' ')}`);
  }
  const code = b64url(randomBytes(24));
  ctx.codes.set(code, {
    redirectUri: back.href,
    challenge: params.code_challenge as string,
    nonce: params.nonce,
    scope: params.scope as string,
    expiresAt: Date.now() + 60_000,
  });
  back.searchParams.set('code', code);
  const forged = ctx.provider.settings.forgeNextState;
  ctx.provider.settings.forgeNextState = false;
  back.searchParams.set('state', forged ? `forged-${b64url(randomBytes(8))}` : (params.state ?? ''));
  res.writeHead(302, { location: back.href }).end();
}

/** The token endpoint: the authorization code grant (with the PKCE check) and the refresh grant. */
function token(ctx: Context, form: URLSearchParams, res: ServerResponse) {
  const grant = form.get('grant_type') ?? '';
  const refuse = (error: string, reason: string) => {
    ctx.provider.events.push({ kind: 'token', grant, outcome: 'refused', reason });
    json(res, 400, { error, error_description: reason });
  };
  if (form.get('client_id') !== ctx.provider.clientId) return refuse('invalid_client', 'unknown client');
  if (grant === 'authorization_code') {
    const code = ctx.codes.get(form.get('code') ?? '');
    ctx.codes.delete(form.get('code') ?? ''); // one use, whatever happens
    if (!code || code.expiresAt < Date.now()) return refuse('invalid_grant', 'unknown, used or expired code');
    if (form.get('redirect_uri') !== code.redirectUri) return refuse('invalid_grant', 'redirect_uri differs');
    const verifier = form.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier, 'ascii').digest('base64url');
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== code.challenge) {
      return refuse(
        'invalid_grant',
        'PKCE verification failed: the code_verifier does not match the code_challenge',
      );
    }
    return issue(ctx, res, grant, code.scope, code.nonce);
  }
  if (grant === 'refresh_token') {
    const held = ctx.refreshTokens.get(form.get('refresh_token') ?? '');
    if (!held || !ctx.provider.settings.refreshTokens)
      return refuse('invalid_grant', 'unknown refresh token');
    return issue(ctx, res, grant, held.scope, undefined);
  }
  refuse('unsupported_grant_type', `grant_type ${grant}`);
}

function issue(
  ctx: Context,
  res: ServerResponse,
  grant: string,
  scope: string,
  nonce: string | undefined,
): void {
  const { provider } = ctx;
  const now = Math.floor(Date.now() / 1000);
  const ttl = provider.settings.tokenTtlSeconds;
  const jti = randomUUID();
  const common = { iss: provider.issuer, sub: provider.user.sub, iat: now, exp: now + ttl };
  const accessToken = signJwt(ctx, {
    ...common,
    jti,
    client_id: provider.clientId,
    token_use: 'access',
    username: provider.user.sub,
    scope: scope
      .split(' ')
      .filter((s) => s !== 'openid')
      .join(' '),
  });
  const idToken = signJwt(ctx, {
    ...common,
    aud: provider.clientId,
    token_use: 'id',
    email: provider.user.email,
    ...(nonce ? { nonce } : {}),
  });
  let refreshToken: string | undefined;
  if (provider.settings.refreshTokens) {
    refreshToken = b64url(randomBytes(32));
    ctx.refreshTokens.set(refreshToken, { scope });
  }
  provider.events.push({ kind: 'token', grant, outcome: 'issued', jti });
  json(res, 200, {
    access_token: accessToken,
    id_token: idToken,
    token_type: 'Bearer',
    expires_in: ttl,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  });
}

function signJwt(ctx: Context, claims: Record<string, unknown>): string {
  const input = `${b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: ctx.kid }))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${sign('sha256', Buffer.from(input), ctx.privateKey).toString('base64url')}`;
}
