/**
 * Nothing a running `tickwork dev` opens listens beyond loopback (local target only). The
 * listening sockets of its whole process tree (the runtime, its Lambda workers, DynamoDB Local's
 * JVM) come from `/proc`: each must be bound to a loopback address, and a connection to each port
 * from every non-loopback address of this machine must be refused.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevProcess, onLocalStack, spawnDev } from './target.js';

interface ListeningSocket {
  address: string;
  port: number;
  inode: string;
}

/** Listening TCP sockets from `/proc/net/tcp` and `tcp6` (state `0A`). */
function listeningSockets(): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue;
      const [hexAddress = '', hexPort = ''] = (fields[1] ?? '').split(':');
      sockets.push({
        address: procAddress(hexAddress, v6),
        port: Number.parseInt(hexPort, 16),
        inode: fields[9] ?? '',
      });
    }
  }
  return sockets;
}

/** `/proc/net/tcp*` addresses: 32-bit words in host (little-endian) byte order. */
function procAddress(hex: string, v6: boolean): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((word) =>
    (word.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)),
  );
  if (!v6) return bytes.join('.');
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 255 && bytes[11] === 255) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':');
}

/** `pid` and every process below it. */
function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/** Socket inodes the processes hold open. */
function socketInodes(pids: number[]): Set<string> {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
  }
  return inodes;
}

const isLoopback = (address: string) =>
  address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');

function connectFrom(host: string, port: number): Promise<'refused' | 'connected' | string> {
  return new Promise((done) => {
    const socket = connect({ host, port, timeout: 2000 });
    socket.once('connect', () => {
      socket.destroy();
      done('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      done('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'refused' : String(error.code)),
    );
  });
}

describe.skipIf(onLocalStack)('local runtime: nothing listens beyond loopback', () => {
  let dev: DevProcess;
  beforeAll(async () => {
    dev = await spawnDev(['--tick-every', '1s']);
  }, 90_000);
  afterAll(async () => {
    await dev?.stopWith('SIGINT');
  });

  it('binds the API, the Lambda endpoint and DynamoDB Local to loopback only', async () => {
    const pid = dev.child.pid ?? 0;
    const tree = processTree(pid);
    const inodes = socketInodes(tree);
    const ours = listeningSockets().filter((s) => inodes.has(s.inode));
    // The API, the Lambda endpoint and the store at least; the engine is a process of the tree.
    expect(ours.length, dev.output()).toBeGreaterThanOrEqual(3);
    expect(ours.map((s) => s.port)).toContain(dev.port);
    expect(
      ours.filter((s) => !isLoopback(s.address)),
      'sockets bound beyond loopback',
    ).toEqual([]);

    const outside = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a && !a.internal && !a.address.startsWith('fe80:'))
      .map((a) => a?.address ?? '');
    for (const address of outside) {
      for (const { port } of ours) {
        expect(await connectFrom(address, port), `${address}:${port}`).toBe('refused');
      }
    }
  }, 60_000);
});
