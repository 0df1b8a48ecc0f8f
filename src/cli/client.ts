/**
 * A small HTTP client for the admin API, used by the `tickwork` CLI and by end-to-end tests.
 * Against a non-loopback `https` endpoint (API Gateway with IAM auth) it signs every request
 * with SigV4 (service `execute-api`) using the default credential chain.
 */
import { randomUUID } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { AuditEntryView } from '../api/audit-schemas.js';
import type {
  BackfillInput,
  BackfillResult,
  BackfillView,
  Page,
  ReplayAccepted,
  RunAccepted,
  RunLogs,
  RunSummaryView,
  RunView,
  SchedulePreview,
  SchedulerView,
  TaskTypeView,
  TaskView,
} from '../api/schemas.js';
import { type ApiErrorDetail, parseApiResponse } from '../api-response.js';

/** What the admin API answered with an error: status, `code`, message and details. */
export class ApiClientError extends Error {
  override readonly name = 'ApiClientError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
  ) {
    super(message);
  }
}

/** No answer at all from the endpoint: refused, unknown host, TLS failure, reset. */
export class ApiUnreachableError extends Error {
  override readonly name = 'ApiUnreachableError';
  constructor(
    /** The endpoint as given (`--endpoint`, `TICKWORK_ENDPOINT` or the default). */
    readonly endpoint: string,
    cause: unknown,
  ) {
    super(`could not reach the Tickwork API at ${endpoint} (${reasonOf(cause)})`, { cause });
  }
}

/** `ECONNREFUSED`, `ENOTFOUND`…, else the message: why `fetch` got no answer. */
function reasonOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export interface ApiClientOptions {
  /** Base URL, e.g. `http://127.0.0.1:3000` or `https://abc123.execute-api.eu-west-1.amazonaws.com`. */
  endpoint: string;
  /** Region for SigV4; default: from the host name, else `AWS_REGION` / `AWS_DEFAULT_REGION`. */
  region?: string;
  /** Sign requests with SigV4: default for non-loopback https endpoints. */
  sign?: boolean;
  /** A bearer token to send (`TICKWORK_TOKEN`: the one `tickwork dev --host` prints). */
  token?: string;
  credentials?: AwsCredentialIdentityProvider;
  fetch?: typeof fetch;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The region of an `execute-api` host name, if it names one. */
export function regionOfHost(hostname: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/i.exec(hostname)?.[1];
}

export type Query = Record<string, string | number | boolean | undefined>;

/** What the API answers, typed from its own schemas (so a renamed field breaks the build here). */
export type { Page, RunAccepted, RunLogs, RunView, SchedulePreview, SchedulerView, TaskTypeView, TaskView };

/** Every item of a paged list (up to `limit`), fetching page after page. */
export async function allPages<T>(
  fetchPage: (nextToken: string | undefined) => Promise<Page<T>>,
  limit?: number,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    items.push(...page.items);
    token = page.nextToken ?? undefined;
  } while (token !== undefined && (limit === undefined || items.length < limit));
  return limit === undefined ? items : items.slice(0, limit);
}

export class ApiClient {
  /** The endpoint as given, for messages. */
  readonly endpoint: string;
  private readonly base: URL;
  private readonly signer: SignatureV4 | undefined;
  private readonly fetchImpl: typeof fetch;
  private readonly token: string | undefined;

  constructor(options: ApiClientOptions) {
    this.endpoint = options.endpoint;
    this.token = options.token;
    this.base = new URL(options.endpoint);
    this.fetchImpl = options.fetch ?? fetch;
    const sign = options.sign ?? (this.base.protocol === 'https:' && !LOOPBACK.has(this.base.hostname));
    if (sign) {
      const region =
        options.region ??
        regionOfHost(this.base.hostname) ??
        process.env.AWS_REGION ??
        process.env.AWS_DEFAULT_REGION;
      if (!region)
        throw new Error(`cannot tell the AWS region of ${this.base.host}: pass --region or set AWS_REGION`);
      this.signer = new SignatureV4({
        service: 'execute-api',
        region,
        credentials: options.credentials ?? fromNodeProviderChain(),
        sha256: Sha256,
      });
    }
  }

