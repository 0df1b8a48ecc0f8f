import { Logger } from '@aws-lambda-powertools/logger';
import { tickEnvSchema } from '../src/tick/env.js';
import { makeTickDeps, makeTickHandler } from '../src/tick/handler.js';

const env = tickEnvSchema.parse(process.env);
const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME });
const deps = makeTickDeps(env, logger);

/** Fired by EventBridge Scheduler every minute. */
export const handler = makeTickHandler(deps, { reserveMs: env.TICKWORK_TICK_RESERVE_MS });
