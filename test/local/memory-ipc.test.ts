/**
 * The local runtime's in-memory store reached by its workers over IPC: every store call the task
 * SDK makes is served, those of an idempotent, unlisted task's run included (`recordRun` with its
 * listing), through the demo task on a real worker.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalRuntime } from '../../src/local/runtime.js';
import { startLocalRuntime } from '../../src/local/runtime.js';
import { waitFor } from '../support/wait.js';

// Java hidden from this file: the runtime falls back to its in-memory store.
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
let runtime: LocalRuntime;

beforeAll(async () => {
  runtime = await startLocalRuntime({
    storage: { kind: 'in-memory' },
    table: `ipc-${Date.now()}`,
    port: 0,
    host: '127.0.0.1',
    tickEveryMs: 3_600_000,
    demo: true,
    graceMs: 0,
    cwd: repoRoot,
    maxWorkers: 1,
    print: () => {},
  });
  expect(runtime.storeKind).toBe('memory');
}, 60_000);

afterAll(async () => {
  await runtime?.stop({ graceMs: 0 });
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${runtime.apiUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    etag: response.headers.get('etag'),
    body: (await response.json()) as Record<string, unknown> & { items?: unknown[] },
  };
}

describe('the in-memory local runtime', () => {
  it('runs an idempotent task with listSucceeded false in a worker: recorded, in its history only', async () => {
    const created = await call('POST', '/tasks', {
      id: 'every-second',
      name: 'Every second',
      type: 'demo.echo',
      schedule: '* * * * * *',
      idempotent: true,
      listSucceeded: false,
    });
    expect(created.body).toMatchObject({ idempotent: true, listSucceeded: false });

    const history = async () =>
      (await call('GET', '/tasks/every-second/runs')).body.items as { runId: string; status: string }[];
    await waitFor(async () => (await history()).some((r) => r.status === 'succeeded'), 20_000, {
      what: 'a successful run',
    });
    const succeeded = (await history()).filter((r) => r.status === 'succeeded').map((r) => r.runId);
    const across = (await call('GET', '/runs?taskId=every-second')).body.items as { runId: string }[];
    expect(across.map((r) => r.runId).filter((id) => succeeded.includes(id))).toEqual([]);
  }, 60_000);
});
