/**
 * The one infra suite that really bundles: the tick, with the construct's own bundling options,
 * through the esbuild installed from npm (no Docker); the bundle loads as an ES module and runs
 * a tick against DynamoDB Local.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { afterAll, describe, expect, it } from 'vitest';
import { repoPath, tickworkFunctionDefaults } from '../../infra/function-defaults.js';
import { createTestTable, dynamoEndpoint } from '../support/dynamo.js';
import { cdkJsonContext } from './support.js';

const run = promisify(execFile);
const outdir = mkdtempSync(join(tmpdir(), 'tickwork-cdk-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('bundling', () => {
  it('bundles the tick with local esbuild into an ES module that loads', async () => {
    // Arrange: bundling on (no `aws:cdk:bundling-stacks` override), Docker refused.
    const app = new App({ outdir, context: cdkJsonContext() });
    const stack = new Stack(app, 'Bundling');
    new NodejsFunction(stack, 'Tick', {
      ...tickworkFunctionDefaults,
      entry: repoPath('functions/tick.ts'),
    });

    // Act
    const assembly = app.synth();

    // Assert: the function's asset is a directory holding index.mjs (ESM output).
    expect(assembly.getStackByName('Bundling').template.Resources).toBeDefined();
    const assets = readdirSync(outdir).filter((name) => name.startsWith('asset.'));
    expect(assets).toHaveLength(1);
    const bundle = join(outdir, assets[0] as string, 'index.mjs');
    expect(existsSync(bundle)).toBe(true);

    // The bundle loads (CommonJS deps get `require` from the banner; its cold start reads the
    // registry) and runs one tick against DynamoDB Local.
    const { tableName } = await createTestTable('infra-bundle');
    const script = [
      `const { handler } = await import(${JSON.stringify(bundle)});`,
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
  }, 120_000);
});
