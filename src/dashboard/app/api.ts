/**
 * The dashboard's API client: same-origin relative URLs only, JSON in and out, the bearer token
 * (JWT authorizer on AWS) from sessionStorage, and every refusal turned into an {@link ApiFailure}
 * that carries the API's own `error.message`, so no action ever fails silently.
 */
import type {
  AuditEntryView,
  BackfillInput,
  BackfillResult,
  BackfillView,
  Page,
  ReplayAccepted,
  RunLogs,
  RunSummaryView,
  RunView,
  SchedulePreview,
  SchedulerView,
  TaskInput,
  TaskPatch,
  TaskTypeView,
  TaskView,
} from '../../api/schemas.js';
import { type ApiRefusal, parseApiResponse } from '../../api-response.js';

export type {
  AuditEntryView,
  BackfillResult,
  BackfillView,
  Page,
  ReplayAccepted,
  RunLogs,
  RunSummaryView,
  RunView,
  SchedulePreview,
  SchedulerView,
  TaskInput,
  TaskPatch,
  TaskTypeView,
  TaskView,
};

/** A refused or failed request, with the message to show the user. */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'tickwork.token';

/** The bearer token kept for this browser tab (sessionStorage: gone when the tab closes). */
export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

/**
 * Takes a token handed over in the page's address (`#token=…`, the link `tickwork dev --host`
 * prints), keeps it for this tab and removes it from the address bar and history.
 */
export function adoptTokenFromUrl(): void {
  const token = /(?:^#|&)token=([^&]+)/.exec(location.hash)?.[1];
  if (token === undefined) return;
  setToken(decodeURIComponent(token));
  history.replaceState(null, '', `${location.pathname}${location.search}`);
}

/** Stores (or, when empty, removes) the bearer token for this tab. */
export function setToken(token: string): void {
  try {
    if (token.trim() === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token.trim());
  } catch {
    // storage disabled: the token lives as long as nothing reads it back
  }
}

/** Where requests get their bearer token when the page signs in through OIDC (`auth-session.ts`). */
export interface BearerSource {
  /** The current access token (renewed first when it has expired). */
  token(): Promise<string>;
  /** The API answered 401: renew the token; true to send the request once more. */
  unauthorized(): Promise<boolean>;
  /** Added to the message of a 401/403 that did not come from the API. */
  hint: string;
}

let bearer: BearerSource | undefined;

/** Takes every request's token from `source` instead of the pasted one. */
export function useBearer(source: BearerSource): void {
  bearer = source;
}

const enc = encodeURIComponent;

async function request<T>(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string> } = {},
  retried = false,
): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const token = bearer ? await bearer.token() : getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  // Every state-changing request is JSON, body or not: the local runtime refuses others.
  if (options.body !== undefined || method !== 'GET') headers['content-type'] = 'application/json';
  if (options.body !== undefined) body = JSON.stringify(options.body);
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store' });
  } catch (error) {
    throw new ApiFailure(
      `Cannot reach the API (${error instanceof Error ? error.message : String(error)})`,
      0,
      'network',
    );
  }
  const answer = await parseApiResponse<T>(response);
  if (answer.ok) return answer.body;
  if (answer.refusal.status === 401 && bearer && !retried && (await bearer.unauthorized())) {
    return request<T>(method, path, options, true);
  }
  throw failureOf(answer.refusal);
}

/** The refusal as an {@link ApiFailure}; a 401/403 that did not come from the API hints at the token. */
function failureOf({ status, code, message, details }: ApiRefusal): ApiFailure {
  const hint =
    code.startsWith('http_') && (status === 401 || status === 403)
      ? (bearer?.hint ?? ` (HTTP ${status}: set an API token with the "API token" button)`)
      : '';
  return new ApiFailure(`${message}${hint}`, status, code, details);
}

