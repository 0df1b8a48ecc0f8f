import { z } from 'zod';

/** The tick Lambda's environment. The CDK construct builds its `environment` from this type. */
export const tickEnvSchema = z.object({
  /** The Tickwork table. */
  TICKWORK_TABLE: z.string().min(3),
  /** Due-index shards; must match what wrote the table (default 4). */
  TICKWORK_SHARDS: z.coerce.number().int().min(1).max(64).default(4),
  /** How far ahead a task due again soon keeps its due-index key: the tick's interval, in ms. */
  TICKWORK_DUE_KEY_HOLD_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  /** Time the tick keeps for itself before its Lambda timeout, in ms. */
  TICKWORK_TICK_RESERVE_MS: z.coerce.number().int().min(0).default(10_000),
  /** EventBridge bus that receives run notices (`source: tickwork`); none are sent when empty. */
  TICKWORK_EVENT_BUS: z.string().default(''),
  POWERTOOLS_SERVICE_NAME: z.string().default('tickwork-tick'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('Tickwork'),
});
export type TickEnv = z.output<typeof tickEnvSchema>;
/** What a deployment must set (defaults may be left out). */
export type TickEnvInput = z.input<typeof tickEnvSchema>;
