/**
 * The request-body gate, in front of every route: size limit (Content-Length and the bytes
 * actually read), content type, JSON syntax, nesting and keys that would reach a prototype. What passes is cached on the request,
 * so the routes' validators parse a body that is known to be sound.
 */
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';
import { JSON_TYPE } from './media-type.js';
import { RESERVED_KEYS, reservedKeyPath } from './parameters.js';
import { MAX_BODY_BYTES } from './schemas.js';

/** Deepest JSON any body may have (parameters have their own, lower limit). */
export const MAX_BODY_DEPTH = 64;

const tooLarge = () => new ApiError('payload_too_large', `the body is over ${MAX_BODY_BYTES / 1024} KiB`);

/** Reads a body stream, refusing it once it passes `limit` bytes. */
async function readLimited(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Whether a parsed JSON value nests deeper than `max` (iterative: any depth is safe to check). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (depth > max) return true;
    if (typeof v === 'object' && v !== null) {
      for (const child of Array.isArray(v) ? v : Object.values(v)) {
        if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      }
    }
  }
  return false;
}

/** The gate. Bodies on GET and HEAD are ignored, as HTTP says. */
export const bodyGate: MiddlewareHandler = async (c, next) => {
  const method = c.req.method;
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return next();
  const declared = c.req.header('content-length');
  if (declared !== undefined && !(Number(declared) <= MAX_BODY_BYTES)) throw tooLarge();
  const bytes = await readLimited(c.req.raw.body, MAX_BODY_BYTES);
  let text = '';
  if (bytes.byteLength > 0) {
    const contentType = c.req.header('content-type') ?? '';
    if (!JSON_TYPE.test(contentType)) {
      throw new ApiError(
        'unsupported_media_type',
        `bodies must be application/json, not ${contentType === '' ? '(none)' : JSON.stringify(contentType.slice(0, 100))}`,
      );
    }
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new ApiError('invalid_json', 'the body is not valid UTF-8');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      const why = error instanceof SyntaxError ? error.message.slice(0, 200) : 'too deeply nested';
      throw new ApiError('invalid_json', `the body is not valid JSON: ${why}`);
    }
    if (nestsDeeperThan(parsed, MAX_BODY_DEPTH)) {
      throw new ApiError('invalid_json', `the body is nested more than ${MAX_BODY_DEPTH} levels deep`);
    }
    // Copying such a key onto an object sets its prototype, or shadows it: refuse them anywhere.
    const reserved = reservedKeyPath(parsed);
    if (reserved !== undefined) {
      const message = `is a reserved key (${[...RESERVED_KEYS].join(', ')} are not allowed)`;
      throw new ApiError('validation_failed', `${reserved}: ${message}`, [{ field: reserved, message }]);
    }
  }
  // Routes parse what was read here; an empty body reads as `{}` (e.g. run-now without options).
  const cached = text === '' ? '{}' : text;
  const cache = c.req.bodyCache as Record<string, Promise<unknown>>;
  cache.text = Promise.resolve(cached);
  cache.arrayBuffer = Promise.resolve(bytes.buffer);
  return next();
};
