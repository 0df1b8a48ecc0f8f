/**
 * Lambda-like execution environments for one local function: a pool of worker processes, each
 * running one invocation at a time (as a Lambda execution environment does), reused while warm.
 *
 * ```
 *  invoke ─► queue ─► idle worker? ─yes─► busy ── lines…, result (IPC) ──► idle (reused)
 *                       │ no                 │ timeout: SIGKILL, Sandbox.Timedout
 *                       ▼                    │ exit (crash): Runtime.ExitError
 *            spawn (≤ maxWorkers) ─ ready ─┘   └─► worker gone; the pool spawns another when needed
 *  after each start: keep one spare warm, so the next invoke skips the cold start
 * ```
 *
 * Isolation: a worker is a child process, so a task that hangs is really stopped at its timeout
 * (SIGKILL), and one that crashes (`process.exit`, an uncaught error) takes only its own worker.
 *
 * Output: an invocation's lines come over the IPC channel before its result (`worker-main.ts`);
 * what reaches the pipes (output between invocations, a child process's) is given to the
 * invocation running then, or else to `onStrayLine`.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import type { LocalFunction } from './config.js';
import type {
  CapturedLine,
  FromWorker,
  LambdaErrorPayload,
  ToWorker,
  WorkerInit,
} from './worker-protocol.js';

/** One invocation asked of the pool. */
export interface InvocationRequest {
  requestId: string;
  payload: string;
  timeoutMs: number;
  invokedFunctionArn: string;
  /** Receives every line the invocation wrote, as it is read. */
  onLine?: (line: { stream: 'stdout' | 'stderr'; text: string; at: Date }) => void;
  /** Called when a worker takes the invocation from the queue. */
  onStart?: () => void;
}

/** How an invocation ended. */
export type InvocationOutcome =
  | { ok: true; payload: string; durationMs: number }
  | { ok: false; error: LambdaErrorPayload; durationMs: number; timedOut?: boolean };

/** An invocation still going when the pool shut down. */
export interface AbandonedInvocation {
  requestId: string;
  payload: string;
}

export interface FunctionPoolOptions {
  /** The worker entry module (`worker-main.ts`). */
  entry: string;
  /** Node flags of workers: `--import <tsx loader>` so handler modules may be TypeScript. */
  execArgv: string[];
  /** The workers' environment (endpoints, table, credentials); the function's own variables are added. */
  env: Record<string, string | undefined>;
  /** Most workers (concurrent invocations) of this function; further invocations queue. Default {@link defaultMaxWorkers}. */
  maxWorkers?: number;
  /** Idle workers beyond the first are stopped after this long. Default {@link defaultIdleTimeoutMs}. */
  idleTimeoutMs?: number;
  memorySizeMb?: number;
  /** Set when handlers must reach the runtime's in-memory store (see {@link WorkerInit.ipcStore}). */
  ipcStore?: {
    tasksExport: string;
    call: (method: string, args: unknown[]) => Promise<unknown>;
  };
  /** Lines a worker wrote outside any invocation (module import, stray timers). */
  onStrayLine?: (line: { stream: 'stdout' | 'stderr'; text: string }) => void;
}

interface Current {
  request: InvocationRequest;
  startedAt: number;
  timer: NodeJS.Timeout;
  settle: (outcome: InvocationOutcome) => void;
  result?: InvocationOutcome;
}

interface Queued {
  request: InvocationRequest;
  resolve: (outcome: InvocationOutcome) => void;
}

class Worker {
  state: 'starting' | 'idle' | 'busy' | 'dead' = 'starting';
  /** Loaded code that changed since: the worker ends instead of taking another invocation. */
  stale = false;
  current: Current | undefined;
  idleSince = Date.now();
  readonly exited: Promise<void>;

  constructor(
    readonly child: ChildProcess,
    readonly pool: FunctionPool,
  ) {
    this.exited = new Promise((done) => child.once('exit', () => done()));
  }
}

