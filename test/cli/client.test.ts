import { describe, expect, it } from 'vitest';
import { ApiClient, ApiClientError, regionOfHost } from '../../src/cli/client.js';

const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

function recordingFetch(status = 200, body = '{}') {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetchImpl = (async (url: URL | string, init: RequestInit = {}) => {
    calls.push({ url: String(url), init });
    return new Response(body, { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe('ApiClient', () => {
  it('reads the region from an execute-api host', () => {
    expect(regionOfHost('abc123.execute-api.eu-west-1.amazonaws.com')).toBe('eu-west-1');
    expect(regionOfHost('api.example.com')).toBeUndefined();
  });

  it('signs requests to an AWS endpoint with SigV4 (execute-api, region from the host)', async () => {
    const { calls, fetchImpl } = recordingFetch();
    const client = new ApiClient({
      endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
      credentials,
      fetch: fetchImpl,
    });
    await client.runNow('nightly', { a: 1 });
    const call = calls[0];
    expect(call?.url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/tasks/nightly/run');
    const headers = call?.init.headers as Record<string, string>;
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request/,
    );
    expect(headers['x-amz-content-sha256'] ?? headers['x-amz-date']).toBeDefined();
  });

  it('does not sign local endpoints; turns error bodies into ApiClientError', async () => {
    const { calls, fetchImpl } = recordingFetch(
      404,
      '{"error":{"code":"task_not_found","message":"task x does not exist","details":[]}}',
    );
    const client = new ApiClient({ endpoint: 'http://127.0.0.1:3000', fetch: fetchImpl });
    const error = await client.getTask('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiClientError);
    expect(error).toMatchObject({ status: 404, code: 'task_not_found', message: 'task x does not exist' });
    expect(((calls[0]?.init.headers ?? {}) as Record<string, string>).authorization).toBeUndefined();
  });

  it('sends every state-changing request as JSON, body or not, and the bearer token it is given', async () => {
    const { calls, fetchImpl } = recordingFetch();
    const client = new ApiClient({ endpoint: 'http://127.0.0.1:3000', fetch: fetchImpl, token: 't0ken' });
    await client.request('POST', '/scheduler/pause');
    await client.deleteTask('x');
    await client.getTask('x');
    const headers = calls.map((c) => c.init.headers as Record<string, string>);
    expect(headers.map((h) => h['content-type'])).toEqual([
      'application/json',
      'application/json',
      undefined,
    ]);
    expect(headers.every((h) => h.authorization === 'Bearer t0ken')).toBe(true);
  });

  it('sends one idempotency key per run-now and the same key again when the answer was lost', async () => {
    const keys: string[] = [];
    let answered = 0;
    const flaky = (async (_url: URL | string, init: RequestInit = {}) => {
      keys.push((init.headers as Record<string, string>)['idempotency-key'] ?? '');
      answered++;
      if (answered === 1) throw new TypeError('fetch failed'); // the reply to the first attempt is lost
      if (answered === 2)
        return new Response('{"error":{"code":"unavailable","message":"busy","details":[]}}', {
          status: 503,
        });
      return new Response('{"runId":"r1","status":"dispatched"}', { status: 202 });
    }) as typeof fetch;
    const client = new ApiClient({ endpoint: 'http://127.0.0.1:3000', fetch: flaky });
    expect(await client.runNow('nightly')).toEqual({ runId: 'r1', status: 'dispatched' });
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    // A new invocation is a new key; a refusal (4xx) is not retried.
    const { calls, fetchImpl } = recordingFetch(
      409,
      '{"error":{"code":"conflict","message":"no","details":[]}}',
    );
    await expect(
      new ApiClient({ endpoint: 'http://127.0.0.1:3000', fetch: fetchImpl }).runNow('x'),
    ).rejects.toThrow(ApiClientError);
    expect(calls).toHaveLength(1);
    const sent = calls[0]?.init.headers as Record<string, string> | undefined;
    expect(sent?.['idempotency-key']).not.toBe(keys[0]);
  });
});
