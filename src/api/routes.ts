/**
 * The admin API's routes as OpenAPI route configs: methods, paths, parameters, bodies and
 * responses, all from the zod schemas. `app.ts` binds handlers to them; the docs generator reads
 * the document they produce.
 */
import { createRoute, type z } from '@hono/zod-openapi';
import { AuditPageSchema, ListAuditQuery } from './audit-schemas.js';
import { type ErrorCode, errorCodes } from './errors.js';
import {
  ApplyInputSchema,
  ApplyResultSchema,
  BackfillInputSchema,
  BackfillListSchema,
  BackfillResultSchema,
  CancelInputSchema,
  DashboardConfigSchema,
  DeleteQuery,
  ErrorSchema,
  IdempotencyHeaders,
  IfMatchHeaders,
  ListAllRunsQuery,
  ListRunsQuery,
  ListTasksQuery,
  LogsSchema,
  PreviewQuery,
  PreviewSchema,
  ReplayAcceptedSchema,
  RunAcceptedSchema,
  RunIdParams,
  RunNowInputSchema,
  RunPageSchema,
  RunSummaryPageSchema,
  RunViewSchema,
  SchedulerViewSchema,
  TaskIdParams,
  TaskInputSchema,
  TaskPageSchema,
  TaskPatchSchema,
  TaskTypeListSchema,
  TaskViewSchema,
} from './schemas.js';

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

const statusText: Record<number, string> = {
  400: 'Refused',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Too large',
  415: 'Not JSON',
  503: 'Unavailable',
};

