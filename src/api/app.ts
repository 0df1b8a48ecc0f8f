/**
 * The admin API (DESIGN section 5) as one Hono app: served by `hono/aws-lambda` on AWS and by
 * `@hono/node-server` in the local runtime. Errors become responses in exactly one place
 * (`onError`, fed by the validation hook and the body gate).
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { applyTasks } from './apply.js';
import { listAudit } from './audit.js';

import { listBackfills, startBackfill } from './backfill.js';
import { bodyGate } from './body.js';
import { dashboardLoginConfig, withLoginPolicy } from './dashboard-login.js';
import type { ApiDeps } from './deps.js';
import { ApiError, type ErrorCode, errorCodes, issuesOf, toErrorResponse } from './errors.js';
import { localActor, requestCaller, roleGuard } from './roles.js';
import { routes, routeTable } from './routes.js';
import { listRunsAcross, replayRun } from './runs.js';
import * as service from './task-service.js';

/** The `info` and `servers` of the OpenAPI document. */
export const openApiConfig = {
  openapi: '3.1.0',
  info: {
    title: 'Tickwork admin API',
    version: '1',
    description:
      'Manage scheduled tasks, runs and the scheduler. JSON in and out; times are ISO 8601 UTC. ' +
      'Errors are `{"error": {"code", "message", "details": [{field, message}]}}`.',
  },
};

const placeholderPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tickwork</title></head>
<body><h1>Tickwork</h1><p>The dashboard is not installed. The API is described at <a href="/openapi.json">/openapi.json</a>.</p></body></html>`;

const templates = routeTable.map((r) => ({
  method: r.method,
  pattern: new RegExp(`^${r.path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
}));

function errorJson(c: Context, error: unknown, deps: Pick<ApiDeps, 'logger'>): Response {
  let mapped = toErrorResponse(error);
  if (error instanceof HTTPException && error.status < 500) {
    const byStatus: Partial<Record<number, ErrorCode>> = {
      400: 'invalid_json',
      413: 'payload_too_large',
      415: 'unsupported_media_type',
      404: 'route_not_found',
      405: 'method_not_allowed',
    };
    const code = byStatus[error.status] ?? 'validation_failed';
    mapped = toErrorResponse(new ApiError(code, error.message || code));
  }
  if (!mapped.expected) {
    const e = error instanceof Error ? error : new Error(String(error));
    if (deps.logger)
      deps.logger.error('request failed', { name: e.name, message: e.message, stack: e.stack });
    else console.error('tickwork api: request failed', e);
  }
  // A refused body may be partly unread: close the connection rather than let a client reuse it.
  if (mapped.status === 413) c.header('Connection', 'close');
  return c.json(mapped.body, mapped.status as 400);
}

/**
 * Builds the admin API. Reads nothing from `deps` until a request comes, so the docs generator
 * can build it with stand-in deps.
 *
 * Long because: it is the API's wiring table (hooks, CORS, body gate, then each route bound to its
 * service call), read top to bottom; each entry is a line or two.
 *
 * @example
 * const app = createApp(deps);
 * serve({ fetch: app.fetch, port: 3000, hostname: '127.0.0.1' }); // @hono/node-server
 */
