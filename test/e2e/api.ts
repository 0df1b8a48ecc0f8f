/** Typed calls of the Tickwork API for the end-to-end suite (HTTP only, through a {@link Target}). */
import { ulid } from 'ulid';
import { waitFor } from '../support/wait.js';
import type { Target } from './target.js';

/** The run view fields the suite reads. */
export interface Run {
  runId: string;
  taskId: string;
  status: string;
  trigger: string;
  attempt: number;
  scheduledFor: string;
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  result: string | null;
  error: { name: string; message: string } | null;
  progress: { value: number; max: number | null; percent: number | null; message: string | null } | null;
  slotCount: number | null;
  logs: string | null;
}

/** The task view fields the suite reads. */
export interface Task {
  id: string;
  enabled: boolean;
  version: number;
  currentRun: Run | null;
  disabledReason?: string | null;
}

/** A unique task id for one test (tests share a runtime, and two runtimes a table). */
export const taskId = (name: string) => `e2e-${name}-${ulid().toLowerCase()}`;

function expectStatus<T>(answer: { status: number; body: unknown }, status: number, what: string): T {
  if (answer.status !== status) {
    throw new Error(`${what}: expected HTTP ${status}, got ${answer.status}: ${JSON.stringify(answer.body)}`);
  }
  return answer.body as T;
}

/** The API calls the suite makes. */
export function apiOf(target: Target) {
  return {
    async createTask(input: Record<string, unknown>): Promise<Task> {
      return expectStatus(await target.request('POST', '/tasks', input), 201, `create ${String(input.id)}`);
    },
    async getTask(id: string): Promise<Task> {
      return expectStatus(await target.request('GET', `/tasks/${id}`), 200, `get ${id}`);
    },
    async patchTask(id: string, patch: Record<string, unknown>): Promise<Task> {
      return expectStatus(await target.request('PATCH', `/tasks/${id}`, patch), 200, `patch ${id}`);
    },
    async runNow(
      id: string,
      parameters?: Record<string, unknown>,
    ): Promise<{ runId: string; status: string }> {
      return expectStatus(
        await target.request('POST', `/tasks/${id}/run`, parameters ? { parameters } : {}),
        202,
        `run ${id}`,
      );
    },
    async cancel(id: string): Promise<{ runId: string; status: string }> {
      return expectStatus(await target.request('POST', `/tasks/${id}/cancel`, {}), 202, `cancel ${id}`);
    },
    async runs(id: string): Promise<Run[]> {
      const page = expectStatus<{ items: Run[] }>(
        await target.request('GET', `/tasks/${id}/runs?limit=100`),
        200,
        `runs of ${id}`,
      );
      return page.items;
    },
    async run(id: string, runId: string): Promise<Run> {
      return expectStatus(await target.request('GET', `/tasks/${id}/runs/${runId}`), 200, `run ${runId}`);
    },
    async logs(
      id: string,
      runId: string,
    ): Promise<{ lines: { message: string }[] | null; url: string | null }> {
      return expectStatus(
        await target.request('GET', `/tasks/${id}/runs/${runId}/logs`),
        200,
        `logs of ${runId}`,
      );
    },
    async scheduler(): Promise<{ state: string; lastTickAt: string | null }> {
      return expectStatus(await target.request('GET', '/scheduler'), 200, 'scheduler');
    },
    async pause(): Promise<void> {
      expectStatus(await target.request('POST', '/scheduler/pause'), 200, 'pause');
    },
    async resume(): Promise<void> {
      expectStatus(await target.request('POST', '/scheduler/resume'), 200, 'resume');
    },
    /** Waits until the run satisfies `accept`, and returns it. */
    async waitForRun(
      id: string,
      runId: string,
      accept: (run: Run) => boolean,
      timeoutMs: number,
      what: string,
    ) {
      return waitFor(
        async () => {
          const run = await this.run(id, runId);
          return accept(run) ? run : undefined;
        },
        timeoutMs,
        { intervalMs: 100, what },
      );
    },
  };
}

export type Api = ReturnType<typeof apiOf>;

/** Runs that actually started (not skipped, missed or never claimed). */
export const started = (runs: Run[]) => runs.filter((r) => r.startedAt !== null);
