/**
 * The local runtime's gate (`tickwork dev`), in front of the API it serves over plain HTTP. On AWS,
 * API Gateway's authorizer and CORS stand there instead, so the deployed API never installs it;
 * the local runtime wraps the `fetch` it serves with {@link guardFetch} in both of its modes.
 *
 * In order, every request must:
 * 1. name this runtime in `Host`: a loopback name (`localhost`, `127.0.0.1`, `[::1]`) with the
 *    served port, or the address it serves on (a web page that rebinds its own DNS name to
 *    127.0.0.1 sends its own name);
 * 2. come from no web page, or from this runtime's own: `Origin`, when sent, is `http://` and an
 *    allowed host;
 * 3. carry `Authorization: Bearer <token>` when the runtime has a token (it listens beyond
 *    loopback); the dashboard page itself (`GET /`) loads without one;
 * 4. if it changes state (POST, PATCH, PUT, DELETE), be `Content-Type: application/json`, which no
 *    cross-site form or preflight-free `fetch` can send.
 *
 * Each refusal is the API's JSON error. Nothing here touches Node: it is a Hono middleware.
 */
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { ApiError, toErrorResponse } from './errors.js';
import { JSON_TYPE } from './media-type.js';

export interface LocalGuardOptions {
  /** `Host` values allowed, as `name:port` (IPv6 in brackets; any case). See {@link localHosts}. */
  hosts: readonly string[];
  /** When set, every request but the dashboard page must carry `Authorization: Bearer <token>`. */
  token?: string | undefined;
}

/** A `fetch` as `@hono/node-server` serves it. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

const STATE_CHANGING = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** An address as it appears in a `Host` header (IPv6 in brackets), lower case. */
function hostName(address: string): string {
  const name = address.toLowerCase();
  return name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
}

/**
 * The `Host` values of a runtime serving on `port`: the loopback names, the address it is bound
 * to, and `addresses` (the machine's own, when bound to a wildcard). Port 80 is also allowed
 * bare, as browsers send it.
 */
export function localHosts(options: { port: number; bind: string; addresses?: readonly string[] }): string[] {
  const names = new Set(['localhost', '127.0.0.1', '[::1]']);
  if (options.bind !== '') names.add(hostName(options.bind));
  for (const address of options.addresses ?? []) names.add(hostName(address));
  const hosts: string[] = [];
  for (const name of names) {
    hosts.push(`${name}:${options.port}`);
    if (options.port === 80) hosts.push(name);
  }
  return hosts;
}

/** Whether `bind` reaches only this machine. */
export function isLoopback(bind: string): boolean {
  const name = bind.toLowerCase().replace(/^\[|\]$/g, '');
  return name === 'localhost' || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** Compares a presented secret with the expected one in time independent of where they differ. */
function sameSecret(presented: string, expected: string): boolean {
  let diff = presented.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (presented.charCodeAt(i) || 0) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}

function refuse(c: Context, error: ApiError): Response {
  const { status, body } = toErrorResponse(error);
  if (error.code === 'unauthorized') c.header('WWW-Authenticate', 'Bearer realm="tickwork dev"');
  return c.json(body, status as 400);
}

const quoted = (value: string) => JSON.stringify(value.slice(0, 100));

/** The gate as a Hono middleware (see the module comment for what it checks, in order). */
export function localGuard(options: LocalGuardOptions): MiddlewareHandler {
  const hosts = new Set(options.hosts.map((h) => h.toLowerCase()));
  const origins = new Set([...hosts].map((h) => `http://${h}`));
  const { token } = options;
  return async (c, next) => {
    const host = (c.req.header('host') ?? '').toLowerCase();
    if (!hosts.has(host)) {
      return refuse(
        c,
        new ApiError('forbidden_origin', `Host ${quoted(host)} is not this runtime's address`),
      );
    }
    const origin = c.req.header('origin');
    if (origin !== undefined && !origins.has(origin.toLowerCase())) {
      return refuse(
        c,
        new ApiError('forbidden_origin', `requests from the web page at ${quoted(origin)} are refused`),
      );
    }
    const method = c.req.method;
    const page = (method === 'GET' || method === 'HEAD') && c.req.path === '/';
    if (token !== undefined && !page) {
      const presented = /^Bearer +(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
      if (!sameSecret(presented, token)) {
        return refuse(
          c,
          new ApiError('unauthorized', 'send Authorization: Bearer <token>, the token tickwork dev printed'),
        );
      }
    }
    if (STATE_CHANGING.has(method) && !JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      return refuse(
        c,
        new ApiError('unsupported_media_type', `${method} requests must be Content-Type: application/json`),
      );
    }
    await next();
  };
}

/** `fetch`, behind the gate: what the local runtime serves. */
export function guardFetch(
  fetch: FetchHandler,
  options: LocalGuardOptions,
): (request: Request) => Promise<Response> {
  const app = new Hono();
  app.use('*', localGuard(options));
  app.all('*', (c) => fetch(c.req.raw));
  return async (request) => await app.fetch(request);
}
