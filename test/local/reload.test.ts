/**
 * Local reload through real worker processes: a changed handler file is picked up by the next
 * invocation, a run going on finishes on its old code, and a changed config says to restart.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalFunction, LocalSetup } from '../../src/local/config.js';
import { isHandlerSource, watchHandlers } from '../../src/local/reload.js';
import { FunctionPool } from '../../src/local/worker-pool.js';
import { waitFor } from '../support/wait.js';

const workerEntry = new URL('../../src/local/worker-main.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'tickwork-reload-'));
const modulePath = join(dir, 'handler.mjs');
const configPath = join(dir, 'tickwork.config.mjs');

const version = (v: string, delayMs = 0) =>
  `export const handler = async () => { await new Promise((r) => setTimeout(r, ${delayMs})); return '${v}'; };\n`;

writeFileSync(modulePath, version('v1'));
writeFileSync(configPath, 'export default {};\n');
const fn: LocalFunction = {
  name: 'reloading',
  modulePath,
  exportName: 'handler',
  tasksExport: 'tasks',
  timeoutSeconds: 30,
  types: [],
};
const setup: LocalSetup = { source: configPath, functions: [fn], types: [], demo: false };
const pool = new FunctionPool(fn, {
  entry: workerEntry,
  execArgv: ['--import', 'tsx'],
  env: { PATH: process.env.PATH },
  maxWorkers: 2,
});
const printed: string[] = [];
const stop = watchHandlers(setup, new Map([[fn.name, pool]]), (line) => printed.push(line), {
  debounceMs: 100,
  cwd: dir,
});
afterAll(async () => {
  stop();
  await pool.shutdown(0);
});

let n = 0;
async function invoke(): Promise<string> {
  const outcome = await pool.invoke({
    requestId: `req-${++n}`,
    payload: '{}',
    timeoutMs: 20_000,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:reloading',
  });
  if (!outcome.ok) throw new Error(outcome.error.errorMessage);
  return JSON.parse(outcome.payload) as string;
}

describe('local reload', () => {
  it('runs the changed handler on the next invocation, and says so', async () => {
    expect(await invoke()).toBe('v1');
    writeFileSync(modulePath, version('v2'));
    await waitFor(() => printed.some((l) => l.includes('handler.mjs changed: handlers reloaded')), 10_000);
    expect(await invoke()).toBe('v2');
  });

  it('lets a run going on finish on the code it started with', async () => {
    const reloads = () => printed.filter((l) => l.includes('handlers reloaded')).length;
    let before = reloads();
    writeFileSync(modulePath, version('slow-v3', 1_500));
    await waitFor(() => reloads() > before, 10_000);
    expect(await invoke()).toBe('slow-v3'); // a warm worker on the slow code
    const running = invoke();
    await new Promise((r) => setTimeout(r, 300));
    before = reloads();
    writeFileSync(modulePath, version('v4'));
    expect(await running).toBe('slow-v3');
    await waitFor(() => reloads() > before, 10_000);
    expect(await invoke()).toBe('v4');
  });

  it('asks for a restart when the config changes', async () => {
    writeFileSync(configPath, 'export default { functions: {} };\n');
    await waitFor(() => printed.some((l) => l.includes('changed: restart tickwork dev')), 10_000);
  });

  it('reloads for sources, not for dependencies or build output', () => {
    expect(isHandlerSource('src/report.ts')).toBe(true);
    expect(isHandlerSource('data/regions.json')).toBe(true);
    expect(isHandlerSource('node_modules/x/index.js')).toBe(false);
    expect(isHandlerSource('dist/lambda/tick/index.mjs')).toBe(false);
    expect(isHandlerSource('notes.md')).toBe(false);
  });
});
