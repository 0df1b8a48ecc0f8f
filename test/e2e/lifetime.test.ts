/**
 * `npm start` is one process tree that dies whole: a `kill -9` of the shell npm spawned, of the
 * runtime, or of the whole process group leaves no process behind (runtime, worker processes,
 * DynamoDB Local's JVM and its lifeline) within a few seconds, and the next start on the same
 * data directory works and still has the data. Local target only (LocalStack has no process
 * tree), Linux only (the tree is read from `/proc`, as CI runs it).
 *
 * One chain: start → kill the shell → start → kill the runtime → start → kill the group →
 * start → Ctrl-C; each start after a kill is the "next start" of that kill.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/local/dynamodb-local.js';
import { engineFileName } from '../../src/local/lifeline.js';
import { onLocalStack, repoRoot } from './target.js';

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  cmd: string;
}

/** Every process on the machine (zombies included; `state` says). */
function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({
        pid: Number(name),
        state: fields[0] ?? '?',
        ppid: Number(fields[1]),
        pgid: Number(fields[2]),
        cmd,
      });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** `root` and all its descendants. */
function tree(root: number): Proc[] {
  const all = processes();
  const found = all.filter((p) => p.pid === root);
  for (let i = 0; i < found.length; i++) {
    const parent = found[i] as Proc;
    found.push(...all.filter((p) => p.ppid === parent.pid));
  }
  return found;
}

/** The processes among `pids` that still live (a zombie has exited). */
function living(pids: number[]): Proc[] {
  const wanted = new Set(pids);
  return processes().filter((p) => wanted.has(p.pid) && p.state !== 'Z');
}

interface Started {
  npm: ChildProcess;
  port: number;
  output: () => string;
  /** The tree, by role. */
  shell: Proc;
  runtime: Proc;
  jvm: Proc;
  lifeline: Proc;
  workers: Proc[];
  all: Proc[];
}

/** `npm start` in a process group of its own, ready once the API answers and a worker is up. */
async function npmStart(dataDir: string): Promise<Started> {
  const port = await freePort();
  const npm = spawn(
    'npm',
    ['start', '--', '--port', String(port), '--data-dir', dataDir, '--tick-every', '1s'],
    {
      cwd: repoRoot,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, as a terminal's foreground job has
    },
  );
  let output = '';
  npm.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  npm.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (npm.exitCode !== null) throw new Error(`npm start exited (${npm.exitCode}):\n${output}`);
    const ok = await fetch(`http://127.0.0.1:${port}/scheduler`).then(
      (r) => r.ok,
      () => false,
    );
    const all = ok ? tree(npm.pid as number) : [];
    const workers = all.filter((p) => p.cmd.includes('worker-main'));
    if (ok && workers.length > 0) {
      const one = (what: string, test: (p: Proc) => boolean) => {
        const found = all.find(test);
        if (!found) throw new Error(`no ${what} in the tree:\n${all.map((p) => p.cmd).join('\n')}`);
        return found;
      };
      const shell = one('shell', (p) => p.ppid === npm.pid);
      return {
        npm,
        port,
        output: () => output,
        shell,
        runtime: one('runtime', (p) => p.ppid === shell.pid && p.cmd.includes('dev')),
        jvm: one('JVM', (p) => p.cmd.startsWith('java') && p.cmd.includes(dataDir)),
        lifeline: one('lifeline', (p) => p.cmd.includes('tickwork-lifeline')),
        workers,
        all,
      };
    }
    if (Date.now() > deadline) {
      process.kill(-(npm.pid as number), 'SIGKILL');
      throw new Error(`npm start was not ready in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until none of `procs` lives; how long that took. */
async function allGone(procs: Proc[], withinMs: number): Promise<{ ms: number; left: Proc[] }> {
  const started = Date.now();
  let left = living(procs.map((p) => p.pid));
  while (left.length > 0 && Date.now() - started < withinMs) {
    await new Promise((r) => setTimeout(r, 100));
    left = living(procs.map((p) => p.pid));
  }
  return { ms: Date.now() - started, left };
}

async function createTask(port: number, id: string): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}/tasks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: id, type: 'demo.echo', schedule: '0 0 1 1 *' }),
  });
  expect(response.status, await response.text()).toBe(201);
}

async function taskExists(port: number, id: string): Promise<boolean> {
  return (await fetch(`http://127.0.0.1:${port}/tasks/${id}`)).status === 200;
}

const kills: { name: string; kill: (s: Started) => void }[] = [
  { name: 'the PID npm start spawned (its shell)', kill: (s) => process.kill(s.shell.pid, 'SIGKILL') },
  { name: 'the runtime', kill: (s) => process.kill(s.runtime.pid, 'SIGKILL') },
  { name: 'the whole process group', kill: (s) => process.kill(-(s.npm.pid as number), 'SIGKILL') },
];

describe.skipIf(onLocalStack)('npm start dies whole', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tickwork-lifetime-'));
  let current: Started | undefined;
  afterAll(() => {
    if (current) for (const p of living(current.all.map((q) => q.pid))) process.kill(p.pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves nothing behind after a kill -9 of the shell, the runtime or the group; the next start works', async () => {
    current = await npmStart(dataDir);
    await createTask(current.port, 'kept-across-kills');
    for (const { name, kill } of kills) {
      const before = current;
      expect(before.workers.length, 'a worker process is up').toBeGreaterThan(0);
      kill(before);
      const { ms, left } = await allGone(before.all, 10_000);
      expect(
        left.map((p) => `${p.pid} ${p.cmd.slice(0, 120)}`),
        `after a kill -9 of ${name}`,
      ).toEqual([]);
      expect(ms, `after a kill -9 of ${name}`).toBeLessThan(8_000);

      current = await npmStart(dataDir);
      expect(await taskExists(current.port, 'kept-across-kills'), `restart after ${name}`).toBe(true);
      expect(current.output()).not.toContain('Seeded'); // the same table, not a new one
    }
    // And a Ctrl-C (SIGINT to the group) still stops it all cleanly, the record of the engine with it.
    const last = current;
    process.kill(-(last.npm.pid as number), 'SIGINT');
    const { left } = await allGone(last.all, 15_000);
    expect(left.map((p) => p.cmd.slice(0, 120))).toEqual([]);
    expect(last.output()).toContain('Stopped in');
    expect(existsSync(join(dataDir, engineFileName))).toBe(false);
    current = undefined;
  }, 300_000);
});
