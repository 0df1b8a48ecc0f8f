/**
 * Messages between the local runtime and a worker process (one Lambda execution environment).
 * In the in-memory mode the IPC channel uses `serialization: 'advanced'` (structured clone), so the
 * `Date`s and `Map`s of store calls pass; otherwise it is JSON (every other message is JSON).
 */

/** Lambda's own error shape: the body of an invoke that answered `X-Amz-Function-Error`. */
export interface LambdaErrorPayload {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

/** What a worker needs to know of its function (sent once, at start). */
export interface WorkerInit {
  functionName: string;
  modulePath: string;
  exportName: string;
  memorySizeMb: number;
  /**
   * Set when the runtime's store is in its own memory (no DynamoDB engine): the worker then
   * builds the handler with `createTaskHandler(types, { store })` over a store that calls the
   * runtime through IPC. `tasksExport` names the module export holding the task map.
   */
  ipcStore?: { tasksExport: string };
}

/** Runtime → worker. */
export type ToWorker =
  | {
      kind: 'invoke';
      requestId: string;
      /** The raw request body (JSON text), as Lambda receives it. */
      payload: string;
      /** Epoch ms at which the invocation times out. */
      deadline: number;
      invokedFunctionArn: string;
    }
  | { kind: 'store-result'; id: number; ok: true; value: unknown }
  | { kind: 'store-result'; id: number; ok: false; error: { name: string; message: string } };

/** A line an invocation wrote (without its newline), and when (epoch ms). */
export interface CapturedLine {
  stream: 'stdout' | 'stderr';
  text: string;
  at: number;
}

/** Worker → runtime. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'lines'; requestId: string; lines: CapturedLine[] }
  | { kind: 'init-error'; error: LambdaErrorPayload }
  | { kind: 'result'; requestId: string; ok: true; payload: string }
  | { kind: 'result'; requestId: string; ok: false; error: LambdaErrorPayload }
  | { kind: 'store-call'; id: number; method: string; args: unknown[] };

/** Turns anything thrown into Lambda's error shape. */
export function lambdaErrorOf(error: unknown, fallbackType = 'Error'): LambdaErrorPayload {
  if (error instanceof Error) {
    return {
      errorType: error.name || fallbackType,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n').slice(0, 30),
    };
  }
  return { errorType: fallbackType, errorMessage: String(error) };
}
