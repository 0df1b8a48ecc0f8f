/**
 * The dashboard's sign-in through an OpenID Connect provider (Cognito, Auth0, Keycloak, ...), as
 * the API serves it: the public client's settings (from the API function's environment), the
 * provider's endpoints (from its discovery document, fetched here rather than in the browser so
 * the page's Content-Security-Policy can name the one origin it may post to), and that policy.
 *
 * Nothing here is secret: the dashboard is a public client (authorization code with PKCE, no
 * client secret), and `GET /dashboard-config` hands all of it to whoever asks. The tokens the
 * page obtains are checked by API Gateway's JWT authorizer, never by this code.
 */
import type { Logger } from '../core/ports.js';
import { ApiError } from './errors.js';

/** The dashboard's OIDC public client, as configured. */
export interface DashboardLoginSettings {
  /** The issuer (`iss` of the tokens); its discovery document is `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** The app client's id (a public client: no secret). */
  clientId: string;
  /** Scopes requested besides `openid`. */
  scopes: string[];
  /** Where to send the browser to sign in, when discovery is not wanted. */
  authorizationEndpoint?: string | undefined;
  /** Where the page exchanges the code, when discovery is not wanted. */
  tokenEndpoint?: string | undefined;
  /** The registered redirect URI. Default: the dashboard's own URL (`/` of the API). */
  redirectUri?: string | undefined;
}

/** The provider's endpoints the page uses. */
export interface ProviderEndpoints {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** RP-initiated logout, when the provider advertises it. */
  endSessionEndpoint: string | null;
}

/** What the API needs for the dashboard's sign-in: the settings and a (cached) endpoint lookup. */
export interface DashboardLogin {
  settings: DashboardLoginSettings;
  endpoints(): Promise<ProviderEndpoints>;
}

/** The page's sign-in configuration, as `GET /dashboard-config` answers it. */
export interface DashboardLoginConfig extends ProviderEndpoints {
  issuer: string;
  clientId: string;
  /** Every scope to request, `openid` first. */
  scopes: string[];
  redirectUri: string;
}

/** Scopes the dashboard asks for unless told otherwise: the API's three roles. */
export const DEFAULT_DASHBOARD_SCOPES = ['tickwork/read', 'tickwork/operate', 'tickwork/admin'];

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks that `value` is an absolute `https:` URL (plain `http:` only for a loopback host, as a
 * provider on the developer's own machine is) without credentials or fragment.
 *
 * @throws Error naming `what` and the value.
 */
export function checkProviderUrl(what: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${what} must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new Error(`${what} must be an https:// URL (http:// only on localhost), got ${value}`);
  }
  if (url.username || url.password || url.hash) {
    throw new Error(`${what} must carry no credentials and no #fragment, got ${value}`);
  }
  return url;
}

/** The variables of the API function's environment that configure the sign-in. */
export interface DashboardLoginEnv {
  TICKWORK_OIDC_ISSUER?: string | undefined;
  TICKWORK_OIDC_CLIENT_ID?: string | undefined;
  TICKWORK_OIDC_SCOPES?: string | undefined;
  TICKWORK_OIDC_AUTHORIZATION_ENDPOINT?: string | undefined;
  TICKWORK_OIDC_TOKEN_ENDPOINT?: string | undefined;
  TICKWORK_OIDC_REDIRECT_URI?: string | undefined;
}

/**
 * The settings from the environment, or undefined when no client id is set (no sign-in).
 *
 * @throws Error for a client id without an issuer, a bad URL, or only one of the two endpoints.
 */
export function dashboardLoginFromEnv(env: DashboardLoginEnv): DashboardLoginSettings | undefined {
  const clientId = env.TICKWORK_OIDC_CLIENT_ID?.trim();
  if (!clientId) return undefined;
  const issuer = env.TICKWORK_OIDC_ISSUER?.trim();
  if (!issuer) throw new Error('TICKWORK_OIDC_CLIENT_ID is set but TICKWORK_OIDC_ISSUER is not');
  checkProviderUrl('TICKWORK_OIDC_ISSUER', issuer);
  const authorizationEndpoint = env.TICKWORK_OIDC_AUTHORIZATION_ENDPOINT?.trim() || undefined;
  const tokenEndpoint = env.TICKWORK_OIDC_TOKEN_ENDPOINT?.trim() || undefined;
  if ((authorizationEndpoint === undefined) !== (tokenEndpoint === undefined)) {
    throw new Error(
      'TICKWORK_OIDC_AUTHORIZATION_ENDPOINT and TICKWORK_OIDC_TOKEN_ENDPOINT go together (or neither, for discovery)',
    );
  }
  if (authorizationEndpoint) checkProviderUrl('TICKWORK_OIDC_AUTHORIZATION_ENDPOINT', authorizationEndpoint);
  if (tokenEndpoint) checkProviderUrl('TICKWORK_OIDC_TOKEN_ENDPOINT', tokenEndpoint);
  const redirectUri = env.TICKWORK_OIDC_REDIRECT_URI?.trim() || undefined;
  if (redirectUri) checkProviderUrl('TICKWORK_OIDC_REDIRECT_URI', redirectUri);
  const scopes =
    env.TICKWORK_OIDC_SCOPES === undefined
      ? DEFAULT_DASHBOARD_SCOPES
      : env.TICKWORK_OIDC_SCOPES.split(/\s+/).filter((s) => s !== '' && s !== 'openid');
  return { issuer, clientId, scopes, authorizationEndpoint, tokenEndpoint, redirectUri };
}

