/**
 * DynamoDB Local's lifetime: its lifeline stops it when its owner dies, and the data directory's
 * record lets the next start clean up after an owner that died with its lifeline, or refuse while
 * that owner still runs. Real JVMs, real `kill -9`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startDynamoDbLocal } from '../../src/local/dynamodb-local.js';
import {
  commandLineOf,
  DataDirInUseError,
  engineFileName,
  reclaimDataDir,
} from '../../src/local/lifeline.js';
import { waitFor } from '../support/wait.js';

const root = new URL('../../', import.meta.url);
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A separate Node process that starts DynamoDB Local on `dataDir` and stays up: an owner to kill. */
async function ownerProcess(dataDir: string) {
  const program = `
    const { startDynamoDbLocal } = await import('./src/local/dynamodb-local.ts');
    const engine = await startDynamoDbLocal({ dbPath: ${JSON.stringify(dataDir)}, fastStart: true });
    console.log('ready ' + engine.pid);
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const jvm = await new Promise<number>((done, fail) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /ready (\d+)/.exec(chunk.toString());
      if (match) done(Number(match[1]));
    });
    child.once('exit', (code) => fail(new Error(`the owner exited (${code}) before it was ready`)));
  });
  const record = JSON.parse(readFileSync(join(dataDir, engineFileName), 'utf8')) as {
    owner: number;
    jvm: number;
    lifeline: number;
  };
  return { child, jvm, record };
}

const alive = (pid: number) => commandLineOf(pid) !== undefined;

describe('DynamoDB Local lifetime', () => {
  it('stops the JVM when its owner is killed with -9, and records its processes on the data directory', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwork-lifeline-'));
    dirs.push(dataDir);
    const { child, jvm, record } = await ownerProcess(dataDir);
    expect(record).toEqual({ owner: child.pid, jvm, lifeline: expect.any(Number) });
    expect(commandLineOf(record.lifeline)).toContain('tickwork-lifeline');

    child.kill('SIGKILL');

    await waitFor(() => !alive(jvm) && !alive(record.lifeline), 10_000, {
      what: 'the JVM and its lifeline to exit',
    });
  }, 60_000);

  it('refuses a directory whose owner still runs, and reclaims it once the owner and lifeline died', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwork-lifeline-'));
    dirs.push(dataDir);
    const { child, jvm, record } = await ownerProcess(dataDir);

    await expect(reclaimDataDir(dataDir)).rejects.toThrow(DataDirInUseError);
    await expect(reclaimDataDir(dataDir)).rejects.toThrow(
      `in use by another tickwork runtime (pid ${child.pid})`,
    );

    // The hardest death: the owner and its lifeline at once. The JVM lives on, orphaned.
    process.kill(record.lifeline, 'SIGKILL');
    child.kill('SIGKILL');
    await waitFor(() => !alive(child.pid as number) && !alive(record.lifeline), 5_000, { what: 'the kills' });
    expect(alive(jvm)).toBe(true);

    await reclaimDataDir(dataDir);

    expect(alive(jvm)).toBe(false);
    expect(existsSync(join(dataDir, engineFileName))).toBe(false);
    // The next start on the directory works, and a clean stop leaves no record.
    const engine = await startDynamoDbLocal({ dbPath: dataDir, fastStart: true });
    await engine.stop();
    expect(existsSync(join(dataDir, engineFileName))).toBe(false);
  }, 90_000);

  it('leaves a recorded pid alone when it now belongs to another program', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tickwork-lifeline-'));
    dirs.push(dataDir);
    const bystander = spawn('sleep', ['30']);
    writeFileSync(
      join(dataDir, engineFileName),
      JSON.stringify({ owner: 999_999_999, jvm: bystander.pid, lifeline: bystander.pid }),
    );

    await reclaimDataDir(dataDir);

    expect(alive(bystander.pid as number)).toBe(true);
    bystander.kill('SIGKILL');
  });
});
