/**
 * vitest global setup: starts one DynamoDB Local (in memory) for the whole run and hands its
 * endpoint to test files through `inject('dynamoEndpoint')`; each test file makes its own tables.
 *
 * Without Java the engine cannot start. Suites that need it then fail with a clear message (see
 * `test/support/dynamo.ts`), never pass silently, while pure unit suites still run.
 */
import type { TestProject } from 'vitest/node';
import { buildLambdas } from '../../scripts/build-lambdas.js';
import { type DynamoDbLocal, JavaMissingError, startDynamoDbLocal } from '../../src/local/dynamodb-local.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `http://127.0.0.1:<port>` of the shared DynamoDB Local, or `''` when it could not start. */
    dynamoEndpoint: string;
    /** Why DynamoDB Local is not available, when it is not. */
    dynamoUnavailable: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The construct deploys the prebuilt tick and API bundles (dist/lambda): build them once, fresh.
  await buildLambdas();
  let local: DynamoDbLocal | undefined;
  try {
    local = await startDynamoDbLocal();
  } catch (error) {
    if (!(error instanceof JavaMissingError)) throw error;
    project.provide('dynamoEndpoint', '');
    project.provide(
      'dynamoUnavailable',
      'Java is not installed, so DynamoDB Local cannot start: install a JRE (17+) to run the DynamoDB suites.',
    );
    return async () => {};
  }
  project.provide('dynamoEndpoint', local.endpoint);
  project.provide('dynamoUnavailable', '');
  const started = local;
  // Teardown runs whether tests passed or failed; the engine's watchdog covers a crash of vitest itself.
  return async () => {
    await started.stop();
  };
}
