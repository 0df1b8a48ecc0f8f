/**
 * The Lambda stub in a process of its own, for sections that measure the tick's side of an Invoke
 * only: on AWS the Lambda service does not share the tick's CPU, and in the benchmark's process the
 * stub's server would (on this 2-core machine, a third or more of a burst's CPU). Run as a child:
 * it starts the stub and sends its endpoint to the parent.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startLambdaStub } from './lambda-stub.js';

/** A stub in a child process: its endpoint, and how to stop it. */
export interface StubProcess {
  endpoint: string;
  close(): Promise<void>;
}

const self = fileURLToPath(import.meta.url);

export function startStubProcess(options: { latencyMs: number }): Promise<StubProcess> {
  const child = fork(self, [String(options.latencyMs)], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, TICKWORK_BENCH_STUB_CHILD: '1' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the stub process exited (${code}) before it listened`)));
    child.once('message', (message) => {
      const endpoint = (message as { endpoint?: string }).endpoint;
      if (!endpoint) return reject(new Error('the stub process sent no endpoint'));
      resolve({
        endpoint,
        close: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
  });
}

if (process.env.TICKWORK_BENCH_STUB_CHILD === '1' && process.argv[1] === self) {
  const stub = await startLambdaStub({ latencyMs: Number(process.argv[2] ?? 20) });
  process.send?.({ endpoint: stub.endpoint });
  process.on('disconnect', () => process.exit(0));
}