  /** Sends one request; resolves to the parsed JSON body (undefined for 204), throws {@link ApiClientError}. */
  async request<T>(
    method: string,
    path: string,
    options: { query?: Query; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const url = new URL(
      path.replace(/^\//, ''),
      this.base.href.endsWith('/') ? this.base : `${this.base.href}/`,
    );
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v === undefined) continue;
      query[k] = String(v);
      url.searchParams.set(k, String(v));
    }
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    let headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    // Every state-changing request is JSON, body or not: the local runtime refuses others.
    if (body !== undefined || (method !== 'GET' && method !== 'HEAD'))
      headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (this.signer) {
      const signed = await this.signer.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: decodeURIComponent(url.pathname),
        query,
        headers: { ...headers, host: url.host },
        ...(body !== undefined ? { body } : {}),
      });
      headers = Object.fromEntries(
        Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== 'host'),
      );
    }
    let response: Response;
    try {
      response = await this.fetchImpl(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (error) {
      throw new ApiUnreachableError(this.endpoint, error);
    }
    const answer = await parseApiResponse<T>(response);
    if (answer.ok) return answer.body;
    const { status, code, message, details } = answer.refusal;
    throw new ApiClientError(status, code, message, details);
  }

  private task(id: string, rest = ''): string {
    return `/tasks/${encodeURIComponent(id)}${rest}`;
  }

  taskTypes() {
    return this.request<{ items: TaskTypeView[] }>('GET', '/task-types');
  }
  listTasks(query: { limit?: number; nextToken?: string; includeHidden?: boolean } = {}) {
    return this.request<Page<TaskView>>('GET', '/tasks', { query });
  }
  getTask(id: string) {
    return this.request<TaskView>('GET', this.task(id));
  }
  createTask(input: Record<string, unknown>) {
    return this.request<TaskView>('POST', '/tasks', { body: input });
  }
  updateTask(id: string, patch: Record<string, unknown>, ifMatch?: number) {
    return this.request<TaskView>('PATCH', this.task(id), {
      body: patch,
      ...(ifMatch !== undefined ? { headers: { 'if-match': `"${ifMatch}"` } } : {}),
    });
  }
  deleteTask(id: string, options: { force?: boolean } = {}) {
    return this.request<void>('DELETE', this.task(id), {
      query: { force: options.force ? 'true' : undefined },
    });
  }
  /**
   * Run now with one idempotency key for this call, sent again on the retries of a request whose
   * answer was lost (the connection failed, or a 5xx): the API then answers with the run the
   * first attempt started instead of starting a second.
   */
  async runNow(id: string, parameters?: Record<string, unknown>, options: { attempts?: number } = {}) {
    const headers = { 'idempotency-key': randomUUID() };
    const attempts = options.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request<RunAccepted>('POST', this.task(id, '/run'), {
          body: parameters ? { parameters } : {},
          headers,
        });
      } catch (error) {
        const lost =
          error instanceof ApiUnreachableError || (error instanceof ApiClientError && error.status >= 500);
        if (!lost || attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }
  cancel(id: string, runId?: string) {
    return this.request<RunAccepted>('POST', this.task(id, '/cancel'), {
      body: runId ? { runId } : {},
    });
  }
  listRuns(id: string, query: { limit?: number; nextToken?: string } = {}) {
    return this.request<Page<RunView>>('GET', this.task(id, '/runs'), { query });
  }
  getRun(id: string, runId: string) {
    return this.request<RunView>('GET', this.task(id, `/runs/${encodeURIComponent(runId)}`));
  }
  getRunLogs(id: string, runId: string) {
    return this.request<RunLogs>('GET', this.task(id, `/runs/${encodeURIComponent(runId)}/logs`));
  }
  /** Runs of every task (`GET /runs`); `status` comma-separated. */
  listAllRuns(
    query: {
      status?: string;
      type?: string;
      trigger?: string;
      taskId?: string;
      from?: string;
      to?: string;
      limit?: number;
      nextToken?: string;
    } = {},
  ) {
    return this.request<Page<RunSummaryView>>('GET', '/runs', { query });
  }
  replay(id: string, runId: string) {
    return this.request<ReplayAccepted>('POST', this.task(id, `/runs/${encodeURIComponent(runId)}/replay`), {
      body: {},
    });
  }
  backfill(id: string, input: BackfillInput) {
    return this.request<BackfillResult>('POST', this.task(id, '/backfill'), { body: input });
  }
  backfills() {
    return this.request<{ items: BackfillView[] }>('GET', '/backfills');
  }
  scheduler() {
    return this.request<SchedulerView>('GET', '/scheduler');
  }
  pause() {
    return this.request<SchedulerView>('POST', '/scheduler/pause');
  }
  resume() {
    return this.request<SchedulerView>('POST', '/scheduler/resume');
  }
  audit(query: { taskId?: string | undefined; limit?: number; nextToken?: string | undefined } = {}) {
    return this.request<Page<AuditEntryView>>('GET', '/audit', { query });
  }
  preview(query: { schedule: string; timezone?: string; count?: number; from?: string }) {
    return this.request<SchedulePreview>('GET', '/schedule-preview', { query });
  }
}
