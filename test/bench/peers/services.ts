/**
 * The servers the peers need, on this machine: PostgreSQL (pg-boss) and Redis (BullMQ), from
 * Debian's packages (`apt-get install -y postgresql redis-server` when missing), each started on a
 * free port of 127.0.0.1 in a temporary data directory and stopped after. Also the process-tree
 * meters the comparison reads: CPU time and resident memory of a process and its descendants.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../harness.js';

/** A free TCP port of 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Installs Debian packages when `binary` is on none of `paths`; returns the first that exists. */
function ensureInstalled(paths: string[], packages: string[], log: (line: string) => void): string {
  const found = paths.find((p) => existsSync(p));
  if (found) return found;
  log(`  peers: installing ${packages.join(' ')} (apt-get)`);
  execFileSync('apt-get', ['update'], { stdio: 'ignore' });
  execFileSync('apt-get', ['install', '-y', ...packages], { stdio: 'ignore' });
  const installed = paths.find((p) => existsSync(p));
  if (!installed) throw new Error(`installed ${packages.join(' ')} but found none of ${paths.join(', ')}`);
  return installed;
}

/** The newest PostgreSQL server's bin directory under /usr/lib/postgresql. */
function postgresBin(log: (line: string) => void): string {
  const versions = () =>
    existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql')
          .filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/postgres`))
          .sort((a, b) => Number(b) - Number(a))
      : [];
  if (versions().length === 0) ensureInstalled([], ['postgresql'], log);
  const version = versions()[0];
  if (!version) throw new Error('PostgreSQL is not installed under /usr/lib/postgresql');
  return `/usr/lib/postgresql/${version}/bin`;
}

export interface Service {
  /** Connection string (postgres://... or redis://...). */
  readonly url: string;
  readonly port: number;
  /** The server's main process. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs `command` as `user` (PostgreSQL refuses to run as root). */
function asUser(user: string, command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', user, '--', command, ...args]] : [command, args];
}

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`${what} did not come up in ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null) return done();
    child.once('exit', done);
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

/** PostgreSQL in a fresh cluster (trust auth on 127.0.0.1), as the `postgres` user when root. */
export async function startPostgres(log: (line: string) => void): Promise<Service> {
  const bin = postgresBin(log);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-peers-pg-'));
  if (process.getuid?.() === 0) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const [initdb, initArgs] = asUser('postgres', `${bin}/initdb`, [
    '-D',
    `${dir}/data`,
    '-A',
    'trust',
    '-U',
    'postgres',
  ]);
  execFileSync(initdb, initArgs, { stdio: 'ignore' });
  const [postgres, args] = asUser('postgres', `${bin}/postgres`, [
    '-D',
    `${dir}/data`,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'max_connections=200',
    '-c',
    'fsync=off',
  ]);
  const child = spawn(postgres, args, { stdio: 'ignore' });
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitFor(() => {
    try {
      execFileSync(`${bin}/pg_isready`, ['-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }, 'PostgreSQL');
  // runuser forks: the server is its child.
  const pid = childPidOf(child.pid as number, 'postgres') ?? (child.pid as number);
  return { url, port, pid, stop: () => stopChild(child, dir) };
}

/** Redis with no persistence in a temporary directory. */
export async function startRedis(log: (line: string) => void): Promise<Service> {
  const binary = ensureInstalled(['/usr/bin/redis-server'], ['redis-server'], log);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tickwork-peers-redis-'));
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await waitFor(() => {
    try {
      execFileSync('redis-cli', ['-p', String(port), 'ping'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  }, 'Redis');
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid as number,
    stop: () => stopChild(child, dir),
  };
}

/** Parent and name of every process, from /proc. */
function processTable(): { pid: number; ppid: number; name: string }[] {
  const rows: { pid: number; ppid: number; name: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      rows.push({ pid: Number(entry), ppid: Number(fields[1]), name });
    } catch {
      // gone meanwhile
    }
  }
  return rows;
}

function childPidOf(pid: number, name: string): number | undefined {
  return processTable().find((p) => p.ppid === pid && p.name === name)?.pid;
}

/** `pid` and its living descendants. */
function treeOf(pid: number): number[] {
  const table = processTable();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const p of table) if (p.ppid === tree[i]) tree.push(p.pid);
  }
  return tree;
}

/**
 * CPU time of a process tree so far, ms: each living process's own time, plus the time of the
 * children the root has reaped (Linux's cutime and cstime).
 */
export function treeCpuMs(root: number): number {
  let ticks = 0;
  for (const pid of treeOf(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
      if (pid === root) ticks += Number(f[13]) + Number(f[14]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks * 10;
}

/** Resident memory of a process tree now, MiB. */
export function treeRssMiB(root: number): number {
  let pages = 0;
  for (const pid of treeOf(root)) {
    try {
      pages += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]);
    } catch {
      // gone meanwhile
    }
  }
  return (pages * 4096) / 2 ** 20;
}

/**
 * CPU time so far of a process tree, ms, split by command line: each living process's own time
 * goes to the first group whose pattern its command line matches (else `other`), and the time of
 * the children it has reaped with it.
 */
export function treeCpuByCommand(root: number, groups: Record<string, RegExp>): Record<string, number> {
  const split: Record<string, number> = { other: 0 };
  for (const name of Object.keys(groups)) split[name] = 0;
  for (const pid of treeOf(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const group = Object.keys(groups).find((name) => groups[name]?.test(command)) ?? 'other';
      const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      split[group] = (split[group] ?? 0) + ticks * 10;
    } catch {
      // gone meanwhile
    }
  }
  return split;
}
