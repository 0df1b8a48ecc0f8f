import { Logger } from '@aws-lambda-powertools/logger';
import { handle } from 'hono/aws-lambda';
import { createApp } from '../src/api/app.js';
import { apiEnvSchema } from '../src/api/env.js';
import { makeApiDeps } from '../src/api/make-deps.js';
import { dashboardHandler } from '../src/dashboard/serve.js';

const env = apiEnvSchema.parse(process.env);
const logger = new Logger({ serviceName: env.POWERTOOLS_SERVICE_NAME });
const app = createApp({ ...makeApiDeps(env, logger), dashboard: dashboardHandler });

/** API Gateway HTTP API (payload format 2.0) in front of the admin API. */
export const handler = handle(app);
