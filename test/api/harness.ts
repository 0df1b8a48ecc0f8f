/**
 * Test harness for the admin API: the real app served over HTTP on a free port, on a store of the
 * caller's choosing, with a stand-in for handler Lambdas that claims, reports progress, heartbeats
 * and completes runs through the store, as the task SDK does.
 */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { monotonicFactory } from 'ulid';
import { createApp } from '../../src/api/app.js';
import type { ApiDeps, RunLogReader } from '../../src/api/deps.js';
import { MemorySchedulerControl } from '../../src/api/memory-scheduler-control.js';
import type { Clock, InvokeResult, RunEvent, TaskInvoker, TaskStore } from '../../src/core/ports.js';
import { makeTestDeps } from '../support/deps.js';

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Task types the fake handler knows. */
export const testTypes = {
  /** Succeeds at once with result `ok`. */
  ok: 'test.ok',
  /** Reports progress 1/3..3/3 over ~1.8 s, then succeeds. */
  progress: 'test.progress',
  /** Fails with `Error: boom`. */
  fail: 'test.fail',
  /** Runs until cancelled (heartbeat every 25 ms), then ends `cancelled`. */
  slow: 'test.slow',
} as const;

/**
 * Stands in for the handler Lambdas: `invoke` answers at once (like an `Event` invoke) and runs
 * the task in the background through the store: claim, heartbeats with progress, completion.
 */
export class FakeHandlers implements TaskInvoker {
  readonly invocations: { at: number; event: RunEvent }[] = [];
  private readonly work = new Set<Promise<void>>();
  private stopped = false;
  constructor(private readonly store: TaskStore) {}

  async invoke(_functionName: string, event: RunEvent): Promise<InvokeResult> {
    this.invocations.push({ at: Date.now(), event });
    const job = this.execute(event).catch(() => undefined);
    this.work.add(job);
    void job.finally(() => this.work.delete(job));
    return { accepted: true };
  }

  /** Waits for every run in flight; slow runs are told to stop. */
  async drain(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.work]);
  }

  private async execute(event: RunEvent): Promise<void> {
    await sleep(1);
    const fence = { token: event.token, requestId: `req-${event.runId}` };
    const startedAt = new Date();
    const claim = await this.store.claimRun({
      taskId: event.taskId,
      runId: event.runId,
      type: event.type,
      token: event.token,
      requestId: fence.requestId,
      trigger: event.trigger,
      attempt: event.attempt,
      scheduledFor: new Date(event.scheduledFor),
      dispatchedAt: new Date(event.dispatchedAt),
      startedAt,
      leaseExpiresAt: new Date(Date.now() + 60_000),
      parameters: event.parameters,
      ...(event.replayOf !== undefined ? { replayOf: event.replayOf } : {}),
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    if (!claim.claimed) return;
    const finish = (
      status: 'succeeded' | 'failed' | 'cancelled',
      extra: { result?: string; error?: { name: string; message: string } } = {},
    ) =>
      this.store.completeRun(event.taskId, event.runId, fence, {
        status,
        finishedAt: new Date(),
        durationMs: Date.now() - startedAt.getTime(),
        ...extra,
      });
    const beat = (value?: number) =>
      this.store.heartbeat(event.taskId, event.runId, fence, {
        now: new Date(),
        leaseExpiresAt: new Date(Date.now() + 60_000),
        ...(value !== undefined
          ? { progress: { value, max: 3, message: `step ${value}`, updatedAt: new Date() } }
          : {}),
      });
    switch (event.type) {
      case testTypes.progress:
        // Slow enough for a client polling every 200 ms to see it running, even on a loaded machine.
        for (let step = 1; step <= 3; step++) {
          await sleep(600);
          await beat(step);
        }
        await finish('succeeded', { result: `done ${JSON.stringify(event.parameters)}` });
        return;
      case testTypes.fail:
        await finish('failed', { error: { name: 'Error', message: 'boom' } });
        return;
      case testTypes.slow:
        for (let i = 0; i < 2000 && !this.stopped; i++) {
          await sleep(25);
          const hb = await beat(Math.min(i, 3));
          if (!hb.held) return;
          if (hb.cancelRequested) break;
        }
        await finish('cancelled', { result: 'stopped' });
        return;
      default:
        await finish('succeeded', { result: 'ok' });
    }
  }
}

export interface ApiHarness {
  baseUrl: string;
  deps: ApiDeps;
  handlers: FakeHandlers;
  close(): Promise<void>;
}

/** Registers the test types, builds deps and serves the app on 127.0.0.1 at a free port. */
export async function startApi(
  store: TaskStore,
  options: { clock?: Clock; logs?: RunLogReader; minIntervalMs?: number } = {},
): Promise<ApiHarness> {
  for (const name of Object.values(testTypes)) await store.putTaskType({ name, functionName: `fn-${name}` });
  const clock = options.clock ?? { now: () => new Date() };
  const handlers = new FakeHandlers(store);
  const newRunId = monotonicFactory();
  const deps: ApiDeps = {
    ...makeTestDeps({ store, clock, invoker: handlers, newRunId: () => newRunId() }),
    scheduler: new MemorySchedulerControl(),
    minIntervalMs: options.minIntervalMs ?? 60_000,
    logger: { info: () => undefined, warn: () => undefined, error: (m, ...x) => console.error(m, ...x) },
    ...(options.logs ? { logs: options.logs } : {}),
  };
  const app = createApp(deps);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    deps,
    handlers,
    async close() {
      await handlers.drain();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** An answer of the API under test: status, headers and the parsed body. */
export interface Answer {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are checked field by field
  body: any;
}

/**
 * Calls the API at `baseUrl`: a body is sent as JSON (a string as it is, for malformed-body
 * cases), with `content-type: application/json`; the answer's body is parsed when there is one.
 */
export async function callApi(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: nothing after ${timeoutMs} ms`);
    await sleep(20);
  }
}
