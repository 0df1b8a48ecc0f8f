/** Typed calls of the Tickwork API for the end-to-end suite (HTTP only, through a {@link Target}). */
import { ulid } from 'ulid';
import type { z } from 'zod';
import type {
  LogsSchema,
  RunAcceptedSchema,
  RunView,
  SchedulerViewSchema,
  TaskView,
} from '../../src/api/schemas.js';
import { waitFor } from '../support/wait.js';
import type { Target } from './target.js';

/** A run as the API shows it. */
export type Run = RunView;
/** A task as the API shows it. */
export type Task = TaskView;
type RunAccepted = z.infer<typeof RunAcceptedSchema>;
type SchedulerView = z.infer<typeof SchedulerViewSchema>;
type RunLogs = z.infer<typeof LogsSchema>;

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
    async runNow(id: string, parameters?: Record<string, unknown>): Promise<RunAccepted> {
      return expectStatus(
        await target.request('POST', `/tasks/${id}/run`, parameters ? { parameters } : {}),
        202,
        `run ${id}`,
      );
    },
    async cancel(id: string): Promise<RunAccepted> {
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
    async logs(id: string, runId: string): Promise<RunLogs> {
      return expectStatus(
        await target.request('GET', `/tasks/${id}/runs/${runId}/logs`),
        200,
        `logs of ${runId}`,
      );
    },
    async scheduler(): Promise<SchedulerView> {
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
