import type { Context } from 'hono';
import type { Clock, SchedulerControl, TaskStore } from '../core/ports.js';
import type { TickDeps } from '../tick/dispatch.js';
import type { TaskTypeRegistry } from '../tick/registry.js';

/** One log line of a run, as the local runtime keeps them. */
export interface RunLogLine {
  at: string;
  level?: string;
  message: string;
}

/** Where the API reads a run's logs: lines (locally) or a link (CloudWatch on AWS). */
export interface RunLogReader {
  read(taskId: string, runId: string): Promise<{ lines: RunLogLine[] } | { url: string } | undefined>;
}

/** The subset of a structured logger the API uses (Powertools `Logger` fits). */
export interface ApiLogger {
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** What the admin API needs; built once per cold start (`makeApiDeps`) or by the local runtime. */
export interface ApiDeps {
  store: TaskStore;
  registry: TaskTypeRegistry;
  /** The tick's deps: run-now dispatches through the tick's lease path (`dispatchNow`). */
  tick: TickDeps;
  clock: Clock;
  newRunId: () => string;
  /** Ids of tasks created without one; a ULID by default. */
  newTaskId?: () => string;
  scheduler: SchedulerControl;
  /** Shortest interval a task's schedule may have, in ms. */
  minIntervalMs: number;
  logs?: RunLogReader;
  /** Origin allowed to call the API from a browser. */
  corsOrigin?: string;
  logger?: ApiLogger;
  /** Serves `GET /` (the dashboard); a small placeholder page when absent. */
  dashboard?: (c: Context) => Response | Promise<Response>;
}
