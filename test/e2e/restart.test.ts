/**
 * Persistent mode and shutdown, against real `tickwork dev` processes (local target only: a
 * LocalStack deployment has no process to restart): data in `--data-dir` survives a restart,
 * Ctrl-C exits 0 within 10 s, and no Java process outlives the runtime.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiOf, taskId } from './api.js';
import { onLocalStack, spawnDev } from './target.js';

/** Processes whose command line mentions `text`. */
function processesMentioning(text: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', text], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe.skipIf(onLocalStack)('local runtime: persistence and shutdown', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickwork-e2e-data-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps tasks and history across a restart, and stops cleanly on Ctrl-C', async () => {
    const args = ['--data-dir', dataDir, '--tick-every', '1s', '--grace', '1s'];
    const first = await spawnDev(args);
    const api = apiOf(first);
    const id = taskId('persist');
    // The demo tasks were seeded into the empty table.
    expect((await api.getTask('demo-heartbeat')).enabled).toBe(true);
    await api.createTask({
      id,
      name: 'persist',
      type: 'demo.echo',
      schedule: '0 0 1 1 *',
      parameters: { kept: true },
    });
    const { runId } = await api.runNow(id);
    await api.waitForRun(id, runId, (r) => r.status === 'succeeded', 10_000, 'the run to succeed');
    const longRun = await api.runNow('demo-import', { steps: 100, stepMs: 200 });
    await api.waitForRun('demo-import', longRun.runId, (r) => r.status === 'running', 5_000, 'a long run');

    const stopped = await first.stopWith('SIGINT');
    expect(stopped.code, first.output()).toBe(0);
    expect(stopped.ms).toBeLessThan(10_000);
    expect(processesMentioning(dataDir), 'no DynamoDB Local left behind').toEqual([]);

    const second = await spawnDev(args);
    try {
      const again = apiOf(second);
      const task = await again.getTask(id);
      expect(task.id).toBe(id);
      const run = await again.run(id, runId);
      expect(run).toMatchObject({ status: 'succeeded', result: '{"kept":true}' });
      // The run still going at Ctrl-C was stopped after the grace period and recorded as such.
      expect((await again.run('demo-import', longRun.runId)).status).toBe('cancelled');
      expect(second.output()).not.toContain('Seeded');
    } finally {
      const last = await second.stopWith('SIGTERM');
      expect(last.code).toBe(0);
    }
    expect(processesMentioning(dataDir)).toEqual([]);
    console.info(`ready after ${first.readyMs} ms (first start), ${second.readyMs} ms (restart)`);
  }, 90_000);
});
