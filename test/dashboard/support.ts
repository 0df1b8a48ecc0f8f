/**
 * Browser-test support: a real local runtime in a child process (`tickwork dev`, in memory, a
 * free port, ticking every second) and Debian's Chromium driven by playwright-core. Chromium is
 * never downloaded: without `/usr/bin/chromium` the suite fails with a message saying so.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where Debian (and `.ci/run`) installs Chromium. */
export const CHROMIUM_PATH = process.env.TICKWORK_CHROMIUM ?? '/usr/bin/chromium';

/** Launches headless Chromium with no background networking; throws (never skips) when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: the dashboard's browser tests need it. ` +
        'Install it with `sudo apt-get install -y chromium` (Debian; .ci/run does this), or point ' +
        'TICKWORK_CHROMIUM at a Chromium binary. playwright-core never downloads a browser.',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--disable-dev-shm-usage',
    ],
  });
}

/** A `tickwork dev` child process. */
export interface RuntimeProcess {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything it printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `tickwork dev --in-memory --port 0 --tick-every 1s --no-demo` and waits until it is ready. */
export async function startRuntime(timeoutMs = 60_000): Promise<RuntimeProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'dev',
      '--in-memory',
      '--port',
      '0',
      '--tick-every',
      '1s',
      '--no-demo',
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const deadline = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`tickwork dev was not ready within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      const api = /API\s+(http:\/\/[^\s/]+)\//.exec(output);
      if (api?.[1] && /Ready in/.test(output)) {
        clearInterval(poll);
        clearTimeout(deadline);
        resolve(api[1]);
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(poll);
      clearTimeout(deadline);
      reject(new Error(`tickwork dev exited (${code}) before it was ready:\n${output}`));
    });
  });

  return {
    url,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Calls the runtime's API and returns the parsed body; throws with the status on a refusal. */
export async function callApi<T>(
  runtime: RuntimeProcess,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${runtime.url}${path}`, {
    method,
    // The local runtime refuses a state-changing request that is not JSON, body or not.
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** What {@link dashboardSession} holds for a test file once its `beforeAll` ran. */
export interface DashboardSession {
  readonly runtime: RuntimeProcess;
  readonly browser: Browser;
  readonly page: Page;
}

/**
 * A local runtime and a Chromium page for the test file that calls it: started before its tests
 * (with `setup` run against the runtime before the page opens), closed after them.
 */
export function dashboardSession(setup?: (runtime: RuntimeProcess) => Promise<void>): DashboardSession {
  const session = {} as { runtime: RuntimeProcess; browser: Browser; page: Page };
  beforeAll(async () => {
    [session.runtime, session.browser] = await Promise.all([startRuntime(), launchChromium()]);
    await setup?.(session.runtime);
    session.page = await session.browser.newPage({ viewport: { width: 1280, height: 800 } });
  }, 90_000);
  afterAll(async () => {
    await session.browser?.close();
    await session.runtime?.stop();
  }, 30_000);
  return session;
}
