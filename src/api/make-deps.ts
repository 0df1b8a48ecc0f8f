import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { LambdaTaskInvoker } from '../aws/lambda-invoker.js';
import { EventBridgeSchedulerControl } from '../aws/scheduler-control.js';
import { withoutSdkLogging } from '../aws/sdk-clients.js';
import type { Clock } from '../core/ports.js';
import { dashboardHandler } from '../dashboard/serve.js';
import { newId } from '../ids.js';
import { DynamoTaskStore } from '../store/dynamo-task-store.js';
import { TaskTypeRegistry } from '../tick/registry.js';
import type { ApiDeps, ApiLogger } from './deps.js';
import type { ApiEnv } from './env.js';

const systemClock: Clock = { now: () => new Date() };

/** Builds the API Lambda's dependencies from its environment: once per cold start. */
export function makeApiDeps(
  env: ApiEnv,
  logger?: ApiLogger & { info(message: string, ...extra: Record<string, unknown>[]): void },
): ApiDeps {
  const store = new DynamoTaskStore({
    client: withoutSdkLogging(new DynamoDBClient({})),
    tableName: env.TICKWORK_TABLE,
    shardCount: env.TICKWORK_SHARDS,
    dueKeyHoldMs: env.TICKWORK_DUE_KEY_HOLD_MS,
  });
  const registry = new TaskTypeRegistry(store, systemClock);
  const newRunId = newId;
  return {
    store,
    registry,
    clock: systemClock,
    newRunId,
    tick: {
      store,
      invoker: new LambdaTaskInvoker(withoutSdkLogging(new LambdaClient({}))),
      clock: systemClock,
      registry,
      newRunId,
      ...(logger ? { logger } : {}),
    },
    scheduler: new EventBridgeSchedulerControl(new SchedulerClient({}), {
      name: env.TICKWORK_TICK_SCHEDULE_NAME,
      groupName: env.TICKWORK_TICK_SCHEDULE_GROUP,
    }),
    minIntervalMs: env.TICKWORK_MIN_INTERVAL_MS,
    dashboard: dashboardHandler,
    ...(env.TICKWORK_CORS_ORIGIN ? { corsOrigin: env.TICKWORK_CORS_ORIGIN } : {}),
    ...(logger ? { logger } : {}),
  };
}