/** The admin API, as the dashboard uses it. */
export const api = {
  async listTasks(includeHidden: boolean): Promise<TaskView[]> {
    const items: TaskView[] = [];
    let nextToken: string | null = null;
    // Up to 20 pages of 100: far beyond what one page of a dashboard can show usefully.
    for (let page = 0; page < 20; page++) {
      const query = new URLSearchParams({ limit: '100' });
      if (includeHidden) query.set('includeHidden', 'true');
      if (nextToken) query.set('nextToken', nextToken);
      const result: Page<TaskView> = await request('GET', `tasks?${query}`);
      items.push(...result.items);
      nextToken = result.nextToken;
      if (!nextToken) break;
    }
    return items;
  },
  getTask: (id: string) => request<TaskView>('GET', `tasks/${enc(id)}`),
  createTask: (input: TaskInput) => request<TaskView>('POST', 'tasks', { body: input }),
  updateTask: (id: string, patch: TaskPatch, version?: number) =>
    request<TaskView>('PATCH', `tasks/${enc(id)}`, {
      body: patch,
      headers: version === undefined ? {} : { 'if-match': `"${version}"` },
    }),
  deleteTask: (id: string, force: boolean) =>
    request<void>('DELETE', `tasks/${enc(id)}${force ? '?force=true' : ''}`),
  runNow: (id: string, parameters?: Record<string, unknown>) =>
    request<{ runId: string; status: string }>('POST', `tasks/${enc(id)}/run`, {
      body: parameters === undefined ? {} : { parameters },
    }),
  cancel: (id: string, runId?: string) =>
    request<{ runId: string; status: string }>('POST', `tasks/${enc(id)}/cancel`, {
      body: runId === undefined ? {} : { runId },
    }),
  listRuns: (id: string, nextToken?: string | null) => {
    const query = new URLSearchParams({ limit: '25' });
    if (nextToken) query.set('nextToken', nextToken);
    return request<Page<RunView>>('GET', `tasks/${enc(id)}/runs?${query}`);
  },
  /** Runs of every task (`GET /runs`), filtered by the query (status, trigger, type, taskId, from). */
  listAllRuns: (query: URLSearchParams) => request<Page<RunSummaryView>>('GET', `runs?${query}`),
  getRun: (id: string, runId: string) => request<RunView>('GET', `tasks/${enc(id)}/runs/${enc(runId)}`),
  replay: (id: string, runId: string) =>
    request<ReplayAccepted>('POST', `tasks/${enc(id)}/runs/${enc(runId)}/replay`, { body: {} }),
  backfill: (id: string, input: BackfillInput) =>
    request<BackfillResult>('POST', `tasks/${enc(id)}/backfill`, { body: input }),
  backfills: () => request<{ items: BackfillView[] }>('GET', 'backfills'),
  runLogs: (id: string, runId: string) => request<RunLogs>('GET', `tasks/${enc(id)}/runs/${enc(runId)}/logs`),
  /** The audit trail, newest first: all of it, or one task's. */
  audit: (taskId?: string, nextToken?: string | null) => {
    const query = new URLSearchParams({ limit: '50' });
    if (taskId) query.set('taskId', taskId);
    if (nextToken) query.set('nextToken', nextToken);
    return request<Page<AuditEntryView>>('GET', `audit?${query}`);
  },
  taskTypes: () => request<{ items: TaskTypeView[] }>('GET', 'task-types'),
  scheduler: () => request<SchedulerView>('GET', 'scheduler'),
  pause: () => request<SchedulerView>('POST', 'scheduler/pause'),
  resume: () => request<SchedulerView>('POST', 'scheduler/resume'),
  preview: (schedule: string, timezone: string) => {
    const query = new URLSearchParams({ schedule, timezone, count: '5' });
    return request<SchedulePreview>('GET', `schedule-preview?${query}`);
  },
};

/** The message to show for anything thrown by an action. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiFailure) {
    const details = error.details
      .filter((d) => !error.message.includes(d.message))
      .map((d) => `${d.field}: ${d.message}`)
      .join('; ');
    return details ? `${error.message} (${details})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