/** Error responses of a route, grouped by status, each listing the codes that produce it. */
function errors(...codes: ErrorCode[]) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorCodes[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<number, ReturnType<typeof json<typeof ErrorSchema>>> = {};
  for (const [status, list] of [...byStatus].sort((a, b) => a[0] - b[0])) {
    out[status] = json(ErrorSchema, `${statusText[status]}: ${list.map((c) => `\`${c}\``).join(', ')}`);
  }
  return out;
}

/** Codes every route with a JSON body can answer. */
const bodyErrors: ErrorCode[] = [
  'validation_failed',
  'invalid_json',
  'payload_too_large',
  'unsupported_media_type',
];

const body = <T extends z.ZodType>(schema: T, required: boolean) => ({
  required,
  content: { 'application/json': { schema } },
});

export const routes = {
  listTaskTypes: createRoute({
    method: 'get',
    path: '/task-types',
    tags: ['task types'],
    summary: 'Registered task types, with the JSON Schema of their parameters',
    responses: { 200: json(TaskTypeListSchema, 'The registered types, by name') },
  }),
  listTasks: createRoute({
    method: 'get',
    path: '/tasks',
    tags: ['tasks'],
    summary: 'List tasks (paginated; hidden ones only with includeHidden=true)',
    request: { query: ListTasksQuery },
    responses: { 200: json(TaskPageSchema, 'One page of tasks'), ...errors('validation_failed') },
  }),
  createTask: createRoute({
    method: 'post',
    path: '/tasks',
    tags: ['tasks'],
    summary: 'Create a task',
    description:
      "`parameters` are checked against the type's `parametersSchema` (`GET /task-types`) when it has one; a field that does not fit is a 400 `validation_failed` naming it.",
    request: { body: body(TaskInputSchema, true) },
    responses: {
      201: json(TaskViewSchema, 'The task as created'),
      ...errors(...bodyErrors, 'invalid_schedule', 'unknown_task_type', 'task_read_only', 'conflict'),
    },
  }),
  applyTasks: createRoute({
    method: 'post',
    path: '/tasks/apply',
    tags: ['tasks'],
    summary: 'Apply task declarations (tasks as code): create the absent, set the given fields of the others',
    description:
      'Each declaration is validated as `POST /tasks` validates a task. An absent task is created; a present one gets the fields the declaration gives, ' +
      'and keeps the others (an edit of a field no declaration sets survives). The answer lists, per task, `created`, `updated` (each changed field from → to) or `unchanged`. ' +
      'Every declaration is checked before anything is written, so a refused one changes nothing; `dryRun: true` writes nothing at all. ' +
      'System tasks cannot be changed, and `system` cannot be set, through the API (403 `task_read_only`). See docs/tasks-as-code.md.',
    request: { body: body(ApplyInputSchema, true) },
    responses: {
      200: json(ApplyResultSchema, 'What was (or, in a dry run, would be) done to each task'),
      ...errors(...bodyErrors, 'invalid_schedule', 'unknown_task_type', 'task_read_only', 'conflict'),
    },
  }),
  getTask: createRoute({
    method: 'get',
    path: '/tasks/{id}',
    tags: ['tasks'],
    summary: 'One task, with its current run, progress and next five slots',
    request: { params: TaskIdParams },
    responses: { 200: json(TaskViewSchema, 'The task'), ...errors('task_not_found') },
  }),
  updateTask: createRoute({
    method: 'patch',
    path: '/tasks/{id}',
    tags: ['tasks'],
    summary: 'Update a task (only the fields given; If-Match: version optional)',
    request: { params: TaskIdParams, headers: IfMatchHeaders, body: body(TaskPatchSchema, true) },
    responses: {
      200: json(TaskViewSchema, 'The task as updated'),
      ...errors(
        ...bodyErrors,
        'invalid_schedule',
        'unknown_task_type',
        'task_read_only',
        'task_not_found',
        'version_conflict',
        'conflict',
      ),
    },
  }),
  deleteTask: createRoute({
    method: 'delete',
    path: '/tasks/{id}',
    tags: ['tasks'],
    summary: 'Delete a task and its history (409 while a run is active unless force=true)',
    request: { params: TaskIdParams, query: DeleteQuery, headers: IfMatchHeaders },
    responses: {
      204: { description: 'Deleted' },
      ...errors(
        'validation_failed',
        'task_read_only',
        'task_not_found',
        'run_active',
        'version_conflict',
        'conflict',
      ),
    },
  }),
  runNow: createRoute({
    method: 'post',
    path: '/tasks/{id}/run',
    tags: ['runs'],
    summary: 'Run now (also for disabled and system tasks)',
    description:
      "Records a manual run (parameters merged over the task's, then checked against the type's schema) and dispatches it at once through the tick's lease path. " +
      'The overlap policy applies: under `skip` and `queue-one` a manual run waits for the running one to end. ' +
      'If the dispatch fails the next tick starts it.',
    request: { params: TaskIdParams, headers: IdempotencyHeaders, body: body(RunNowInputSchema, false) },
    responses: {
      202: json(RunAcceptedSchema, 'The run was recorded (or, for a known idempotency key, the first run)'),
      ...errors(...bodyErrors, 'task_not_found', 'conflict'),
    },
  }),
  cancelRun: createRoute({
    method: 'post',
    path: '/tasks/{id}/cancel',
    tags: ['runs'],
    summary: 'Cancel the active run (else the next queued one)',
    request: { params: TaskIdParams, body: body(CancelInputSchema, false) },
    responses: {
      202: json(RunAcceptedSchema, 'Cancellation requested'),
      ...errors(...bodyErrors, 'task_not_found', 'run_not_found', 'nothing_running'),
    },
  }),
  listRuns: createRoute({
    method: 'get',
    path: '/tasks/{id}/runs',
    tags: ['runs'],
    summary: 'Run history, newest first (the first page also shows queued and unclaimed runs)',
    request: { params: TaskIdParams, query: ListRunsQuery },
    responses: {
      200: json(RunPageSchema, 'One page of runs'),
      ...errors('validation_failed', 'task_not_found'),
    },
  }),
  getRun: createRoute({
    method: 'get',
    path: '/tasks/{id}/runs/{runId}',
    tags: ['runs'],
    summary: 'One run, with progress',
    request: { params: RunIdParams },
    responses: { 200: json(RunViewSchema, 'The run'), ...errors('task_not_found', 'run_not_found') },
  }),
  getRunLogs: createRoute({
    method: 'get',
    path: '/tasks/{id}/runs/{runId}/logs',
    tags: ['runs'],
    summary: "A run's log lines (local runtime) or a link to them (AWS)",
    request: { params: RunIdParams },
    responses: {
      200: json(LogsSchema, 'Lines, or a url'),
      ...errors('task_not_found', 'run_not_found', 'logs_not_found'),
    },
  }),
  listAllRuns: createRoute({
    method: 'get',
    path: '/runs',
    tags: ['runs'],
    summary: 'Runs of every task, newest first, filtered by state, type, trigger, task and time',
    description:
      'Served by the run index (docs/architecture.md): each page reads a bounded number of index items, whatever the size of the history. ' +
      'States are key conditions (a rare state reads only its own runs); `type`, `trigger` and `taskId` are filters, so a page can hold fewer than `limit` runs, even none, and still have a `nextToken`. ' +
      '`from` and `to` bound when the run was created (its id). Runs not yet claimed (queued, dispatched) are listed per task only.',
    request: { query: ListAllRunsQuery },
    responses: { 200: json(RunSummaryPageSchema, 'One page of runs'), ...errors('validation_failed') },
  }),
  replayRun: createRoute({
    method: 'post',
    path: '/tasks/{id}/runs/{runId}/replay',
    tags: ['runs'],
    summary: "Replay a run: a new run with the original's parameters and slot (`trigger: replay`)",
    description:
      "The new run keeps the original's `scheduledFor`, so its idempotency key, and names the original in `replayOf`. " +
      "A skipped or missed slot runs with the task's parameters. The parameters are checked against the type's schema as it is now. " +
      'It is queued like a run-now: the overlap policy applies.',
    request: { params: RunIdParams },
    responses: {
      202: json(ReplayAcceptedSchema, 'The new run'),
      ...errors('validation_failed', 'task_not_found', 'run_not_found', 'conflict'),
    },
  }),
  backfill: createRoute({
    method: 'post',
    path: '/tasks/{id}/backfill',
    tags: ['runs'],
    summary: "Backfill a past range: one run per slot of the task's schedule (`trigger: backfill`)",
    description:
      "Each run's `scheduledFor` is its slot, so its idempotency key is the slot's. At most `concurrency` run at once (a task whose overlap policy is not `allow` runs one at a time); the tick queues the next as they finish. " +
      '`dryRun: true` lists the slots and queues nothing. At most 1000 slots; `to` must not be in the future.',
    request: { params: TaskIdParams, body: body(BackfillInputSchema, true) },
    responses: {
      200: json(BackfillResultSchema, 'Dry run: the slots'),
      202: json(BackfillResultSchema, 'The backfill started; its slots'),
      ...errors(...bodyErrors, 'task_not_found'),
    },
  }),
  listBackfills: createRoute({
    method: 'get',
    path: '/backfills',
    tags: ['runs'],
    summary: 'Backfills still queueing slots',
    responses: { 200: json(BackfillListSchema, 'Backfills in progress, oldest first') },
  }),
  getScheduler: createRoute({
    method: 'get',
    path: '/scheduler',
    tags: ['scheduler'],
    summary: "The scheduler's state and its last tick",
    responses: { 200: json(SchedulerViewSchema, 'State') },
  }),
  pauseScheduler: createRoute({
    method: 'post',
    path: '/scheduler/pause',
    tags: ['scheduler'],
    summary: 'Pause the whole scheduler (the tick stops; manual runs still work)',
    responses: { 200: json(SchedulerViewSchema, 'State after pausing'), ...errors(...bodyErrors) },
  }),
  resumeScheduler: createRoute({
    method: 'post',
    path: '/scheduler/resume',
    tags: ['scheduler'],
    summary: 'Resume the scheduler (missed slots follow each task’s catch-up policy)',
    responses: { 200: json(SchedulerViewSchema, 'State after resuming'), ...errors(...bodyErrors) },
  }),
  previewSchedule: createRoute({
    method: 'get',
    path: '/schedule-preview',
    tags: ['schedules'],
    summary: 'Next slots of a schedule and a plain-English description (validated as on create)',
    request: { query: PreviewQuery },
    responses: {
      200: json(PreviewSchema, 'Slots and description'),
      ...errors('validation_failed', 'invalid_schedule'),
    },
  }),
  listAudit: createRoute({
    method: 'get',
    path: '/audit',
    tags: ['audit'],
    summary:
      'The audit trail, newest first: who created, edited, deleted, ran, replayed, backfilled, cancelled, paused or resumed what',
    description:
      "Every administrative action, recorded in the same write as the change (see docs/security.md). `taskId` keeps one task's entries, also of a deleted task. Needs the `read` role.",
    request: { query: ListAuditQuery },
    responses: { 200: json(AuditPageSchema, 'One page of entries'), ...errors('validation_failed') },
  }),
  dashboardConfig: createRoute({
    method: 'get',
    path: '/dashboard-config',
    tags: ['dashboard'],
    summary: "The dashboard's sign-in settings (public; open without a token, as `GET /` is)",
    description:
      'With the JWT authorizer and a dashboard client configured, the OIDC provider and public client the page signs in with (authorization code with PKCE); otherwise `login: null`. ' +
      "The provider's endpoints come from its discovery document, read by the API (503 `unavailable` when it cannot be read).",
    responses: { 200: json(DashboardConfigSchema, 'The sign-in settings'), ...errors('unavailable') },
  }),
};

/** Every route's method and path template, for 405 answers and the docs. */
export const routeTable: { method: string; path: string }[] = [
  ...Object.values(routes).map((r) => ({ method: r.method.toUpperCase(), path: r.path })),
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/' },
];
