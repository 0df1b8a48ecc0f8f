/** `parseApiResponse`: the one way the CLI and the dashboard read an answer of the admin API. */
import { describe, expect, it } from 'vitest';
import { parseApiResponse } from '../../src/api-response.js';

const answer = (body: string, status: number, statusText = '') =>
  parseApiResponse(new Response(status === 204 ? null : body, { status, statusText }));

describe('parseApiResponse', () => {
  it('returns the JSON body of a success, and undefined for an empty one', async () => {
    expect(await answer('{"id":"a"}', 200)).toEqual({ ok: true, body: { id: 'a' } });
    expect(await answer('', 204)).toEqual({ ok: true, body: undefined });
  });

  it("reads the API's error body: code, message and details", async () => {
    const body =
      '{"error":{"code":"validation_failed","message":"bad","details":[{"field":"x","message":"no"}]}}';
    expect(await answer(body, 400)).toEqual({
      ok: false,
      refusal: {
        status: 400,
        code: 'validation_failed',
        message: 'bad',
        details: [{ field: 'x', message: 'no' }],
      },
    });
  });

  it("falls back to API Gateway's {message}, then the text, then the status line", async () => {
    expect(await answer('{"message":"Forbidden"}', 403)).toMatchObject({
      refusal: { status: 403, code: 'http_403', message: 'Forbidden', details: [] },
    });
    expect(await answer('<html>bad gateway</html>', 502)).toMatchObject({
      refusal: { code: 'http_502', message: '<html>bad gateway</html>' },
    });
    expect(await answer('', 503, 'Service Unavailable')).toMatchObject({
      refusal: { code: 'http_503', message: '503 Service Unavailable' },
    });
    expect(await answer('x'.repeat(500), 500)).toMatchObject({ refusal: { message: 'x'.repeat(200) } });
  });
});
