/** The local runtime's gate, alone, through Hono's `app.request`. */
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { guardFetch, isLoopback, localGuard, localHosts } from '../../src/api/local-guard.js';

const hosts = localHosts({ port: 3000, bind: '127.0.0.1' });

function appWith(token?: string) {
  const app = new Hono();
  app.use('*', localGuard({ hosts, token }));
  app.get('/', (c) => c.html('<p>dashboard</p>'));
  app.all('*', (c) => c.json({ ok: true, method: c.req.method }));
  return app;
}

async function refusal(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as { error: { code: string; message: string; details: unknown[] } };
  expect(body.error.details).toEqual([]);
  return { status: response.status, code: body.error.code };
}

const local = { host: 'localhost:3000' };
const json = { 'content-type': 'application/json' };

describe('localHosts and isLoopback', () => {
  it('allows the loopback names with the port, and the bound address', () => {
    expect(localHosts({ port: 3000, bind: '127.0.0.1' })).toEqual([
      'localhost:3000',
      '127.0.0.1:3000',
      '[::1]:3000',
    ]);
    expect(localHosts({ port: 8080, bind: '0.0.0.0', addresses: ['192.168.1.20', 'fe80::1'] })).toEqual([
      'localhost:8080',
      '127.0.0.1:8080',
      '[::1]:8080',
      '0.0.0.0:8080',
      '192.168.1.20:8080',
      '[fe80::1]:8080',
    ]);
    expect(localHosts({ port: 80, bind: '::1' })).toContain('localhost');
  });

  it('tells loopback binds from the others', () => {
    for (const bind of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]'])
      expect(isLoopback(bind)).toBe(true);
    for (const bind of ['0.0.0.0', '::', '192.168.1.20', 'example.com', ''])
      expect(isLoopback(bind)).toBe(false);
  });
});

describe('localGuard', () => {
  it('serves a loopback Host, with or without its own Origin', async () => {
    const app = appWith();
    for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'LocalHost:3000']) {
      expect((await app.request('/tasks', { headers: { host } })).status).toBe(200);
    }
    const own = await app.request('/tasks', { headers: { ...local, origin: 'http://127.0.0.1:3000' } });
    expect(own.status).toBe(200);
  });

  it('refuses a foreign or missing Host with a JSON 403', async () => {
    const app = appWith();
    for (const host of ['attacker.example:3000', 'localhost:3001', 'localhost', '127.0.0.1']) {
      expect(await refusal(await app.request('/', { headers: { host } }))).toEqual({
        status: 403,
        code: 'forbidden_origin',
      });
    }
    expect(await refusal(await app.request('/tasks'))).toEqual({ status: 403, code: 'forbidden_origin' });
  });

  it('refuses a foreign Origin with a JSON 403', async () => {
    const app = appWith();
    for (const origin of [
      'http://attacker.example',
      'null',
      'https://localhost:3000',
      'http://localhost:3001',
    ]) {
      expect(await refusal(await app.request('/tasks', { headers: { ...local, origin } }))).toEqual({
        status: 403,
        code: 'forbidden_origin',
      });
    }
  });

  it('refuses a state-changing request that is not JSON with a JSON 415', async () => {
    const app = appWith();
    for (const method of ['POST', 'PATCH', 'PUT', 'DELETE']) {
      for (const contentType of [
        undefined,
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
      ]) {
        const headers = contentType ? { ...local, 'content-type': contentType } : local;
        expect(await refusal(await app.request('/scheduler/pause', { method, headers }))).toEqual({
          status: 415,
          code: 'unsupported_media_type',
        });
      }
      const ok = await app.request('/scheduler/pause', { method, headers: { ...local, ...json } });
      expect(ok.status).toBe(200);
    }
    const charset = { ...local, 'content-type': 'application/json; charset=utf-8' };
    expect((await app.request('/x', { method: 'POST', headers: charset })).status).toBe(200);
    expect((await app.request('/x', { method: 'OPTIONS', headers: local })).status).toBe(200);
  });

  it('with a token, needs Authorization: Bearer on every request but the dashboard page', async () => {
    const app = appWith('s3cret-token');
    for (const authorization of [
      undefined,
      'Bearer wrong',
      'Bearer s3cret-tok',
      'Bearer s3cret-token-and-more',
      's3cret-token',
      'Basic s3cret-token',
    ]) {
      const headers = authorization ? { ...local, authorization } : local;
      const response = await app.request('/tasks', { headers });
      expect(await refusal(response)).toEqual({ status: 401, code: 'unauthorized' });
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    const right = { ...local, authorization: 'Bearer s3cret-token' };
    expect((await app.request('/tasks', { headers: right })).status).toBe(200);
    expect(
      (await app.request('/scheduler/pause', { method: 'POST', headers: { ...right, ...json } })).status,
    ).toBe(200);
    expect((await app.request('/', { headers: local })).status).toBe(200);
    expect((await app.request('/', { method: 'POST', headers: { ...local, ...json } })).status).toBe(401);
    // Host and Origin come first: a foreign page learns nothing about the token.
    const foreign = await app.request('/tasks', { headers: { host: 'attacker.example:3000' } });
    expect(foreign.status).toBe(403);
  });
});

describe('guardFetch', () => {
  it('passes what the gate lets through to the wrapped fetch, untouched', async () => {
    const seen: Request[] = [];
    const fetch = guardFetch(
      async (request) => {
        seen.push(request);
        return Response.json({ body: await request.text() }, { status: 201 });
      },
      { hosts },
    );
    const ok = await fetch(
      new Request('http://localhost:3000/tasks', {
        method: 'POST',
        headers: { ...local, ...json },
        body: '{"a":1}',
      }),
    );
    expect(ok.status).toBe(201);
    expect(await ok.json()).toEqual({ body: '{"a":1}' });
    const refused = await fetch(
      new Request('http://localhost:3000/tasks', { headers: { host: 'attacker.example' } }),
    );
    expect(refused.status).toBe(403);
    expect(seen).toHaveLength(1);
  });
});
