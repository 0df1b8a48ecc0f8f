/**
 * DynamoDB Local as the local runtime starts it: the engine answers SDK calls, and grants a web
 * page open in a browser no CORS access (every DynamoDB call carries `x-amz-target`, so a browser
 * preflights it, and the engine's answer allows no origin).
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoDbLocal, engineArguments, startDynamoDbLocal } from '../../src/local/dynamodb-local.js';

let engine: DynamoDbLocal;

beforeAll(async () => {
  engine = await startDynamoDbLocal({ sharedDb: true, fastStart: true });
}, 60_000);
afterAll(async () => {
  await engine?.stop();
});

describe('DynamoDB Local as the runtime starts it', () => {
  it('serves the SDK', async () => {
    const client = new DynamoDBClient({
      endpoint: engine.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    expect((await client.send(new ListTablesCommand({}))).TableNames).toBeDefined();
  });

  it("gives a web page's preflight and request no CORS grant", async () => {
    const preflight = await fetch(engine.endpoint, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-amz-target,authorization',
      },
    });
    const allowed = preflight.headers.get('access-control-allow-origin');
    expect(allowed).toBeNull();

    const request = await fetch(engine.endpoint, {
      method: 'POST',
      headers: {
        origin: 'http://evil.example',
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        authorization:
          'AWS4-HMAC-SHA256 Credential=local/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x',
      },
      body: '{}',
    });
    const granted = request.headers.get('access-control-allow-origin');
    expect(granted).toBeNull();
  });

  it('runs without telemetry and with the JVM flags given, the database in memory or on disk', () => {
    expect(engineArguments({ dbPath: null, port: 8000, fastStart: true })).toEqual([
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xshare:auto',
      '-Djava.library.path=./DynamoDBLocal_lib',
      '-jar',
      'DynamoDBLocal.jar',
      '-inMemory',
      '-port',
      '8000',
      '-disableTelemetry',
    ]);
    expect(engineArguments({ dbPath: '/data', port: 1, sharedDb: true })).toContain('-dbPath');
  });

  it('starts through the loopback launcher when its class is there', () => {
    const args = engineArguments({ dbPath: null, port: 8000, launcherDir: '/pkg/dist/java' });
    expect(args.slice(1, 4)).toEqual([
      '-cp',
      '/pkg/dist/java:DynamoDBLocal.jar:DynamoDBLocal_lib/*',
      'LoopbackDynamoDbLocal',
    ]);
    expect(args).not.toContain('-jar');
    expect(engine.listensOn).toBe('127.0.0.1');
    expect(engine.warning).toBeUndefined();
  });
});
