import type { Context } from 'hono';
import type { Logger, SchedulerControl, TickPlanner } from '../core/ports.js';
import type { TickDeps } from '../tick/dispatch.js';
import type { DashboardLogin } from './dashboard-login.js';
import type { Access } from './roles.js';

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

/** The API's logger: the one `Logger` port (the name stays for existing callers). */
export type ApiLogger = Logger;

/**
 * What the admin API needs; built once per cold start (`makeApiDeps`) or by the local runtime.
 * It is the tick's deps (store, registry, clock, run ids, invoker, logger: run-now dispatches
 * through the tick's lease path, `dispatchNow`) and what only the API uses.
 */
export interface ApiDeps extends TickDeps {
  /** Ids of tasks created without one; a ULID by default. */
  newTaskId?: () => string;
  scheduler: SchedulerControl;
  /**
   * Asks a tick to plan a task that a write made due before the next scheduled tick plans it
   * (`plan-soon.ts`); without one, such a slot waits for that tick.
   */
  tickPlanner?: TickPlanner;
  /** Shortest interval a task's schedule may have, in ms. */
  minIntervalMs: number;
  logs?: RunLogReader;
  /** Origin allowed to call the API from a browser. */
  corsOrigin?: string;
  /** Who calls and what they may do (`roles.ts`); the local runtime's admin when absent. */
  access?: Access;
  /** How long audit entries are kept, in days (the table's TTL removes them). Default 90. */
  auditRetentionDays?: number;
  /** Serves `GET /` (the dashboard); a small placeholder page when absent. */
  dashboard?: (c: Context) => Response | Promise<Response>;
  /** The dashboard's sign-in through an OIDC provider (`GET /dashboard-config`); none when absent. */
  dashboardLogin?: DashboardLogin;
}
