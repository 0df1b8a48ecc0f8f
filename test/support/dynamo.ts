/**
 * Helpers for test files that use the shared DynamoDB Local (started by `global-setup.ts`).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ulid } from 'ulid';
import { inject } from 'vitest';
import { DynamoTaskStore } from '../../src/store/dynamo-task-store.js';
import { ensureTable } from '../../src/store/table-definition.js';

/** The shared engine's endpoint; throws (failing the suite, never skipping it) when it is not running. */
export function dynamoEndpoint(): string {
  const endpoint = inject('dynamoEndpoint');
  if (!endpoint) throw new Error(inject('dynamoUnavailable') || 'DynamoDB Local is not running');
  return endpoint;
}

/** A client for a local engine: fixed region, dummy credentials. */
export function makeDynamoClient(endpoint: string = dynamoEndpoint()): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}

/** A fresh, uniquely named table (`<prefix>-<ulid>`) and a store on it. */
export async function createTestTable(
  prefix: string,
  options: { shardCount?: number } = {},
): Promise<{ client: DynamoDBClient; tableName: string; store: DynamoTaskStore }> {
  const client = makeDynamoClient();
  const tableName = `${prefix}-${ulid().toLowerCase()}`;
  await ensureTable(client, tableName);
  return { client, tableName, store: new DynamoTaskStore({ client, tableName, ...options }) };
}
