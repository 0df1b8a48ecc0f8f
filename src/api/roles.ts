/**
 * Roles: who may call which route, and who the caller is (for the audit trail).
 *
 * Three roles, each implying the one below: `read` (every GET), `operate` (run now, cancel, pause,
 * resume) and `admin` (create, edit, delete, apply). On AWS with JWT authorization they are the
 * token's scopes (`tickwork/read`, `tickwork/operate`, `tickwork/admin` by default: a Cognito
 * resource server's `<identifier>/<scope>`), checked by API Gateway per route and again here;
 * with IAM authorization the caller's IAM policy decides (the construct's `grantRead`,
 * `grantOperate` and `grantAdmin`), and the caller's ARN is the identity. The local runtime acts
 * as admin.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { Actor } from '../core/audit.js';
import { ApiError } from './errors.js';
import { routes } from './routes.js';

export const Role = { Read: 'read', Operate: 'operate', Admin: 'admin' } as const;
export type Role = (typeof Role)[keyof typeof Role];

/** The roles from least to most: each implies those before it. */
export const roles: readonly Role[] = [Role.Read, Role.Operate, Role.Admin];

/** The scope prefix unless configured: a Cognito resource server named `tickwork`. */
export const DEFAULT_SCOPE_PREFIX = 'tickwork/';

/** The role each route needs. A route missing here fails the build: every route is classified. */
export const routeRoles: Record<keyof typeof routes, Role | 'public'> = {
  listTaskTypes: Role.Read,
  listTasks: Role.Read,
  getTask: Role.Read,
  listRuns: Role.Read,
  getRun: Role.Read,
  getRunLogs: Role.Read,
  getScheduler: Role.Read,
  previewSchedule: Role.Read,
  listAudit: Role.Read,
  listAllRuns: Role.Read,
  listBackfills: Role.Read,
  runNow: Role.Operate,
  replayRun: Role.Operate,
  cancelRun: Role.Operate,
  pauseScheduler: Role.Operate,
  resumeScheduler: Role.Operate,
  createTask: Role.Admin,
  applyTasks: Role.Admin,
  updateTask: Role.Admin,
  deleteTask: Role.Admin,
  backfill: Role.Admin,
  // The dashboard's sign-in settings: public, as the page itself (the browser has no token yet).
  dashboardConfig: 'public',
};

/**
 * Routes outside the route table: the OpenAPI document (read) and the dashboard page, which
 * holds no data and must load before the browser has a token (`public`).
 */
export const extraRouteRoles: Record<string, Role | 'public'> = {
  'GET /openapi.json': Role.Read,
  'GET /': 'public',
};

/** Every route as `METHOD /path/{param}` with the role it needs. */
export function roleTable(): { route: string; role: Role | 'public' }[] {
  return [
    ...Object.entries(routeRoles).map(([name, role]) => {
      const route = routes[name as keyof typeof routes];
      return { route: `${route.method.toUpperCase()} ${route.path}`, role };
    }),
    ...Object.entries(extraRouteRoles).map(([route, role]) => ({ route, role })),
  ];
}

/** Whether holding `held` allows what `needed` allows. */
export function implies(held: Role, needed: Role): boolean {
  return roles.indexOf(held) >= roles.indexOf(needed);
}

/** The scope that grants `role`. */
export function scopeOf(role: Role, prefix = DEFAULT_SCOPE_PREFIX): string {
  return `${prefix}${role}`;
}

/** The scopes any one of which lets a token call a route that needs `role` (API Gateway's list). */
export function scopesFor(role: Role, prefix = DEFAULT_SCOPE_PREFIX): string[] {
  return roles.filter((held) => implies(held, role)).map((held) => scopeOf(held, prefix));
}

/** How the API tells who calls and what they may do. */
export type Access =
  /** Bearer JWTs: the roles are the token's scopes under `scopePrefix`. */
  | { mode: 'jwt'; scopePrefix: string }
  /** SigV4: API Gateway let the call through, so the caller's IAM policy allowed it. */
  | { mode: 'iam' }
  /** The local runtime: `actor` may do everything. */
  | { mode: 'local'; actor: Actor };

/** Who called, and the roles they hold (implied ones included). */
export interface Caller {
  actor: Actor;
  roles: ReadonlySet<Role>;
}

const everyRole: ReadonlySet<Role> = new Set(roles);

