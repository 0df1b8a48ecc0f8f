import { z } from 'zod';
import { storeEnvSchema } from '../env.js';

/** The API Lambda's environment. The CDK construct builds its `environment` from this type. */
export const apiEnvSchema = storeEnvSchema.extend({
  /**
   * Name of the EventBridge Scheduler schedule that fires the tick (pause/resume); a
   * comma-separated list when the tick is split over shard groups, one schedule each.
   */
  TICKWORK_TICK_SCHEDULE_NAME: z.string().min(1),
  /**
   * The tick function, which the API asks to plan a task at once when a write makes it due before
   * the next scheduled tick (`{ "tasks": [...] }`). Unset: such a slot waits for that tick.
   */
  TICKWORK_TICK_FUNCTION_NAME: z.string().min(1).optional(),
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

  /** The dashboard's sign-in (OIDC public client); none unless the client id is set. */
  TICKWORK_OIDC_ISSUER: z.string().optional(),
  TICKWORK_OIDC_CLIENT_ID: z.string().optional(),
  /** Scopes requested besides `openid`, space-separated (default: the three roles). */
  TICKWORK_OIDC_SCOPES: z.string().optional(),
  /** The provider's endpoints, when its discovery document is not to be used (both or neither). */
  TICKWORK_OIDC_AUTHORIZATION_ENDPOINT: z.string().optional(),
  TICKWORK_OIDC_TOKEN_ENDPOINT: z.string().optional(),
  /** The registered redirect URI (default: `/` of the API, where the dashboard is). */
  TICKWORK_OIDC_REDIRECT_URI: z.string().optional(),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('Tickwork'),
  POWERTOOLS_SERVICE_NAME: z.string().default('tickwork-api'),
});
export type ApiEnv = z.output<typeof apiEnvSchema>;
export type ApiEnvInput = z.input<typeof apiEnvSchema>;
