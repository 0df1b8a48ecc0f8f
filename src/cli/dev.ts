/**
 * `tickwork dev`: the local runtime in the foreground. Ctrl-C (SIGINT) or SIGTERM stops the
 * tick, lets running tasks end for the grace period, stops the rest (DynamoDB Local included)
 * and exits 0; a second Ctrl-C skips the grace period.
 */
import { devUsage, parseDevArgs, UsageError } from '../local/args.js';
import { ConfigError } from '../local/config.js';
import { type LocalRuntime, startLocalRuntime } from '../local/runtime.js';

/** Runs `tickwork dev` with these flags; resolves with the exit code once the runtime stopped. */
export async function runDev(argv: string[]): Promise<number> {
  let command: ReturnType<typeof parseDevArgs>;
  try {
    command = parseDevArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`tickwork dev: ${error.message}\n\n${devUsage}`);
    return 2;
  }
  if (command.help) {
    console.log(devUsage);
    return 0;
  }

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
      console.log(`\n${signal}: stopping…`);
      stopRequested();
    } else if (signals === 2 && runtime) {
      console.log('Stopping now, without waiting for running tasks.');
      void runtime.stop({ graceMs: 0 });
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    runtime = await startLocalRuntime(command);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`tickwork dev: ${error.message}`);
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`tickwork dev: port ${command.port} is in use; pick another with --port`);
      return 1;
    }
    throw error;
  }
  console.log(`Ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s. Press Ctrl-C to stop.`);
  if (signals > 0) stopRequested();

  await stopped;
  const stopStarted = Date.now();
  await runtime.stop();
  console.log(`Stopped in ${((Date.now() - stopStarted) / 1000).toFixed(1)} s.`);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Everything is closed; an idle keep-alive socket of an SDK client must not hold the exit up.
  setTimeout(() => process.exit(0), 500).unref();
  return 0;
}
