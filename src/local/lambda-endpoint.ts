/**
 * A local Lambda `Invoke` endpoint: the subset of the Lambda API Tickwork uses, over HTTP on the
 * loopback interface, so the real `LambdaTaskInvoker` (through `AWS_ENDPOINT_URL_LAMBDA`) works
 * unchanged.
 *
 * - `POST /2015-03-31/functions/{name}/invocations`, `X-Amz-Invocation-Type`:
 *   `Event` → 202 at once, the invocation runs in the background (async retries: none, as
 *   Tickwork deploys its handlers); `RequestResponse` (default) → 200 with the result, or with
 *   `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}`; `DryRun` → 204.
 *   `X-Amz-Log-Type: Tail` returns the last 4 KB of output in `X-Amz-Log-Result`.
 * - Errors as AWS shapes them: status, `x-amzn-ErrorType` and `{"Type": "User", "Message": ...}`,
 *   e.g. 404 `ResourceNotFoundException` for an unknown function.
 *
 * `{name}` may be a name, a full or partial ARN, with or without a qualifier.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseLogLine, type RunLogBook } from './run-logs.js';
import type { FunctionPool, InvocationOutcome } from './worker-pool.js';

/** Lambda's limits on a request payload. */
const maxSyncPayloadBytes = 6 * 1024 * 1024;
const maxAsyncPayloadBytes = 1024 * 1024;
const tailBytes = 4096;
const invokePath = /^\/2015-03-31\/functions\/([^/]+)\/invocations\/?$/;

export interface LambdaEndpointOptions {
  /** Pools by function name. */
  functions: ReadonlyMap<string, FunctionPool>;
  /** Timeout of each task type, in seconds: a run event of that type gets this much time. */
  typeTimeoutsSeconds: ReadonlyMap<string, number>;
  /** Where lines of Tickwork runs are kept. */
  logs: RunLogBook;
  region?: string;
  accountId?: string;
  host?: string;
  port?: number;
  /** Called with each line an invocation wrote (for `--verbose`). */
  onLine?: (functionName: string, line: { stream: 'stdout' | 'stderr'; text: string }) => void;
  /** Called when an invocation ended. */
  onInvoked?: (event: {
    functionName: string;
    requestId: string;
    async: boolean;
    outcome: InvocationOutcome;
  }) => void;
}

