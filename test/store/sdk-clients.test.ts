import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { withoutSdkLogging } from '../../src/aws/sdk-clients.js';
import { createTestTable, makeDynamoClient } from '../support/dynamo.js';

const names = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().map((entry) => entry.split(' - ')[0]);

describe('withoutSdkLogging', () => {
  it('takes the logger middleware out of a client and leaves the rest of its stack', () => {
    const before = names(new LambdaClient({ region: 'us-east-1' }));
    expect(before).toContain('loggerMiddleware');

    const client = withoutSdkLogging(new LambdaClient({ region: 'us-east-1' }));

    expect(names(client)).toEqual(before.filter((name) => name !== 'loggerMiddleware'));
  });

  it('a client without it still sends commands and reads their output (DynamoDB Local)', async () => {
    const client = withoutSdkLogging(makeDynamoClient());
    const { tableName } = await createTestTable('sdk-clients');

    const out = await client.send(new DescribeTableCommand({ TableName: tableName }));

    expect(out.Table?.TableName).toBe(tableName);
    expect(names(client)).not.toContain('loggerMiddleware');
  });
});
