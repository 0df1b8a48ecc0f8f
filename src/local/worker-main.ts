/**
 * Entry of a local worker process: one Lambda execution environment for one function. It imports
 * the handler module once (the cold start), then runs one invocation at a time, each with a
 * Lambda-like context, and reports results to the runtime over IPC.
 *
 * The runtime starts it with `--import tsx`, so handler modules may be TypeScript. It ignores
 * SIGINT (a Ctrl-C in the terminal reaches the whole process group) so that running tasks can
 * end during the runtime's grace period; the runtime kills it when that ends. It exits when the
 * runtime goes away (IPC disconnect), so no worker outlives its runtime.
 *
 * Output: what an invocation writes through `process.stdout` and `process.stderr` (`console.*`,
 * Powertools loggers) goes to the runtime over the IPC channel, line by line as it is written and
 * tagged with its invocation, so the runtime has all of it once the result arrives (the channel
 * keeps order). Output outside an invocation, and bytes written to the file descriptors directly
 * (a child process that inherits them), still go through the pipes.
 */
import { pathToFileURL } from 'node:url';
import type { TaskStore } from '../core/ports.js';
import {
  type CapturedLine,
  type FromWorker,
  lambdaErrorOf,
  type ToWorker,
  type WorkerInit,
} from './worker-protocol.js';

type Handler = (event: unknown, context: unknown) => unknown;

const send = (message: FromWorker): void => {
  process.send?.(message);
};

process.on('SIGINT', () => {
  // The runtime decides when this worker stops (grace period, then SIGKILL).
});
process.on('disconnect', () => process.exit(0));

const init = JSON.parse(process.env.TICKWORK_WORKER_INIT ?? '{}') as WorkerInit;

/** A {@link TaskStore} whose every call runs in the runtime, over IPC. */
function ipcStore(): TaskStore {
  let nextId = 1;
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  process.on('message', (message: ToWorker) => {
    if (message.kind !== 'store-result') return;
    const call = calls.get(message.id);
    if (!call) return;
    calls.delete(message.id);
    if (message.ok) call.resolve(message.value);
    else call.reject(Object.assign(new Error(message.error.message), { name: message.error.name }));
  });
  const shardCount = Number(process.env.TICKWORK_SHARDS ?? 4);
  return new Proxy({ shardCount } as TaskStore, {
    get(target, property) {
      if (property === 'shardCount') return target.shardCount;
      if (typeof property !== 'string' || property === 'then') return undefined;
      return (...args: unknown[]) =>
        new Promise((resolve, reject) => {
          const id = nextId++;
          calls.set(id, { resolve, reject });
          send({ kind: 'store-call', id, method: property, args });
        });
    },
  });
}

async function loadHandler(): Promise<Handler> {
  const imported = (await import(pathToFileURL(init.modulePath).href)) as Record<string, unknown>;
  // A module outside an ESM package loads as CommonJS: its exports may sit on `default`.
  const fallback = (imported.default ?? {}) as Record<string, unknown>;
  const module = new Proxy(imported, { get: (target, key: string) => target[key] ?? fallback[key] });
  if (init.ipcStore) {
    const { createTaskHandler } = await import('../task/index.js');
    const types = module[init.ipcStore.tasksExport];
    if (!types) throw new Error(`${init.modulePath} has no task map export "${init.ipcStore.tasksExport}"`);
    return createTaskHandler(types as Parameters<typeof createTaskHandler>[0], {
      store: ipcStore(),
    }) as Handler;
  }
  const handler = module[init.exportName];
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${init.modulePath} has no function export "${init.exportName}"`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler as Handler;
}

/** The invocation running now, and the end of a line each stream has begun but not finished. */
let capturing: { requestId: string; partial: { stdout: string; stderr: string } } | undefined;

/** Sends the complete lines of `text` to the runtime; keeps an unfinished last line for later. */
function captureText(stream: 'stdout' | 'stderr', text: string): void {
  const into = capturing;
  if (!into) return;
  const parts = `${into.partial[stream]}${text}`.split('\n');
  into.partial[stream] = parts.pop() ?? '';
  const at = Date.now();
  const lines: CapturedLine[] = [];
  for (const part of parts) lines.push({ stream, text: part.endsWith('\r') ? part.slice(0, -1) : part, at });
  if (lines.length > 0) send({ kind: 'lines', requestId: into.requestId, lines });
}

/** Routes `process[stream]`'s writes during an invocation to {@link captureText}. */
function captureStream(stream: 'stdout' | 'stderr'): void {
  const target = process[stream];
  const write = target.write.bind(target) as (...args: unknown[]) => boolean;
  target.write = ((chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    if (!capturing) return write(chunk, encoding, callback);
    const done = typeof encoding === 'function' ? encoding : callback;
    const charset = typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8';
    const text =
      typeof chunk === 'string'
        ? charset === 'utf8' || charset === 'utf-8'
          ? chunk
          : Buffer.from(chunk, charset).toString('utf8')
        : Buffer.from(chunk as Uint8Array).toString('utf8');
    captureText(stream, text);
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  }) as typeof target.write;
}

/** Ends the capture of an invocation: a last line without its newline is sent as it is. */
function endCapture(): void {
  const ended = capturing;
  if (!ended) return;
  for (const stream of ['stdout', 'stderr'] as const) {
    if (ended.partial[stream] !== '') captureText(stream, '\n');
  }
  capturing = undefined;
}

async function invoke(handler: Handler, message: Extract<ToWorker, { kind: 'invoke' }>): Promise<void> {
  const context = {
    awsRequestId: message.requestId,
    functionName: init.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: message.invokedFunctionArn,
    memoryLimitInMB: String(init.memorySizeMb),
    logGroupName: `/aws/lambda/${init.functionName}`,
    logStreamName: `local/${process.pid}`,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  let result: FromWorker;
  capturing = { requestId: message.requestId, partial: { stdout: '', stderr: '' } };
  try {
    const event = message.payload.trim() === '' ? {} : JSON.parse(message.payload);
    const value = await handler(event, context);
    result = {
      kind: 'result',
      requestId: message.requestId,
      ok: true,
      payload: JSON.stringify(value ?? null),
    };
  } catch (error) {
    console.error(
      JSON.stringify({
        timestamp: new Date().toISOString(),
        level: 'ERROR',
        message: 'Invoke Error',
        ...lambdaErrorOf(error),
      }),
    );
    result = { kind: 'result', requestId: message.requestId, ok: false, error: lambdaErrorOf(error) };
  }
  endCapture();
  send(result);
}

captureStream('stdout');
captureStream('stderr');
try {
  const handler = await loadHandler();
  process.on('message', (message: ToWorker) => {
    if (message.kind === 'invoke') void invoke(handler, message);
  });
  send({ kind: 'ready' });
} catch (error) {
  send({ kind: 'init-error', error: lambdaErrorOf(error, 'Runtime.ImportModuleError') });
  process.disconnect?.();
}