/** A running endpoint. */
export interface LambdaEndpoint {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_LAMBDA`. */
  readonly endpoint: string;
  readonly port: number;
  /** Invocations accepted and not yet ended. */
  readonly inFlight: number;
  /** Refuses new invocations (503 `ServiceException`) from now on. */
  refuse(): void;
  close(): Promise<void>;
}

/** The function name inside a name, a partial ARN (`123:function:name`) or a full ARN, without qualifier. */
export function functionNameOf(identifier: string): { name: string; qualifier?: string } {
  const parts = identifier.split(':');
  const at = parts.indexOf('function');
  const rest = at >= 0 ? parts.slice(at + 1) : parts;
  const [name = '', qualifier] = rest;
  return qualifier ? { name, qualifier } : { name };
}

/** The task and run of a Tickwork run event, when the payload is one. */
function runOf(payload: unknown): { taskId: string; runId: string; type: string } | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const p = payload as Record<string, unknown>;
  if (p.tickwork !== 1) return undefined;
  if (typeof p.taskId !== 'string' || typeof p.runId !== 'string' || typeof p.type !== 'string')
    return undefined;
  return { taskId: p.taskId, runId: p.runId, type: p.type };
}

function sendError(
  res: ServerResponse,
  status: number,
  type: string,
  message: string,
  requestId: string,
): void {
  const body = JSON.stringify({ Type: 'User', Message: message, message });
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-errortype': type,
    'x-amzn-requestid': requestId,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * Starts the endpoint on a free loopback port (or the given one).
 *
 * Long because: the invoke handlers close over the endpoint's state (refusing, in flight, the
 * pools); `handle` below is the request router, one branch per invocation type.
 */
export async function startLambdaEndpoint(options: LambdaEndpointOptions): Promise<LambdaEndpoint> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const arnOf = (name: string) => `arn:aws:lambda:${region}:${accountId}:function:${name}`;
  let refusing = false;
  let inFlight = 0;
  /**
   * Tickwork run events accepted as Event invokes that no worker has taken yet, by function and
   * payload. A tick delivers an unclaimed lease again, byte for byte, once its instant is 10 s
   * past; when the first delivery is still waiting here, the second is not queued (its claim
   * would find the run already recorded by the first and end there).
   */
  const waiting = new Set<string>();

  const run = async (
    pool: FunctionPool,
    payloadText: string,
    payload: unknown,
    requestId: string,
    async: boolean,
    waitingKey?: string,
  ): Promise<{ outcome: InvocationOutcome; tail: string[] }> => {
    inFlight++;
    if (waitingKey !== undefined) waiting.add(waitingKey);
    const fn = pool.fn;
    const target = runOf(payload);
    const typeTimeout = target ? options.typeTimeoutsSeconds.get(target.type) : undefined;
    const timeoutMs = (typeTimeout ?? fn.timeoutSeconds) * 1000;
    const tail: string[] = [];
    const record = (stream: 'stdout' | 'stderr', text: string, at: Date) => {
      // Only a RequestResponse invoke can ask for its log's tail.
      if (!async) {
        tail.push(text);
        if (tail.length > 200) tail.shift();
      }
      if (target) options.logs.append(target.taskId, target.runId, parseLogLine(text, stream, at));
      options.onLine?.(fn.name, { stream, text });
    };
    record('stdout', `START RequestId: ${requestId} Version: $LATEST`, new Date());
    try {
      const outcome = await pool.invoke({
        requestId,
        payload: payloadText,
        timeoutMs,
        invokedFunctionArn: arnOf(fn.name),
        onLine: (line) => record(line.stream, line.text, line.at),
        ...(waitingKey !== undefined ? { onStart: () => waiting.delete(waitingKey) } : {}),
      });
      record('stdout', `END RequestId: ${requestId}`, new Date());
      record('stdout', `REPORT RequestId: ${requestId}\tDuration: ${outcome.durationMs} ms`, new Date());
      options.onInvoked?.({ functionName: fn.name, requestId, async, outcome });
      return { outcome, tail };
    } finally {
      inFlight--;
      if (waitingKey !== undefined) waiting.delete(waitingKey);
    }
  };

  // Long because: one branch per Lambda Invoke mode (Event, RequestResponse, DryRun) and its errors.
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const match = invokePath.exec(pathname);
    if (!match || req.method !== 'POST') {
      sendError(
        res,
        404,
        'UnknownOperationException',
        `Unknown operation ${req.method} ${pathname}`,
        requestId,
      );
      return;
    }
    const { name } = functionNameOf(decodeURIComponent(match[1] ?? ''));
    const pool = options.functions.get(name);
    if (!pool) {
      req.resume();
      sendError(res, 404, 'ResourceNotFoundException', `Function not found: ${arnOf(name)}`, requestId);
      return;
    }
    const invocationType = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['Event', 'RequestResponse', 'DryRun'].includes(invocationType)) {
      req.resume();
      sendError(
        res,
        400,
        'InvalidParameterValueException',
        `1 validation error detected: Value '${invocationType}' at 'invocationType' failed to satisfy constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]`,
        requestId,
      );
      return;
    }
    if (refusing) {
      req.resume();
      sendError(res, 503, 'ServiceException', 'the local runtime is shutting down', requestId);
      return;
    }
    const async = invocationType === 'Event';
    const body = await readBody(req, async ? maxAsyncPayloadBytes : maxSyncPayloadBytes);
    if (!body) {
      sendError(
        res,
        413,
        'RequestTooLargeException',
        `Request must be smaller than ${async ? maxAsyncPayloadBytes : maxSyncPayloadBytes} bytes for the InvokeFunction operation`,
        requestId,
      );
      return;
    }
    const payloadText = body.toString('utf8');
    let payload: unknown = {};
    if (payloadText.trim() !== '') {
      try {
        payload = JSON.parse(payloadText);
      } catch {
        sendError(
          res,
          400,
          'InvalidRequestContentException',
          'Could not parse request body into json',
          requestId,
        );
        return;
      }
    }
    if (invocationType === 'DryRun') {
      res.writeHead(204, { 'x-amzn-requestid': requestId });
      res.end();
      return;
    }
    if (async) {
      res.writeHead(202, { 'x-amzn-requestid': requestId, 'content-length': 0 });
      res.end();
      const target = runOf(payload);
      const waitingKey = target ? `${pool.fn.name}\u0000${payloadText}` : undefined;
      if (target && waitingKey !== undefined && waiting.has(waitingKey)) {
        options.logs.append(target.taskId, target.runId, {
          at: new Date().toISOString(),
          message: `RequestId: ${requestId}: the same run event is still queued here; this delivery was not queued again`,
        });
        return;
      }
      void run(pool, payloadText, payload, requestId, true, waitingKey);
      return;
    }
    const { outcome, tail } = await run(pool, payloadText, payload, requestId, false);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'x-amzn-requestid': requestId,
      'x-amz-executed-version': '$LATEST',
    };
    if (String(req.headers['x-amz-log-type'] ?? '') === 'Tail') {
      const text = Buffer.from(tail.join('\n'), 'utf8');
      headers['x-amz-log-result'] = text.subarray(Math.max(0, text.length - tailBytes)).toString('base64');
    }
    let responseBody: string;
    if (outcome.ok) {
      responseBody = outcome.payload;
    } else {
      headers['x-amz-function-error'] = 'Unhandled';
      responseBody = JSON.stringify(outcome.error);
    }
    headers['content-length'] = Buffer.byteLength(responseBody);
    res.writeHead(200, headers);
    res.end(responseBody);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'ServiceException', (error as Error).message, randomUUID());
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => done());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get inFlight() {
      return inFlight;
    },
    refuse() {
      refusing = true;
    },
    close: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
