import { Logger } from '@aws-lambda-powertools/logger';
import { handle } from 'hono/aws-lambda';
import { createApp } from '../src/api/app.js';
import { makeApiHandler } from '../src/api/deploy-event.js';
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
