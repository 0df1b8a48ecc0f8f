/**
 * Who may call which routes of the HTTP API, with IAM authorization: `execute-api:Invoke` on the
 * routes' ARNs. The three lists are the roles of `src/api/roles.ts` (read, operate, admin), which
 * the API function enforces with JWT authorization; `test/infra/conventions.test.ts` checks they
 * are the same routes, role by role. A path parameter becomes `*`.
 */
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';

/** A route as `METHOD /path/{param}`. */
export type ApiRoute = `${'GET' | 'POST' | 'PATCH' | 'DELETE'} /${string}`;

/** Every GET route: lists, details, history, logs, the scheduler's state, docs, the dashboard. */
export const readRoutes: readonly ApiRoute[] = [
  'GET /',
  'GET /openapi.json',
  'GET /task-types',
  'GET /tasks',
  'GET /tasks/{id}',
  'GET /tasks/{id}/runs',
  'GET /tasks/{id}/runs/{runId}',
  'GET /tasks/{id}/runs/{runId}/logs',
  'GET /scheduler',
  'GET /schedule-preview',
  'GET /audit',

  'GET /dashboard-config',

  'GET /runs',
  'GET /backfills',
];

/**
 * What an operator does beyond reading: run now, replay, cancel, pause and resume the scheduler.
 * A backfill, which can start a thousand runs, is left to administrators.
 */
export const operateRoutes: readonly ApiRoute[] = [
  'POST /tasks/{id}/run',
  'POST /tasks/{id}/runs/{runId}/replay',
  'POST /tasks/{id}/cancel',
  'POST /scheduler/pause',
  'POST /scheduler/resume',
];

/** What an administrator does beyond operating: create, edit, delete and apply tasks. */
export const adminRoutes: readonly ApiRoute[] = [
  'POST /tasks',
  'POST /tasks/apply',
  'PATCH /tasks/{id}',
  'DELETE /tasks/{id}',
  'POST /tasks/{id}/backfill',
];

/** The ARN of one route on every stage. */
export function routeArn(httpApi: HttpApi, route: ApiRoute): string {
  const [method, path] = route.split(' ') as [string, string];
  return httpApi.arnForExecuteApi(method, path.replace(/\{[^}]+\}/g, '*'));
}

/** `execute-api:Invoke` on the given routes, or on every route of the API when `routes` is `'all'`. */
export function grantRoutes(
  grantee: IGrantable,
  httpApi: HttpApi,
  routes: readonly ApiRoute[] | 'all',
): Grant {
  return Grant.addToPrincipal({
    grantee,
    actions: ['execute-api:Invoke'],
    resourceArns:
      routes === 'all'
        ? [httpApi.arnForExecuteApi('*', '/*')]
        : routes.map((route) => routeArn(httpApi, route)),
  });
}
