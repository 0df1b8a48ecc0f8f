/**
 * What the end-to-end suite runs against, reached through HTTP only.
 *
 * - Local (default): a real `tickwork dev` child process (`node --import tsx src/cli/main.ts dev`)
 *   on a free port, ticking every second.
 * - LocalStack (`LOCALSTACK_ENDPOINT` set, e.g. `http://localhost:4566`): the stack deployed by
 *   `localstack/deploy.sh`. Its API URL comes from `TICKWORK_API_URL` or the deploy script's
 *   outputs file (`localstack/.outputs.json`). LocalStack never fires EventBridge Scheduler
 *   schedules, so the suite invokes the tick function itself every second while the scheduler
 *   is running (as the schedule would; pausing disables that schedule). The API's shortest
 *   schedule interval is lowered to one second on the deployed function for the same reason.
 *   API calls are SigV4-signed (the stack's API uses IAM auth) with LocalStack's test credentials.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  type FunctionConfiguration,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  ListFunctionsCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { freePort } from '../../src/local/dynamodb-local.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** Set when the suite runs against a LocalStack deployment. */
export const localStackEndpoint = process.env.LOCALSTACK_ENDPOINT;
export const onLocalStack = Boolean(localStackEndpoint);

/** An HTTP answer: status and parsed JSON body (or text). */
export interface Answer<T = unknown> {
  status: number;
  body: T;
}

/** Something that serves the Tickwork API. */
export interface Target {
  readonly kind: 'local' | 'localstack';
  readonly baseUrl: string;
  request(method: string, path: string, body?: unknown): Promise<Answer>;
  stop(): Promise<void>;
}

async function plainRequest(baseUrl: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    // The local runtime refuses a state-changing request that is not JSON, body or not.
    headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

// ------------------------------------------------------------------------------ local runtime

/** A `tickwork dev` child process. */
export interface DevProcess extends Target {
  readonly kind: 'local';
  readonly port: number;
  readonly child: ChildProcess;
  /** Milliseconds from spawn to the API's first answer. */
  readonly readyMs: number;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** Sends `signal` and waits for the exit: the exit code and how long it took. */
  stopWith(
    signal?: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Spawns `tickwork dev` with `args` (a free `--port` is added) and resolves once `GET /scheduler`
 * answers. A port that another process took between our probe and the runtime's bind (the runtime
 * says `port N is in use`) is given up for another, up to three times.
 */
export async function spawnDev(
  args: string[],
  options: { readyTimeoutMs?: number } = {},
): Promise<DevProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnDevOnce(await freePort(), args, options);
    } catch (error) {
      if (attempt >= 3 || !/port \d+ is in use/.test((error as Error).message)) throw error;
    }
  }
}

async function spawnDevOnce(
  port: number,
  args: string[],
  options: { readyTimeoutMs?: number },
): Promise<DevProcess> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'dev', '--port', String(port), ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      done({ code, signal });
    }),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = started + (options.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`tickwork dev exited (${child.exitCode}) before it was ready:\n${output}`);
    const ok = await fetch(`${baseUrl}/scheduler`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tickwork dev was not ready in time:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const readyMs = Date.now() - started;
  const stopWith = async (signal: NodeJS.Signals = 'SIGINT') => {
    const t = Date.now();
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const result = await exited;
    return { ...result, ms: Date.now() - t };
  };
  return {
    kind: 'local',
    baseUrl,
    port,
    child,
    readyMs,
    output: () => output,
    request: (method, path, body) => plainRequest(baseUrl, method, path, body),
    stopWith,
    stop: async () => {
      await stopWith('SIGINT');
    },
  };
}

// ------------------------------------------------------------------------------ LocalStack

const localStackCredentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';

function outputsFile(): Record<string, string> {
  const path = `${repoRoot}localstack/.outputs.json`;
  if (!existsSync(path)) return {};
  const all = JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, string>>;
  return Object.values(all)[0] ?? {};
}

async function findFunction(lambda: LambdaClient, logicalPrefix: string): Promise<FunctionConfiguration> {
  let marker: string | undefined;
  do {
    const page = await lambda.send(new ListFunctionsCommand({ ...(marker ? { Marker: marker } : {}) }));
    const found = page.Functions?.find((f) => f.FunctionName?.includes(logicalPrefix));
    if (found) return found;
    marker = page.NextMarker;
  } while (marker);
  throw new Error(
    `no function whose name contains ${logicalPrefix} on ${localStackEndpoint}: deploy with localstack/deploy.sh`,
  );
}

/** The deployed stack: SigV4-signed API calls, and a tick driven every second while running. */
async function localStackTarget(): Promise<Target> {
  const apiUrl = (process.env.TICKWORK_API_URL ?? outputsFile().ApiUrl ?? '').replace(/\/$/, '');
  if (!apiUrl)
    throw new Error(
      'set TICKWORK_API_URL, or deploy with localstack/deploy.sh (writes localstack/.outputs.json)',
    );
  const lambda = new LambdaClient({
    endpoint: localStackEndpoint,
    region,
    credentials: localStackCredentials,
  });
  const tick = await findFunction(lambda, 'TickworkTick');
  const api = await findFunction(lambda, 'TickworkApi');

  // The deployed API accepts schedules no closer than its one-minute tick; this suite ticks every second.
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: api.FunctionName }));
  const variables = config.Environment?.Variables ?? {};
  if (variables.TICKWORK_MIN_INTERVAL_MS !== '1000') {
    await lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: api.FunctionName,
        Environment: { Variables: { ...variables, TICKWORK_MIN_INTERVAL_MS: '1000' } },
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client: lambda, maxWaitTime: 120 },
      { FunctionName: api.FunctionName },
    );
  }

  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: localStackCredentials,
    sha256: Sha256,
  });
  const request = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const url = new URL(`${apiUrl}${path}`);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, ...(payload ? { 'content-type': 'application/json' } : {}) },
      ...(payload ? { body: payload } : {}),
    });
    const response = await fetch(url, {
      method,
      headers: signed.headers,
      ...(payload ? { body: payload } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // keep the text
    }
    return { status: response.status, body: parsed };
  };

  // Stands in for the EventBridge Scheduler schedule, which LocalStack never fires.
  let stopped = false;
  const driver = (async () => {
    while (!stopped) {
      const next = Math.ceil(Date.now() / 1000) * 1000;
      await new Promise((r) => setTimeout(r, next - Date.now() + 5));
      const state = await request('GET', '/scheduler').catch(() => undefined);
      if ((state?.body as { state?: string } | undefined)?.state !== 'running') continue;
      await lambda
        .send(new InvokeCommand({ FunctionName: tick.FunctionName, InvocationType: 'Event' }))
        .catch(() => {});
    }
  })();
  return {
    kind: 'localstack',
    baseUrl: apiUrl,
    request,
    stop: async () => {
      stopped = true;
      await driver;
    },
  };
}

/** The suite's shared target: LocalStack when `LOCALSTACK_ENDPOINT` is set, else a local runtime. */
export async function startTarget(): Promise<Target> {
  if (onLocalStack) return localStackTarget();
  return spawnDev(['--in-memory', '--tick-every', '1s', '--no-demo', '--grace', '1s']);
}
