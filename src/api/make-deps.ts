import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { EventBridgeSchedulerControl } from '../aws/scheduler-control.js';
import { withoutSdkLogging } from '../aws/sdk-clients.js';
import { LambdaTickPlanner } from '../aws/tick-planner.js';
import type { Logger } from '../core/ports.js';
import { makeTickDeps } from '../deps.js';
import { dashboardLoginFromEnv, makeDashboardLogin } from './dashboard-login.js';
import type { ApiDeps } from './deps.js';
import type { ApiEnv } from './env.js';

/**
 * Builds the API Lambda's dependencies from its environment: once per cold start. The tick's
 * deps come from the one factory (`makeTickDeps`, no run notices: the API sends none); the
 * dashboard is the caller's to add (`functions/api.ts` does).
 */
export function makeApiDeps(env: ApiEnv, logger?: Logger): ApiDeps {
  const login = dashboardLoginFromEnv(env);
  return {
    ...makeTickDeps(env, logger ? { logger } : {}),
    scheduler: new EventBridgeSchedulerControl(new SchedulerClient({}), {
      name: env.TICKWORK_TICK_SCHEDULE_NAME,
      groupName: env.TICKWORK_TICK_SCHEDULE_GROUP,
    }),
    minIntervalMs: env.TICKWORK_MIN_INTERVAL_MS,
    access:
      env.TICKWORK_API_AUTH === 'jwt'
        ? { mode: 'jwt', scopePrefix: env.TICKWORK_SCOPE_PREFIX }
        : { mode: 'iam' },
    auditRetentionDays: env.TICKWORK_AUDIT_RETENTION_DAYS,
    ...(env.TICKWORK_CORS_ORIGIN ? { corsOrigin: env.TICKWORK_CORS_ORIGIN } : {}),
    ...(env.TICKWORK_TICK_FUNCTION_NAME
      ? {
          tickPlanner: new LambdaTickPlanner(
            withoutSdkLogging(new LambdaClient({})),
            env.TICKWORK_TICK_FUNCTION_NAME,
          ),
        }
      : {}),
    ...(login ? { dashboardLogin: makeDashboardLogin(login, { logger }) } : {}),
  };
}
