/**
 * The local runtime refuses what a hostile web page (or a DNS-rebinding one) can send, and every
 * refusal, Node's own included, is the API's JSON error. Real runtimes on 127.0.0.1 only: the
 * in-memory fallback (Java made missing for this file) and the bundled API over the suite's
 * DynamoDB Local. Forged requests go through `node:http` and raw sockets, as no browser would
 * let a page set `Host`.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { LocalRuntime, LocalRuntimeOptions } from '../../src/local/runtime.js';
import { startLocalRuntime } from '../../src/local/runtime.js';

vi.mock('../../src/local/dynamodb-local.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/local/dynamodb-local.js')>();
  return {
    ...real,
    startDynamoDbLocal: async () => {
      throw new real.JavaMissingError('java is hidden from this test file');
    },
  };
});

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Answer {
  status: number;
  contentType: string;
  body: { error?: { code: string; message: string; details: unknown[] } } & Record<string, unknown>;
}

/** One request through `node:http`, headers exactly as given (Host included). */
function send(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<Answer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: Number(port),
        method: options.method ?? 'GET',
        path: options.path,
        headers: { host: `127.0.0.1:${port}`, ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: text === '' ? {} : (JSON.parse(text) as Answer['body']),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Raw bytes on a socket; resolves to the answer's status line, headers and JSON body. */
function sendRaw(url: string, raw: string): Promise<Answer> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(raw));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('end', () => {
      socket.destroy();
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /^content-type: *(.+)$/im.exec(head)?.[1]?.trim() ?? '';
      resolve({ status, contentType, body: JSON.parse(body) as Answer['body'] });
    });
  });
}

function expectRefusal(answer: Answer, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toMatch(/^application\/json/);
  expect(answer.body.error).toMatchObject({ code, message: expect.any(String), details: [] });
}

async function start(
  options: Partial<LocalRuntimeOptions> = {},
): Promise<{ runtime: LocalRuntime; printed: string[] }> {
  const printed: string[] = [];
  const runtime = await startLocalRuntime({
    storage: { kind: 'in-memory' },
    table: `guard-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    port: 0,
    host: '127.0.0.1',
    tickEveryMs: 3_600_000,
    demo: true,
    graceMs: 0,
    cwd: repoRoot,
    maxWorkers: 1,
    print: (line) => printed.push(line),
    ...options,
  });
  return { runtime, printed };
}

describe('the local runtime on loopback (in-memory store)', () => {
  let runtime: LocalRuntime;
  let url: string;
  let port: string;
  beforeAll(async () => {
    ({ runtime } = await start());
    url = runtime.apiUrl;
    port = new URL(url).port;
    expect(runtime.storeKind).toBe('memory');
    expect(runtime.apiToken).toBeUndefined();
  });
  afterAll(async () => {
    await runtime?.stop({ graceMs: 0 });
  });

  const schedulerState = async () => (await send(url, { path: '/scheduler' })).body.state;
  const runsOfHeartbeat = async () =>
    ((await send(url, { path: '/tasks/demo-heartbeat/runs' })).body.items as unknown[]).length;

  it('refuses a foreign Host (DNS rebinding) on every route, the dashboard page too', async () => {
    for (const path of ['/scheduler', '/', '/openapi.json', '/no-such-route']) {
      expectRefusal(
        await send(url, { path, headers: { host: `attacker.example:${port}` } }),
        403,
        'forbidden_origin',
      );
    }
    expectRefusal(
      await send(url, { path: '/scheduler', headers: { host: '127.0.0.1:1' } }),
      403,
      'forbidden_origin',
    );
    expectRefusal(
      await send(url, {
        method: 'POST',
        path: '/scheduler/pause',
        headers: { host: `rebound.attacker.example:${port}`, 'content-type': 'application/json' },
      }),
      403,
      'forbidden_origin',
    );
    expect(await schedulerState()).toBe('running');
  });

  it('serves the loopback names with its port', async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await send(url, { path: '/scheduler', headers: { host } })).status).toBe(200);
    }
  });

  it('refuses a foreign Origin, reads and writes alike, and serves its own', async () => {
    for (const origin of [
      'http://attacker.example',
      'null',
      `https://localhost:${port}`,
      'http://localhost:1',
    ]) {
      expectRefusal(await send(url, { path: '/tasks', headers: { origin } }), 403, 'forbidden_origin');
    }
    expectRefusal(
      await send(url, {
        method: 'POST',
        path: '/scheduler/pause',
        headers: { origin: 'http://attacker.example', 'content-type': 'application/json' },
      }),
      403,
      'forbidden_origin',
    );
    expect(await schedulerState()).toBe('running');
    const own = await send(url, { path: '/scheduler', headers: { origin: `http://localhost:${port}` } });
    expect(own.status).toBe(200);
  });

  it('refuses a state-changing request that is not JSON (a cross-site form or simple fetch), changing nothing', async () => {
    for (const contentType of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
      expectRefusal(
        await send(url, { method: 'POST', path: '/scheduler/pause', headers }),
        415,
        'unsupported_media_type',
      );
      expectRefusal(
        await send(url, { method: 'POST', path: '/tasks/demo-heartbeat/run', headers }),
        415,
        'unsupported_media_type',
      );
      expectRefusal(
        await send(url, { method: 'DELETE', path: '/tasks/demo-heartbeat', headers }),
        415,
        'unsupported_media_type',
      );
    }
    expect(await schedulerState()).toBe('running');
    expect(await runsOfHeartbeat()).toBe(0);
    expect((await send(url, { path: '/tasks/demo-heartbeat' })).status).toBe(200);
    // With the JSON content type, a body-less pause works (as the CLI and the dashboard send it).
    const json = { 'content-type': 'application/json' };
    expect((await send(url, { method: 'POST', path: '/scheduler/pause', headers: json })).status).toBe(200);
    expect(await schedulerState()).toBe('paused');
    expect((await send(url, { method: 'POST', path: '/scheduler/resume', headers: json })).status).toBe(200);
  });

  it('answers a 20 kB URL with a JSON 431', async () => {
    const response = await fetch(`${url}/tasks?x=${'a'.repeat(20_000)}`);
    expect(response.status).toBe(431);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { code: 'headers_too_large' } });
  });

  it('answers an unknown method and a malformed request with a JSON 400', async () => {
    const host = `Host: 127.0.0.1:${port}\r\n`;
    expectRefusal(await sendRaw(url, `FROB /tasks HTTP/1.1\r\n${host}\r\n`), 400, 'bad_request');
    expectRefusal(
      await sendRaw(url, `GET /tasks HTTP/1.1\r\n${host}Content-Length: nope\r\n\r\n`),
      400,
      'bad_request',
    );
    expectRefusal(await sendRaw(url, 'this is not HTTP\r\n\r\n'), 400, 'bad_request');
  });

  it('answers a 10 MB body with a 413 that fetch can read', async () => {
    const response = await fetch(`${url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"id":"${'x'.repeat(10 * 1024 * 1024)}"}`,
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    // The runtime still serves.
    expect((await fetch(`${url}/scheduler`)).status).toBe(200);
  });
});

