import { z } from 'zod';
import { storeEnvSchema } from '../env.js';

/** The API Lambda's environment. The CDK construct builds its `environment` from this type. */
export const apiEnvSchema = storeEnvSchema.extend({
  /**
   * Name of the EventBridge Scheduler schedule that fires the tick (pause/resume); a
   * comma-separated list when the tick is split over shard groups, one schedule each.
   */
  TICKWORK_TICK_SCHEDULE_NAME: z.string().min(1),
  /** Its schedule group. */
  TICKWORK_TICK_SCHEDULE_GROUP: z.string().min(1).default('default'),
  /** Shortest interval a task's schedule may have, in ms (the tick runs once a minute). */
  TICKWORK_MIN_INTERVAL_MS: z.coerce.number().int().min(1000).default(60_000),
  /** Origin allowed to call the API from a browser (the dashboard), if any. */
  TICKWORK_CORS_ORIGIN: z.string().optional(),
  /** How callers authenticate: `iam` (their IAM policy decides) or `jwt` (roles from scopes). */
  TICKWORK_API_AUTH: z.enum(['iam', 'jwt']).default('iam'),
  /** With `jwt`: the prefix of the role scopes (`tickwork/read`, `tickwork/operate`, `tickwork/admin`). */
  TICKWORK_SCOPE_PREFIX: z.string().default('tickwork/'),
  /** Days an audit entry is kept before the table's TTL removes it. */
  TICKWORK_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('Tickwork'),
  POWERTOOLS_SERVICE_NAME: z.string().default('tickwork-api'),
});
export type ApiEnv = z.output<typeof apiEnvSchema>;
export type ApiEnvInput = z.input<typeof apiEnvSchema>;
