/**
 * Process lifetimes of the local runtime: nothing it starts outlives it, however it dies.
 *
 * ```
 *  npm start ─ sh ─ runtime (node, --exit-with-parent) ─┬─ workers (fork, IPC)
 *                                                       ├─ DynamoDB Local (java, own process group)
 *                                                       └─ lifeline (node, own session) ◄─ pipe
 * ```
 *
 * - **Workers** exit when their IPC channel closes (`worker-main.ts`).
 * - **DynamoDB Local** runs in its own process group, so that a Ctrl-C reaches the runtime but
 *   not the engine its running tasks still write to. Its **lifeline** is a small Node process in
 *   a session of its own, holding the read end of a pipe whose write end only the runtime has:
 *   when the runtime dies, by `kill -9` or with its whole process group, the pipe closes, and the
 *   lifeline stops the JVM (SIGTERM, SIGKILL 3 s later) and exits. It also exits when the JVM
 *   does. Its own session keeps it out of a `kill -9` of the runtime's process group and out of
 *   the terminal's hang-up.
 * - **The runtime** watches its parent with `--exit-with-parent` (what `npm start` passes): npm
 *   runs the script through `sh`, and a `kill -9` of that shell re-parents the runtime, which
 *   then stops itself at once.
 * - **The data directory** keeps `tickwork-engine.json` (the runtime's, the JVM's and the
 *   lifeline's pids) while an engine runs on it; the next start on the same directory finds it,
 *   refuses when that runtime is still alive, and otherwise kills what it left (had even the
 *   lifeline been killed), so the engine's files and port are free again.
 *
 * Node has no `prctl(PR_SET_PDEATHSIG)`: a pipe's end and the parent's pid are what a child can
 * watch with Node and Java alone.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file in a data directory that names the processes of the engine running on it. */
export const engineFileName = 'tickwork-engine.json';

/** The lifeline's marker argument: how a later start recognises a lifeline it left. */
const lifelineMarker = 'tickwork-lifeline';

/**
 * The lifeline's program (`node -e`): argv[1] is the JVM's pid. Ignores the signals a terminal
 * sends; on end of input (its owner died, or stopped it) stops the JVM and exits.
 */
const lifelineProgram = `
const pid = Number(process.argv[1]);
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
const kill = (signal) => { try { process.kill(pid, signal); } catch {} };
for (const s of ['SIGINT', 'SIGHUP', 'SIGTERM', 'SIGQUIT']) process.on(s, () => {});
let ending = false;
const end = () => {
  if (ending) return;
  ending = true;
  if (!alive()) process.exit(0);
  kill('SIGTERM');
  const started = Date.now();
  setInterval(() => {
    if (!alive()) process.exit(0);
    if (Date.now() - started > 3000) { kill('SIGKILL'); process.exit(0); }
  }, 50);
};
process.stdin.on('end', end);
process.stdin.on('close', end);
process.stdin.on('error', end);
process.stdin.resume();
setInterval(() => { if (!ending && !alive()) process.exit(0); }, 1000);
`;

/** A started lifeline: `release()` lets it go (the owner stops the JVM itself). */
export interface Lifeline {
  readonly pid: number | undefined;
  release(): void;
}

/**
 * Starts the lifeline of process `pid` (the JVM): it stops that process when this one dies
 * without calling {@link Lifeline.release}.
 */
export function startLifeline(pid: number): Lifeline {
  const child = spawn(process.execPath, ['-e', lifelineProgram, String(pid), lifelineMarker], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  child.on('error', () => {
    // No lifeline (a spawn failure): the owner's own stop still ends the JVM.
  });
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  return {
    pid: child.pid,
    release() {
      child.stdin?.end();
    },
  };
}

/** The pids an engine's data directory records. */
interface EngineFile {
  owner: number;
  jvm: number;
  lifeline?: number;
}

/** The command line of a live process, or undefined when there is none (or it is a zombie). */
export function commandLineOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return undefined; // exited, not yet reaped
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux') return undefined;
  }
  try {
    return (
      execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim() || undefined
    );
  } catch {
    return undefined; // ps exits 1 when there is no such process
  }
}

/** The data directory is used by a runtime that is still running. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

function readEngineFile(dataDir: string): EngineFile | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(dataDir, engineFileName), 'utf8')) as Partial<EngineFile>;
    if (typeof parsed.owner !== 'number' || typeof parsed.jvm !== 'number') return undefined;
    return parsed as EngineFile;
  } catch {
    return undefined; // none, or unreadable: nothing to clean up
  }
}

async function killAndWait(pid: number, stillOurs: (cmd: string) => boolean): Promise<void> {
  const cmd = commandLineOf(pid);
  if (cmd === undefined || !stillOurs(cmd)) return; // gone, or the pid now belongs to another
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && commandLineOf(pid) !== undefined; i++)
    await new Promise((r) => setTimeout(r, 50));
}

/**
 * Before an engine starts on `dataDir`: refuses with {@link DataDirInUseError} when the runtime
 * that recorded itself there is still alive; otherwise kills the JVM and lifeline it left behind
 * (checking their command lines first, so a reused pid is left alone).
 */
export async function reclaimDataDir(dataDir: string): Promise<void> {
  const previous = readEngineFile(dataDir);
  if (!previous) return;
  const isEngine = (cmd: string) => /java/i.test(cmd) && cmd.includes(dataDir);
  if (previous.owner !== process.pid) {
    // In use: its owner and its engine both still run (a live owner alone may be a reused pid).
    const owner = commandLineOf(previous.owner);
    const jvm = commandLineOf(previous.jvm);
    if (owner !== undefined && /node/.test(owner) && jvm !== undefined && isEngine(jvm)) {
      throw new DataDirInUseError(
        `the data directory ${dataDir} is in use by another tickwork runtime (pid ${previous.owner}); ` +
          'stop it first, or pick another --data-dir',
      );
    }
  }
  if (previous.lifeline !== undefined)
    await killAndWait(previous.lifeline, (cmd) => cmd.includes(lifelineMarker));
  await killAndWait(previous.jvm, isEngine);
  rmSync(join(dataDir, engineFileName), { force: true });
}

/** Records the engine running on `dataDir`, for {@link reclaimDataDir} after a hard kill. */
export function recordEngine(dataDir: string, pids: { jvm: number; lifeline: number | undefined }): void {
  const file: EngineFile = {
    owner: process.pid,
    jvm: pids.jvm,
    ...(pids.lifeline !== undefined ? { lifeline: pids.lifeline } : {}),
  };
  writeFileSync(join(dataDir, engineFileName), `${JSON.stringify(file)}\n`);
}

/** Forgets the engine of `dataDir` once it stopped cleanly. */
export function forgetEngine(dataDir: string): void {
  rmSync(join(dataDir, engineFileName), { force: true });
}

/**
 * Calls `onGone` once when the process that started this one dies (this process is re-parented:
 * its parent pid changes). Polls every `intervalMs`; the timer does not keep the process alive.
 * Returns a function that stops watching.
 */
export function watchParent(onGone: () => void, intervalMs = 250): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
