/**
 * The deps factory: how the functions and the local runtime build what the use cases take. One
 * place makes the store and the tick's deps from the environment; the tick Lambda
 * (`functions/tick.ts`), the API (`makeApiDeps`), the task handler (`createTaskHandler`) and the
 * local runtime (both its DynamoDB and its in-memory mode) all build theirs here, so locally and on
 * AWS they differ only by the SDK's endpoints (and, without Java, by the store passed in).
 *
 * Every SDK client reads its endpoint and credentials from the SDK's own configuration
 * (`AWS_ENDPOINT_URL_DYNAMODB` and friends locally).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { EventBridgeRunNotifier } from './aws/eventbridge-notifier.js';
import { LambdaTaskInvoker } from './aws/lambda-invoker.js';
import { withoutSdkLogging } from './aws/sdk-clients.js';
import { systemClock } from './clock.js';
import type { Logger, RunNotifier, TaskStore } from './core/ports.js';
import type { StoreEnv } from './env.js';
import { newId } from './ids.js';
import { DynamoTaskStore } from './store/dynamo-task-store.js';
import type { TickDeps } from './tick/dispatch.js';
import { TaskTypeRegistry } from './tick/registry.js';

/** The DynamoDB store of the table the environment names. */
export function makeStore(env: StoreEnv): DynamoTaskStore {
  return new DynamoTaskStore({
    client: withoutSdkLogging(new DynamoDBClient({})),
    tableName: env.TICKWORK_TABLE,
    shardCount: env.TICKWORK_SHARDS,
    ...(env.TICKWORK_FORMER_SHARDS ? { formerShardCount: env.TICKWORK_FORMER_SHARDS } : {}),
    dueKeyHoldMs: env.TICKWORK_DUE_KEY_HOLD_MS,
  });
}

/** Run notices to the EventBridge bus `bus`; none (undefined) when `bus` is empty. */
export function makeNotifier(
  bus: string | undefined,
  logger?: Pick<Logger, 'warn'>,
): RunNotifier | undefined {
  if (!bus) return undefined;
  return new EventBridgeRunNotifier(new EventBridgeClient({}), bus, (error) =>
    logger?.warn('run notices not delivered', { error: String(error) }),
  );
}

/** What {@link makeTickDeps} reads: the store's environment, and the bus of run notices if any. */
export type TickDepsEnv = StoreEnv & { TICKWORK_EVENT_BUS?: string };

/**
 * The deps of dispatch and the tick: the store (`makeStore`, unless one is given), Lambda
 * invokes, the system clock, the type registry, ULID run ids, and run notices when the
 * environment names a bus. Built once per cold start.
 */
export function makeTickDeps(env: TickDepsEnv, given: { store?: TaskStore; logger?: Logger } = {}): TickDeps {
  const store = given.store ?? makeStore(env);
  const notifier = makeNotifier(env.TICKWORK_EVENT_BUS, given.logger);
  return {
    store,
    invoker: new LambdaTaskInvoker(withoutSdkLogging(new LambdaClient({}))),
    clock: systemClock,
    registry: new TaskTypeRegistry(store, systemClock),
    newRunId: newId,
    ...(notifier ? { notifier } : {}),
    ...(given.logger ? { logger: given.logger } : {}),
  };
}
