/**
 * A stub of Lambda's Invoke API on 127.0.0.1: `POST /2015-03-31/functions/{name}/invocations`
 * with `X-Amz-Invocation-Type: Event` answers 202 after `latencyMs`, like Lambda queueing an
 * asynchronous invoke. The tick reaches it through the real `LambdaTaskInvoker` and `LambdaClient`,
 * so the AWS SDK path (signing, serialization, HTTP) is part of what is measured.
 *
 * When a handler is set, the stub runs it with the event once the 202 is sent, as Lambda runs a
 * queued event (without Lambda's own queueing delay, which is not ours to measure).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunEvent } from '../../src/core/ports.js';

export type StubHandler = (event: RunEvent, functionName: string) => Promise<void>;

export interface LambdaStub {
  readonly endpoint: string;
  /** Answer latency of an Event invoke, in ms. */
  latencyMs: number;
  /** Runs every accepted event, or nothing when undefined. */
  handler: StubHandler | undefined;
  /** Event invokes accepted since the last reset. */
  accepted: number;
  /** Handler runs that threw (they are otherwise ignored, as Lambda's async retries are not modelled). */
  handlerErrors: string[];
  reset(): void;
  close(): Promise<void>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => done(Buffer.concat(chunks)));
    request.on('error', fail);
  });
}

function answer(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    'x-amzn-requestid': `stub-${Date.now()}`,
    ...headers,
  });
  response.end(text);
}

/** Starts the stub on a free port of 127.0.0.1. */
export async function startLambdaStub(options: { latencyMs?: number } = {}): Promise<LambdaStub> {
  const stub: LambdaStub = {
    endpoint: '',
    latencyMs: options.latencyMs ?? 20,
    handler: undefined,
    accepted: 0,
    handlerErrors: [],
    reset() {
      this.accepted = 0;
      this.handlerErrors = [];
      this.handler = undefined;
    },
    close: async () => {},
  };
  const server: Server = createServer((request, response) => {
    void (async () => {
      const match = INVOKE_PATH.exec(request.url?.split('?')[0] ?? '');
      const body = await readBody(request);
      if (request.method !== 'POST' || !match) {
        answer(
          response,
          404,
          { message: `no route for ${request.method} ${request.url}` },
          {
            'x-amzn-errortype': 'ResourceNotFoundException',
          },
        );
        return;
      }
      const type = request.headers['x-amz-invocation-type'];
      if (type !== 'Event') {
        answer(
          response,
          400,
          { message: `the stub only takes Event invokes, not ${String(type)}` },
          {
            'x-amzn-errortype': 'InvalidParameterValueException',
          },
        );
        return;
      }
      const functionName = decodeURIComponent(match[1] as string);
      let event: RunEvent;
      try {
        event = JSON.parse(body.toString('utf8')) as RunEvent;
      } catch {
        answer(
          response,
          400,
          { message: 'payload is not JSON' },
          { 'x-amzn-errortype': 'InvalidRequestContentException' },
        );
        return;
      }
      if (stub.latencyMs > 0) await new Promise((done) => setTimeout(done, stub.latencyMs));
      stub.accepted++;
      answer(response, 202, undefined);
      const handler = stub.handler;
      if (handler) {
        handler(event, functionName).catch((error: unknown) => {
          stub.handlerErrors.push(String((error as Error).message ?? error));
        });
      }
    })().catch((error: unknown) => {
      if (!response.headersSent) answer(response, 500, { message: String(error) });
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  Object.assign(stub, {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  });
  return stub;
}