/** The local runtime's caller when nothing else is said. */
export const localActor: Actor = { kind: 'local', id: 'local' };

type Json = Record<string, unknown>;
const objectAt = (value: unknown, key: string): Json | undefined => {
  const inner = typeof value === 'object' && value !== null ? (value as Json)[key] : undefined;
  return typeof inner === 'object' && inner !== null ? (inner as Json) : undefined;
};
const stringAt = (value: Json | undefined, key: string): string | undefined =>
  typeof value?.[key] === 'string' ? (value[key] as string) : undefined;

/** Scopes as a list or a space-separated string (both spellings occur in claims). */
const scopeList = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((s): s is string => typeof s === 'string')
    : typeof value === 'string'
      ? value.split(' ').filter(Boolean)
      : [];

/**
 * The scopes of a JWT authorizer context: its `scopes` list, the `scope` claim (Cognito, Auth0)
 * and the `scp` claim (Okta, Entra ID), each a list or a space-separated string.
 */
export function scopesOf(jwt: Json | undefined): string[] {
  const claims = objectAt(jwt, 'claims');
  return [...new Set([...scopeList(jwt?.scopes), ...scopeList(claims?.scope), ...scopeList(claims?.scp)])];
}

/** The roles a set of scopes grants, implied ones included. */
export function rolesOfScopes(scopes: readonly string[], prefix: string): Set<Role> {
  const granted = new Set<Role>();
  for (const role of roles) {
    if (roles.some((held) => implies(held, role) && scopes.includes(scopeOf(held, prefix)))) {
      granted.add(role);
    }
  }
  return granted;
}

/**
 * The caller of a request, from API Gateway's request context (payload format 2.0):
 * `authorizer.jwt` (claims and scopes) or `authorizer.iam` (the caller's ARN).
 */
export function callerOf(access: Access, requestContext: unknown): Caller {
  if (access.mode === 'local') return { actor: access.actor, roles: everyRole };
  const authorizer = objectAt(requestContext, 'authorizer');
  if (access.mode === 'iam') {
    const iam = objectAt(authorizer, 'iam');
    return { actor: { kind: 'iam', id: stringAt(iam, 'userArn') ?? 'unknown' }, roles: everyRole };
  }
  const jwt = objectAt(authorizer, 'jwt');
  const claims = objectAt(jwt, 'claims');
  const name =
    stringAt(claims, 'username') ?? stringAt(claims, 'cognito:username') ?? stringAt(claims, 'email');
  const actor: Actor = { kind: 'jwt', id: stringAt(claims, 'sub') ?? 'unknown', ...(name ? { name } : {}) };
  return { actor, roles: rolesOfScopes(scopesOf(jwt), access.scopePrefix) };
}

/** Path templates as patterns, with the role each method needs. */
const matchers = roleTable().map(({ route, role }) => {
  const [method, path] = route.split(' ') as [string, string];
  return { method, pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`), role };
});

/** The role a request needs; undefined for no route (the app answers 404 or 405). */
export function roleOfRequest(method: string, path: string): Role | 'public' | undefined {
  const verb = method === 'HEAD' ? 'GET' : method;
  return matchers.find((m) => m.method === verb && m.pattern.test(path))?.role;
}

const CALLER = 'tickworkCaller';

/** The caller the guard found for this request (the local actor outside the guard). */
export function requestCaller(c: Context): Caller {
  return (c.get(CALLER as never) as Caller | undefined) ?? { actor: localActor, roles: everyRole };
}

/**
 * Finds the caller (Hono's `c.env.requestContext` on Lambda) and refuses, with 403
 * `forbidden_role`, a route whose role the caller does not hold.
 */
export function roleGuard(access: Access): MiddlewareHandler {
  return async (c, next) => {
    const env = c.env as Json | undefined;
    const caller = callerOf(access, env?.requestContext);
    c.set(CALLER as never, caller as never);
    const needed = roleOfRequest(c.req.method, c.req.path);
    if (needed !== undefined && needed !== 'public' && !caller.roles.has(needed)) {
      const scopes = access.mode === 'jwt' ? scopesFor(needed, access.scopePrefix).join(' or ') : needed;
      throw new ApiError(
        'forbidden_role',
        `${c.req.method} ${c.req.path.slice(0, 200)} needs the ${needed} role (scope ${scopes})`,
      );
    }
    await next();
  };
}
