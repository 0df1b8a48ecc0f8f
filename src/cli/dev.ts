/**
 * `tickwork dev`: the local runtime in the foreground. Ctrl-C (SIGINT) or SIGTERM stops the
 * tick, lets running tasks end for the grace period, stops the rest (DynamoDB Local included)
 * and exits 0; a second Ctrl-C skips the grace period.
 */
import { ConfigError } from '../local/config.js';
import { DataDirInUseError, watchParent } from '../local/lifeline.js';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../local/runtime.js';
import type { CliIo } from './command.js';

const seconds = (sinceMs: number) => `${((Date.now() - sinceMs) / 1000).toFixed(1)} s`;

/** Starts the runtime; undefined (after saying why) when the configuration or the port is refused. */
async function start(options: LocalRuntimeOptions, io: CliIo): Promise<LocalRuntime | undefined> {
  try {
    return await startLocalRuntime(options);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof DataDirInUseError) {
      io.err(`tickwork dev: ${error.message}`);
      return undefined;
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      io.err(`tickwork dev: port ${options.port} is in use; pick another with --port`);
      return undefined;
    }
    throw error;
  }
}

/** Runs the local runtime until a signal; resolves with the exit code once it stopped. */
export async function runDev(
  options: LocalRuntimeOptions,
  io: CliIo,
  lifetime: { exitWithParent?: boolean } = {},
): Promise<number> {
  const startedAt = Date.now();
  let runtime: LocalRuntime | undefined;
  let signals = 0;
  let stopRequested: () => void = () => {};
  const stopped = new Promise<void>((done) => {
    stopRequested = done;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      io.out(`\n${signal}: stopping…`);
      stopRequested();
    } else if (signals === 2 && runtime) {
      io.out('Stopping now, without waiting for running tasks.');
      void runtime.stop({ graceMs: 0 });
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The parent died (npm's shell killed): stop now, without a grace period; see `lifeline.ts`.
  const unwatch = lifetime.exitWithParent
    ? watchParent(() => {
        io.err('tickwork dev: the process that started this one is gone: stopping now');
        signals = 2;
        stopRequested();
        if (runtime) void runtime.stop({ graceMs: 0 });
      })
    : () => {};

  runtime = await start(options, io);
  if (!runtime) return 1;
  io.out(`Ready in ${seconds(startedAt)}. Press Ctrl-C to stop.`);
  if (signals > 0) stopRequested();

  await stopped;
  const stopStarted = Date.now();
  await runtime.stop();
  io.out(`Stopped in ${seconds(stopStarted)}.`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  unwatch();
  // Everything is closed; an idle keep-alive socket of an SDK client must not hold the exit up.
  setTimeout(() => process.exit(0), 500).unref();
  return 0;
}
