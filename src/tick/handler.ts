import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import { ulid } from 'ulid';
import { LambdaTaskInvoker } from '../aws/lambda-invoker.js';
import type { Clock } from '../core/ports.js';
import { DynamoTaskStore } from '../store/dynamo-task-store.js';
import type { TickEnv } from './env.js';
import { TaskTypeRegistry } from './registry.js';
import { runTick, type TickDeps, type TickLogger, type TickReport } from './run-tick.js';

export const systemClock: Clock = { now: () => new Date() };

/** Builds the tick's dependencies from its environment: once per cold start. */
export function makeTickDeps(env: TickEnv, logger?: TickLogger): TickDeps {
  const store = new DynamoTaskStore({
    client: new DynamoDBClient({}),
    tableName: env.TICKWORK_TABLE,
    shardCount: env.TICKWORK_SHARDS,
  });
  return {
    store,
    invoker: new LambdaTaskInvoker(new LambdaClient({})),
    clock: systemClock,
    registry: new TaskTypeRegistry(store, systemClock),
    newRunId: () => ulid(),
    ...(logger ? { logger } : {}),
  };
}

/**
 * The tick Lambda's handler: runs one tick within the invocation's time, keeping
 * `reserveMs` for itself, and logs the report.
 */
export function makeTickHandler(deps: TickDeps, options: { reserveMs: number }) {
  return async (
    _event: unknown,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<TickReport> => {
    const remaining = context?.getRemainingTimeInMillis() ?? 60_000;
    const report = await runTick(deps, { budgetMs: Math.max(1_000, remaining - options.reserveMs) });
    if (report.due > 0 || report.errors.length > 0) deps.logger?.info('tick', { ...report });
    return report;
  };
}