export function createApp(deps: ApiDeps): OpenAPIHono {
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (result.success) return;
      const prefix =
        result.target === 'json' ? undefined : result.target === 'param' ? 'path' : result.target;
      throw new ApiError('validation_failed', 'the request is invalid', issuesOf(result.error, prefix));
    },
  });

  app.onError((error, c) => errorJson(c, error, deps));
  app.notFound((c) => {
    const path = c.req.path;
    const allowed = templates.filter((t) => t.pattern.test(path)).map((t) => t.method);
    if (allowed.length > 0) {
      c.header('Allow', [...new Set(allowed)].join(', '));
      return errorJson(
        c,
        new ApiError('method_not_allowed', `${c.req.method} is not allowed on ${path.slice(0, 200)}`),
        deps,
      );
    }
    return errorJson(
      c,
      new ApiError('route_not_found', `no route ${c.req.method} ${path.slice(0, 200)}`),
      deps,
    );
  });

  if (deps.corsOrigin) {
    app.use(
      '*',
      cors({
        origin: deps.corsOrigin,
        allowHeaders: ['Content-Type', 'If-Match', 'Authorization', 'X-Amz-Date', 'X-Amz-Security-Token'],
        allowMethods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
        exposeHeaders: ['ETag'],
      }),
    );
  }
  app.use('*', roleGuard(deps.access ?? { mode: 'local', actor: localActor }));
  app.use('*', bodyGate);
  const actor = (c: Context) => requestCaller(c).actor;

  app.openapi(routes.listTaskTypes, async (c) => c.json(await service.listTaskTypes(deps), 200));
  app.openapi(routes.listTasks, async (c) => {
    const q = c.req.valid('query');
    return c.json(
      await service.listTasks(deps, {
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.nextToken !== undefined ? { nextToken: q.nextToken } : {}),
        includeHidden: q.includeHidden === 'true',
      }),
      200,
    );
  });
  app.openapi(routes.createTask, async (c) => {
    const task = await service.createTask(deps, c.req.valid('json'), { actor: actor(c) });
    c.header('Location', `/tasks/${encodeURIComponent(task.id)}`);
    c.header('ETag', `"${task.version}"`);
    return c.json(task, 201);
  });
  app.openapi(routes.applyTasks, async (c) => {
    const { tasks, dryRun } = c.req.valid('json');
    return c.json(
      await applyTasks(deps, tasks, { source: 'http', dryRun: dryRun === true, actor: actor(c) }),
      200,
    );
  });
  app.openapi(routes.getTask, async (c) => {
    const task = await service.getTask(deps, c.req.valid('param').id);
    c.header('ETag', `"${task.version}"`);
    return c.json(task, 200);
  });
  app.openapi(routes.updateTask, async (c) => {
    const ifMatch = service.parseIfMatch(c.req.valid('header')['if-match']);
    const task = await service.updateTask(deps, c.req.valid('param').id, c.req.valid('json'), ifMatch, {
      actor: actor(c),
    });
    c.header('ETag', `"${task.version}"`);
    return c.json(task, 200);
  });
  app.openapi(routes.deleteTask, async (c) => {
    await service.deleteTask(deps, c.req.valid('param').id, {
      force: c.req.valid('query').force === 'true',
      ifMatch: service.parseIfMatch(c.req.valid('header')['if-match']),
      actor: actor(c),
    });
    return c.body(null, 204);
  });
  app.openapi(routes.runNow, async (c) => {
    const { parameters } = c.req.valid('json');
    const idempotencyKey = c.req.valid('header')['idempotency-key'];
    const accepted = await service.runNow(deps, c.req.valid('param').id, parameters, {
      idempotencyKey,
      actor: actor(c),
    });
    if (accepted.replayed) c.header('idempotent-replayed', 'true');
    return c.json({ runId: accepted.runId, status: accepted.status }, 202);
  });
  app.openapi(routes.cancelRun, async (c) => {
    const { runId } = c.req.valid('json');
    return c.json(await service.cancelRun(deps, c.req.valid('param').id, runId, { actor: actor(c) }), 202);
  });
  app.openapi(routes.listRuns, async (c) => {
    const q = c.req.valid('query');
    return c.json(
      await service.listRuns(deps, c.req.valid('param').id, {
        ...(q.limit !== undefined ? { limit: q.limit } : {}),
        ...(q.nextToken !== undefined ? { nextToken: q.nextToken } : {}),
      }),
      200,
    );
  });
  app.openapi(routes.getRun, async (c) => {
    const { id, runId } = c.req.valid('param');
    return c.json(await service.getRun(deps, id, runId), 200);
  });
  app.openapi(routes.getRunLogs, async (c) => {
    const { id, runId } = c.req.valid('param');
    return c.json(await service.getRunLogs(deps, id, runId), 200);
  });
  app.openapi(routes.listAllRuns, async (c) => c.json(await listRunsAcross(deps, c.req.valid('query')), 200));
  app.openapi(routes.replayRun, async (c) => {
    const { id, runId } = c.req.valid('param');
    return c.json(await replayRun(deps, id, runId, { actor: actor(c) }), 202);
  });
  app.openapi(routes.backfill, async (c) => {
    const result = await startBackfill(deps, c.req.valid('param').id, c.req.valid('json'), {
      actor: actor(c),
    });
    return result.dryRun ? c.json(result, 200) : c.json(result, 202);
  });
  app.openapi(routes.listBackfills, async (c) => c.json(await listBackfills(deps), 200));
  app.openapi(routes.getScheduler, async (c) => c.json(await service.schedulerView(deps), 200));
  app.openapi(routes.pauseScheduler, async (c) =>
    c.json(await service.setPaused(deps, true, { actor: actor(c) }), 200),
  );
  app.openapi(routes.resumeScheduler, async (c) =>
    c.json(await service.setPaused(deps, false, { actor: actor(c) }), 200),
  );
  app.openapi(routes.listAudit, async (c) => c.json(await listAudit(deps, c.req.valid('query')), 200));
  app.openapi(routes.previewSchedule, (c) =>
    c.json(service.previewSchedule(deps, c.req.valid('query')), 200),
  );

  app.doc31('/openapi.json', openApiConfig);
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/',
    tags: ['dashboard'],
    summary: 'The admin dashboard (HTML)',
    responses: {
      200: { description: 'The dashboard page', content: { 'text/html': { schema: { type: 'string' } } } },
    },
  });
  app.openapi(routes.dashboardConfig, async (c) =>
    c.json(
      { login: deps.dashboardLogin ? await dashboardLoginConfig(deps.dashboardLogin, c.req.url) : null },
      200,
    ),
  );
  app.get('/', async (c) =>
    deps.dashboard ? withLoginPolicy(await deps.dashboard(c), deps.dashboardLogin) : c.html(placeholderPage),
  );
  return app;
}

/** Every error code with its status and meaning (for docs and clients). */
export { errorCodes };