/** How the endpoint lookup fetches and how long it keeps an answer. */
export interface DiscoveryOptions {
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /** How long a discovered answer is kept. @default 10 minutes */
  cacheMs?: number;
  /** How long one discovery request may take. @default 5 s */
  timeoutMs?: number;
  /** Where a failed discovery is logged (a warning: the page shows it too). */
  logger?: Logger | undefined;
}

/**
 * The sign-in of the API: `settings` and an endpoint lookup that uses the configured endpoints,
 * or reads the issuer's discovery document once per `cacheMs` (a failure is not kept: the next
 * request tries again).
 */
export function makeDashboardLogin(
  settings: DashboardLoginSettings,
  options: DiscoveryOptions = {},
): DashboardLogin {
  const { authorizationEndpoint, tokenEndpoint } = settings;
  if (authorizationEndpoint && tokenEndpoint) {
    const fixed = { authorizationEndpoint, tokenEndpoint, endSessionEndpoint: null };
    return { settings, endpoints: async () => fixed };
  }
  const now = options.now ?? Date.now;
  const cacheMs = options.cacheMs ?? 10 * 60_000;
  let cached: { at: number; value: Promise<ProviderEndpoints> } | undefined;
  return {
    settings,
    endpoints() {
      if (cached && now() - cached.at < cacheMs) return cached.value;
      const value = discover(settings.issuer, options.fetch ?? fetch, options.timeoutMs ?? 5000);
      const entry = { at: now(), value };
      cached = entry;
      value.catch((error: unknown) => {
        if (cached === entry) cached = undefined;
        options.logger?.warn('dashboard sign-in: discovery failed', { message: (error as Error).message });
      });
      return value;
    },
  };
}

/** Reads and checks `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0). */
async function discover(
  issuer: string,
  fetcher: typeof fetch,
  timeoutMs: number,
): Promise<ProviderEndpoints> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const fail = (why: string, cause?: unknown) =>
    new ApiError('unavailable', `cannot read the sign-in provider's discovery document ${url}: ${why}`, [], {
      cause,
    });
  let doc: Record<string, unknown>;
  try {
    const response = await fetcher(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) throw fail(`HTTP ${response.status}`);
    doc = (await response.json()) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw fail(error instanceof Error ? error.message : String(error), error);
  }
  if (typeof doc !== 'object' || doc === null) throw fail('not a JSON object');
  // Discovery 1.0, section 4.3: the document must name exactly the issuer it was read from.
  if (doc.issuer !== issuer) throw fail(`it names the issuer ${JSON.stringify(doc.issuer)}, not ${issuer}`);
  const endpoint = (name: string): string => {
    const value = doc[name];
    if (typeof value !== 'string') throw fail(`it has no ${name}`);
    try {
      checkProviderUrl(name, value);
    } catch (error) {
      throw fail((error as Error).message);
    }
    return value;
  };
  return {
    authorizationEndpoint: endpoint('authorization_endpoint'),
    tokenEndpoint: endpoint('token_endpoint'),
    endSessionEndpoint:
      typeof doc.end_session_endpoint === 'string' ? endpoint('end_session_endpoint') : null,
  };
}

/**
 * The page's sign-in configuration. The redirect URI is the configured one, else the dashboard's
 * own address: `/` of the origin the request came to.
 */
export async function dashboardLoginConfig(
  login: DashboardLogin,
  requestUrl: string,
): Promise<DashboardLoginConfig> {
  const { settings } = login;
  return {
    issuer: settings.issuer,
    clientId: settings.clientId,
    scopes: ['openid', ...settings.scopes.filter((s) => s !== 'openid')],
    redirectUri: settings.redirectUri ?? new URL('/', requestUrl).href,
    ...(await login.endpoints()),
  };
}

/**
 * The dashboard page's response with the token endpoint's origin added to `connect-src`: the only
 * request the page sends beyond its own origin is the code exchange (and its refresh). When the
 * provider cannot be reached the page is served as it is; its sign-in then says why.
 */
export async function withLoginPolicy(
  response: Response,
  login: DashboardLogin | undefined,
): Promise<Response> {
  const csp = response.headers.get('content-security-policy');
  if (!login || !csp) return response;
  let origin: string;
  try {
    origin = new URL((await login.endpoints()).tokenEndpoint).origin;
  } catch {
    return response;
  }
  const headers = new Headers(response.headers);
  headers.set(
    'content-security-policy',
    csp.replace(/connect-src ([^;]*)/, (_, sources: string) => `connect-src ${sources} ${origin}`),
  );
  return new Response(response.body, { status: response.status, headers });
}