describe('the local runtime with a token (listening beyond loopback)', () => {
  const started: LocalRuntime[] = [];
  afterAll(async () => {
    await Promise.all(started.map((r) => r.stop({ graceMs: 0 })));
  });

  it('needs the given token on every API request, but loads the dashboard page', async () => {
    const { runtime } = await start({ apiToken: 'a-test-token' });
    started.push(runtime);
    const url = runtime.apiUrl;
    expectRefusal(await send(url, { path: '/scheduler' }), 401, 'unauthorized');
    expectRefusal(
      await send(url, { path: '/scheduler', headers: { authorization: 'Bearer wrong-token' } }),
      401,
      'unauthorized',
    );
    expectRefusal(
      await send(url, { path: '/openapi.json', headers: { authorization: 'Basic a-test-token' } }),
      401,
      'unauthorized',
    );
    expectRefusal(
      await send(url, {
        method: 'POST',
        path: '/scheduler/pause',
        headers: { 'content-type': 'application/json' },
      }),
      401,
      'unauthorized',
    );
    const ok = await send(url, { path: '/scheduler', headers: { authorization: 'Bearer a-test-token' } });
    expect(ok.status).toBe(200);
    expect(ok.body.state).toBe('running');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('bound to 0.0.0.0, generates a token, prints it, and requires it (reached through 127.0.0.1 only)', async () => {
    const { runtime, printed } = await start({ host: '0.0.0.0' });
    started.push(runtime);
    const token = runtime.apiToken;
    expect(token).toMatch(/^[\w-]{32}$/);
    expect(printed.join('\n')).toContain(`#token=${token}`);
    const url = runtime.apiUrl;
    expectRefusal(await send(url, { path: '/scheduler' }), 401, 'unauthorized');
    const ok = await send(url, { path: '/scheduler', headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
  });
});

describe('the local runtime serving the bundled API (DynamoDB Local)', () => {
  let runtime: LocalRuntime;
  let url: string;
  beforeAll(async () => {
    const endpoint = inject('dynamoEndpoint');
    if (!endpoint) throw new Error(inject('dynamoUnavailable'));
    ({ runtime } = await start({ storage: { kind: 'endpoint', endpoint } }));
    url = runtime.apiUrl;
    expect(runtime.storeKind).toBe('dynamodb');
  });
  afterAll(async () => {
    await runtime?.stop({ graceMs: 0 });
  });

  it('installs the same gate and the same Node-level answers', async () => {
    const { port } = new URL(url);
    expectRefusal(
      await send(url, { path: '/scheduler', headers: { host: `attacker.example:${port}` } }),
      403,
      'forbidden_origin',
    );
    expectRefusal(
      await send(url, { path: '/scheduler', headers: { origin: 'http://attacker.example' } }),
      403,
      'forbidden_origin',
    );
    expectRefusal(
      await send(url, { method: 'POST', path: '/scheduler/pause' }),
      415,
      'unsupported_media_type',
    );
    expect((await send(url, { path: '/scheduler' })).body.state).toBe('running');
    expectRefusal(
      await sendRaw(url, `FROB / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`),
      400,
      'bad_request',
    );
    const long = await fetch(`${url}/tasks?x=${'a'.repeat(20_000)}`);
    expect(long.status).toBe(431);
    const big = await fetch(`${url}/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(10 * 1024 * 1024),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { code: 'payload_too_large' } });
  });
});
