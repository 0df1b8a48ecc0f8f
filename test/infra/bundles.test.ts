/**
 * The prebuilt bundles of the tick and the API (`scripts/build-lambdas.ts`): what goes in, that
 * the tick loads as an ES module and runs, and that the construct deploys exactly those
 * directories. The build here writes to a temporary directory: the package's own `dist/lambda`
 * (built by the global setup) is what other test files synthesize from at the same time.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCode } from '../../infra/bundled-function.js';
import { esmRequireBanner } from '../../infra/function-defaults.js';
import { Tickwork } from '../../infra/tickwork.js';
import { type BuiltLambda, buildLambdas } from '../../scripts/build-lambdas.js';
import { lambdaBundleDir, packageRoot } from '../../src/package-root.js';
import { createTestTable, dynamoEndpoint } from '../support/dynamo.js';
import { cdkJsonContext, logicalId } from './support.js';

const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), 'tickwork-lambdas-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('the prebuilt bundles', () => {
  let built: Record<string, BuiltLambda>;
  beforeAll(async () => {
    built = Object.fromEntries((await buildLambdas({ outDir })).map((lambda) => [lambda.name, lambda]));
  }, 120_000);

  it('are an ES module, its source map and its metafile per function', () => {
    for (const name of ['tick', 'api']) {
      const lambda = built[name];
      expect(lambda?.dir).toBe(join(outDir, name));
      for (const file of ['index.mjs', 'index.mjs.map', 'meta.json']) {
        expect(existsSync(join(outDir, name, file))).toBe(true);
      }
    }
    // The banner comes first: CommonJS dependencies bundled below it call `require`.
    const head = readFileSync(join(outDir, 'tick', 'index.mjs'), 'utf8').slice(0, esmRequireBanner.length);
    expect(head).toBe(esmRequireBanner);
  });

  it('keep the CDK, the HTTP framework and the dashboard out of the tick, and the AWS SDK in', () => {
    const meta = JSON.parse(readFileSync(join(outDir, 'tick', 'meta.json'), 'utf8')) as Metafile;
    const inputs = Object.keys(meta.inputs);

    expect(inputs.filter((input) => /aws-cdk-lib|constructs|hono|preact|dashboard/.test(input))).toEqual([]);
    expect(inputs.some((input) => input.includes('@aws-sdk/client-dynamodb'))).toBe(true);
  });

  it('run: the tick loads (CommonJS dependencies get `require` from the banner) and ticks', async () => {
    const { tableName } = await createTestTable('infra-bundle');
    const script = [
      `const { handler } = await import(${JSON.stringify(join(outDir, 'tick', 'index.mjs'))});`,
      'const report = await handler({}, { getRemainingTimeInMillis: () => 60_000 });',
      "console.log('TICK_REPORT ' + JSON.stringify({ due: report.due, errors: report.errors.length }));",
    ].join('\n');

    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      env: {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
        TICKWORK_TABLE: tableName,
      },
    });

    const line = stdout.split('\n').find((l) => l.startsWith('TICK_REPORT '));
    expect(JSON.parse(line?.slice('TICK_REPORT '.length) ?? 'null')).toEqual({ due: 0, errors: 0 });
  }, 60_000);
});

describe('finding the bundles', () => {
  it('walks up to the package named tickwork, from the sources or from an installed build', () => {
    const root = mkdtempSync(join(tmpdir(), 'tickwork-root-'));
    try {
      writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'tickwork' }));
      // A package.json of another name on the way (a nested package) is walked past.
      mkdirSync(join(root, 'dist', 'infra'), { recursive: true });
      writeFileSync(join(root, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));

      expect(packageRoot(pathToFileURL(join(root, 'dist', 'infra', 'tickwork.js')))).toBe(root);
      expect(packageRoot(join(root, 'dist', 'infra', 'tickwork.js'))).toBe(root);
      expect(packageRoot()).toBe(fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, ''));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses at synth to deploy a bundle that was not built, saying how to build it', () => {
    const root = mkdtempSync(join(tmpdir(), 'tickwork-unbuilt-'));
    try {
      expect(() => bundleCode('tick', root)).toThrow(
        `Tickwork: the tick bundle ${join(root, 'dist', 'lambda', 'tick', 'index.mjs')} is missing; run npm run build:lambdas (inside the tickwork repository)`,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the construct', () => {
  it("deploys the tick and the API from the package's dist/lambda directories, index.handler", () => {
    // Staging off: an asset's path is then its source directory (asset metadata on to see it).
    const app = new App({
      context: {
        ...cdkJsonContext(),
        'aws:cdk:disable-asset-staging': true,
        'aws:cdk:enable-asset-metadata': true,
      },
    });
    const stack = new Stack(app, 'Bundles');
    const tickwork = new Tickwork(stack, 'Tickwork');

    const resources = Template.fromStack(stack).toJSON().Resources;

    for (const [name, fn] of [
      ['tick', tickwork.tickFunction],
      ['api', tickwork.apiFunction],
    ] as const) {
      const resource = resources[logicalId(stack, fn)];
      expect(resource.Metadata['aws:asset:path']).toBe(lambdaBundleDir(name));
      expect(resource.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs22.x' });
    }
  });
});