/**
 * Workers per function by default: two per core, from 2 to 8. Each worker is a process with its own
 * cold start (about 2-3 s of CPU here, the SDK's modules through tsx), and on a small machine more
 * workers than that only share the same cores.
 */
export const defaultMaxWorkers = Math.max(2, Math.min(8, 2 * availableParallelism()));

/**
 * How long an idle worker beyond the first lives: five minutes, as Lambda keeps an idle execution
 * environment for minutes, so a burst every minute (every-minute tasks) finds its workers warm.
 */
export const defaultIdleTimeoutMs = 5 * 60_000;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The worker pool of one local function. */
export class FunctionPool {
  private readonly workers = new Set<Worker>();
  private readonly queue: Queued[] = [];
  private closed = false;
  private lastInitFailed = false;
  private readonly reaper: NodeJS.Timeout;

  constructor(
    readonly fn: LocalFunction,
    private readonly options: FunctionPoolOptions,
  ) {
    this.reaper = setInterval(() => this.reapIdle(), 5_000);
    this.reaper.unref();
  }

  /** Invocations running now. */
  get busy(): number {
    let n = 0;
    for (const w of this.workers) if (w.state === 'busy') n++;
    return n;
  }

  /** Worker processes alive now (for tests and the shutdown message). */
  get size(): number {
    return this.workers.size;
  }

  /** Runs one invocation in a worker; resolves when it ended, whichever way. Never rejects. */
  invoke(request: InvocationRequest): Promise<InvocationOutcome> {
    if (this.closed) {
      return Promise.resolve({
        ok: false,
        durationMs: 0,
        error: { errorType: 'Runtime.Shutdown', errorMessage: 'the local runtime is shutting down' },
      });
    }
    return new Promise((resolve) => {
      this.queue.push({ request, resolve });
      this.pump();
    });
  }

  /**
   * Loads the function's code anew (`tickwork dev` calls it when a handler file changed): idle
   * workers end now, starting and running ones once they are ready or done, and a fresh worker
   * starts, so the next invocation runs the new code. Running invocations are never cut short.
   */
  recycle(): void {
    this.lastInitFailed = false;
    for (const w of this.workers) {
      if (w.state === 'dead') continue;
      w.stale = true;
      if (w.state === 'idle') {
        w.state = 'dead';
        w.child.kill('SIGKILL');
      }
    }
    this.warm();
  }

  /** Starts a spare worker when none is idle or starting, so the next invoke is warm. */
  warm(): void {
    if (this.closed || this.lastInitFailed) return;
    for (const w of this.workers) if (!w.stale && (w.state === 'idle' || w.state === 'starting')) return;
    if (this.workers.size < this.maxWorkers) this.spawn();
  }

