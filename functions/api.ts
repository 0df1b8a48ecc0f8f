import { Logger } from '@aws-lambda-powertools/logger';
import { handle } from 'hono/aws-lambda';
import { createApp } from '../src/api/app.js';
import { makeApiHandler } from '../src/api/deploy-event.js';
import type { ApiDeps } from '../src/api/deps.js';
import { apiEnvSchema } from '../src/api/env.js';
import { makeApiDeps } from '../src/api/make-deps.js';
import { dashboardHandler } from '../src/dashboard/serve.js';

const env = apiEnvSchema.parse(process.env);
const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME });
const deps = { ...makeApiDeps(env, logger), dashboard: dashboardHandler };
const app = createApp(deps);

/**
 * API Gateway HTTP API (payload format 2.0) in front of the admin API; the construct's task
 * declarations (CloudFormation custom-resource requests) go to the deploy path.
 */
export const handler = makeApiHandler(handle(app), deps);

/** What `tickwork dev` brings to the API: the parts that have no AWS service behind them there. */
export type LocalApiParts = Pick<
  ApiDeps,
  'scheduler' | 'logs' | 'logger' | 'minIntervalMs' | 'access' | 'tickPlanner'
>;

/**
 * The same API for `tickwork dev`, which serves it over plain HTTP from this very bundle: the
 * local runtime brings its run log book, its scheduler switch and its way to ask for a tick now
 * (EventBridge Scheduler, CloudWatch Logs and the tick function do not run locally); the store, the registry and run-now's dispatch are this
 * bundle's own, as deployed.
 */
export function localApp(local: LocalApiParts): {
  fetch: (request: Request) => Response | Promise<Response>;
} {
  return createApp({ ...deps, ...local });
}
