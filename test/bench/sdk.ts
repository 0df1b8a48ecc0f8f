/**
 * The real task SDK (`src/task/`) as the stub Lambda's handler, and the real admin API
 * (`src/api/app.ts`) served over HTTP on 127.0.0.1: the lateness and cost sections measure the
 * code that ships, not stand-ins.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { serve } from '@hono/node-server';
import { createApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { MemorySchedulerControl } from '../../src/api/memory-scheduler-control.js';
import type { Clock, RunEvent, TaskStore } from '../../src/core/ports.js';
import { newId } from '../../src/ids.js';
import { createTaskHandler, type TaskBody } from '../../src/task/index.js';
import type { TickDeps } from '../../src/tick/run-tick.js';
import { TASK_TYPE } from './harness.js';
import type { StubHandler } from './lambda-stub.js';

const silent = new Logger({ serviceName: 'tickwork-bench', logLevel: 'SILENT' });

/** A stub-Lambda handler running `body` through `createTaskHandler` (claim, heartbeats, completion, settle). */
export function sdkHandler(
  store: TaskStore,
  body: TaskBody,
  options: {
    clock?: Clock;
    heartbeatIntervalMs?: number;
    onResult?: (result: unknown, event: RunEvent) => void;
  } = {},
): StubHandler {
  const handler = createTaskHandler(
    { [TASK_TYPE]: body },
    {
      store,
      logger: silent,
      metrics: false,
      env: { TICKWORK_TABLE: 'unused-the-store-is-given' },
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.heartbeatIntervalMs ? { heartbeatIntervalMs: options.heartbeatIntervalMs } : {}),
    },
  );
  return async (event) => {
    const result = await handler(event, {
      awsRequestId: randomUUID(),
      getRemainingTimeInMillis: () => 900_000,
    });
    options.onResult?.(result, event);
  };
}

export interface ApiServer {
  baseUrl: string;
  close(): Promise<void>;
}

/** Serves the admin API on a free port of 127.0.0.1, dispatching through `tick`. */
export async function startApi(store: TaskStore, tick: TickDeps): Promise<ApiServer> {
  const deps: ApiDeps = {
    ...tick,
    store,
    newRunId: newId,
    scheduler: new MemorySchedulerControl(),
    minIntervalMs: 60_000,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  };
  const app = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((done) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => done(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => done());
      }),
  };
}

/** `POST <path>` on the API; the parsed JSON answer, or an error with the status and body. */
export async function post(api: ApiServer, path: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${api.baseUrl}${path}`, { method: 'POST' });
  const text = await response.text();
  if (response.status !== 202) throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}