  private get maxWorkers(): number {
    return this.options.maxWorkers ?? defaultMaxWorkers;
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const idle = [...this.workers].find((w) => w.state === 'idle');
      if (!idle) break;
      const next = this.queue.shift() as Queued;
      this.start(idle, next);
    }
    let starting = 0;
    for (const w of this.workers) if (w.state === 'starting' && !w.stale) starting++;
    while (this.queue.length > starting && this.workers.size < this.maxWorkers) {
      this.spawn();
      starting++;
    }
    if (this.queue.length === 0) this.warm();
  }

  private spawn(): Worker {
    const init: WorkerInit = {
      functionName: this.fn.name,
      modulePath: this.fn.modulePath,
      exportName: this.fn.exportName,
      memorySizeMb: this.options.memorySizeMb ?? 1024,
      ...(this.options.ipcStore ? { ipcStore: { tasksExport: this.options.ipcStore.tasksExport } } : {}),
    };
    const child = fork(this.options.entry, [], {
      execArgv: this.options.execArgv,
      env: {
        ...this.options.env,
        AWS_LAMBDA_FUNCTION_NAME: this.fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(init.memorySizeMb),
        AWS_LAMBDA_FUNCTION_TIMEOUT: String(this.fn.timeoutSeconds),
        _HANDLER: `${this.fn.modulePath}.${this.fn.exportName}`,
        TICKWORK_WORKER_INIT: JSON.stringify(init),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Structured clone only where store calls pass `Date`s and `Map`s (the in-memory mode); the
      // JSON channel costs less per message, and invocations carry only JSON.
      serialization: this.options.ipcStore ? 'advanced' : 'json',
    });
    const worker = new Worker(child, this);
    this.workers.add(worker);
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (!source) continue;
      createInterface({ input: source, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (text) =>
        this.onLine(worker, stream, text),
      );
    }
    child.on('message', (message: FromWorker) => this.onMessage(worker, message));
    child.once('error', () => {
      // A failed spawn also emits `exit`; that is where the worker is cleaned up.
    });
    child.once('exit', (code, signal) => this.onExit(worker, code, signal));
    return worker;
  }

  private onLine(worker: Worker, stream: 'stdout' | 'stderr', text: string): void {
    if (text.trim() === '') return;
    const current = worker.current;
    if (current && !current.result) current.request.onLine?.({ stream, text, at: new Date() });
    else this.options.onStrayLine?.({ stream, text });
  }

  /** Lines an invocation wrote, sent over IPC (`worker-main.ts`). */
  private onCaptured(worker: Worker, requestId: string, lines: CapturedLine[]): void {
    const current = worker.current;
    const mine = current && !current.result && current.request.requestId === requestId;
    for (const line of lines) {
      if (line.text.trim() === '') continue;
      if (mine) current.request.onLine?.({ stream: line.stream, text: line.text, at: new Date(line.at) });
      else this.options.onStrayLine?.({ stream: line.stream, text: line.text });
    }
  }

  private onMessage(worker: Worker, message: FromWorker): void {
    switch (message.kind) {
      case 'ready':
        this.lastInitFailed = false;
        if (worker.stale) {
          worker.state = 'dead';
          worker.child.kill('SIGKILL');
          this.warm();
          return;
        }
        worker.state = 'idle';
        worker.idleSince = Date.now();
        this.pump();
        return;
      case 'init-error': {
        this.lastInitFailed = true;
        worker.state = 'dead';
        this.options.onStrayLine?.({
          stream: 'stderr',
          text: `init failed: ${message.error.errorType}: ${message.error.errorMessage}`,
        });
        // Lambda reports an init failure to the invocations that were waiting for it.
        for (const queued of this.queue.splice(0))
          queued.resolve({ ok: false, durationMs: 0, error: message.error });
        worker.child.kill('SIGKILL');
        return;
      }
      case 'lines':
        this.onCaptured(worker, message.requestId, message.lines);
        return;
      case 'result': {
        const current = worker.current;
        if (!current || current.request.requestId !== message.requestId || current.result) return;
        const durationMs = Date.now() - current.startedAt;
        current.result = message.ok
          ? { ok: true, payload: message.payload, durationMs }
          : { ok: false, error: message.error, durationMs };
        // Its lines came before it on the same channel: the invocation is complete.
        this.finish(worker);
        return;
      }
      case 'store-call': {
        const call = this.options.ipcStore?.call;
        const reply = (m: ToWorker) => {
          if (worker.child.connected) worker.child.send(m);
        };
        if (!call) {
          reply({
            kind: 'store-result',
            id: message.id,
            ok: false,
            error: { name: 'Error', message: 'no store' },
          });
          return;
        }
        call(message.method, message.args).then(
          (value) => reply({ kind: 'store-result', id: message.id, ok: true, value }),
          (error: unknown) =>
            reply({
              kind: 'store-result',
              id: message.id,
              ok: false,
              error: {
                name: (error as Error).name ?? 'Error',
                message: (error as Error).message ?? String(error),
              },
            }),
        );
        return;
      }
    }
  }

  private finish(worker: Worker): void {
    const current = worker.current;
    if (!current?.result) return;
    clearTimeout(current.timer);
    worker.current = undefined;
    if (worker.state === 'busy' && worker.stale) {
      worker.state = 'dead';
      worker.child.kill('SIGKILL');
      this.warm();
    } else if (worker.state === 'busy') {
      worker.state = 'idle';
      worker.idleSince = Date.now();
    }
    current.settle(current.result);
    this.pump();
  }

  private start(worker: Worker, queued: Queued): void {
    const { request } = queued;
    worker.state = 'busy';
    request.onStart?.();
    const startedAt = Date.now();
    const deadline = startedAt + request.timeoutMs;
    const timer = setTimeout(() => this.timeOut(worker), request.timeoutMs);
    worker.current = {
      request,
      startedAt,
      timer,
      settle: queued.resolve,
    };
    const message: ToWorker = {
      kind: 'invoke',
      requestId: request.requestId,
      payload: request.payload,
      deadline,
      invokedFunctionArn: request.invokedFunctionArn,
    };
    worker.child.send(message);
  }

  /** The invocation ran out of time: kill its worker, as Lambda ends the sandbox. */
  private timeOut(worker: Worker): void {
    const current = worker.current;
    if (!current || current.result) return;
    const seconds = (current.request.timeoutMs / 1000).toFixed(2);
    const message = `Task timed out after ${seconds} seconds`;
    current.request.onLine?.({
      stream: 'stderr',
      text: `${current.request.requestId} ${message}`,
      at: new Date(),
    });
    current.result = {
      ok: false,
      timedOut: true,
      durationMs: Date.now() - current.startedAt,
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `RequestId: ${current.request.requestId} Error: ${message}`,
      },
    };
    worker.state = 'dead';
    worker.child.kill('SIGKILL');
    this.finish(worker);
  }

  private onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    const wasStarting = worker.state === 'starting';
    worker.state = 'dead';
    this.workers.delete(worker);
    const current = worker.current;
    if (current && !current.result) {
      const how = signal ? `signal: ${signal.toLowerCase()}` : `exit status ${code}`;
      current.result = {
        ok: false,
        durationMs: Date.now() - current.startedAt,
        error: {
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${current.request.requestId} Error: Runtime exited with error: ${how}`,
        },
      };
      this.finish(worker);
    } else if (current) {
      this.finish(worker);
    }
    if (wasStarting && !this.lastInitFailed) {
      this.lastInitFailed = true;
      this.options.onStrayLine?.({ stream: 'stderr', text: `worker exited during init (${signal ?? code})` });
      for (const queued of this.queue.splice(0)) {
        queued.resolve({
          ok: false,
          durationMs: 0,
          error: {
            errorType: 'Runtime.ExitError',
            errorMessage: `Runtime exited during init (${signal ?? code})`,
          },
        });
      }
    }
    if (!this.closed) this.pump();
  }

  private reapIdle(): void {
    const idle = [...this.workers]
      .filter((w) => w.state === 'idle')
      .sort((a, b) => a.idleSince - b.idleSince);
    const timeout = this.options.idleTimeoutMs ?? defaultIdleTimeoutMs;
    for (const w of idle.slice(0, -1)) {
      if (Date.now() - w.idleSince > timeout) {
        w.state = 'dead';
        w.child.kill('SIGKILL');
      }
    }
  }

  /**
   * Stops the pool: refuses new invocations, lets running ones end for up to `graceMs`, then
   * kills every worker. Returns the invocations that were still running when it killed them.
   */
  async shutdown(graceMs: number): Promise<AbandonedInvocation[]> {
    this.closed = true;
    clearInterval(this.reaper);
    for (const queued of this.queue.splice(0)) {
      queued.resolve({
        ok: false,
        durationMs: 0,
        error: { errorType: 'Runtime.Shutdown', errorMessage: 'the local runtime is shutting down' },
      });
    }
    const deadline = Date.now() + graceMs;
    while (this.busy > 0 && Date.now() < deadline) await sleep(50);
    const abandoned: AbandonedInvocation[] = [];
    for (const w of this.workers) {
      if (w.current && !w.current.result) {
        abandoned.push({ requestId: w.current.request.requestId, payload: w.current.request.payload });
      }
    }
    const workers = [...this.workers];
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    return abandoned;
  }
}
