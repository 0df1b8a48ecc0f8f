import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { makeTickDeps } from '../src/deps.js';
import { tickEnvSchema } from '../src/tick/env.js';
import { makeTickHandler } from '../src/tick/handler.js';

const env = tickEnvSchema.parse(process.env);
const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME });
const metrics = new Metrics({
  namespace: env.POWERTOOLS_METRICS_NAMESPACE,
  serviceName: env.POWERTOOLS_SERVICE_NAME,
});
const deps = makeTickDeps(env, { logger });
await deps.registry.refresh();

/** Fired by EventBridge Scheduler every minute, with `{ shards }` when the tick is split. */
export const handler = makeTickHandler(deps, {
  reserveMs: env.TICKWORK_TICK_RESERVE_MS,
  lookAheadMs: env.TICKWORK_LOOKAHEAD_MS,
  intervalMs: env.TICKWORK_TICK_INTERVAL_MS,
  sendAheadMs: env.TICKWORK_SEND_AHEAD_MS,
  metrics,
});
