import { z } from 'zod';

/** A task handler Lambda's environment, set by the CDK construct's `addTaskType`. */
export const taskEnvSchema = z.object({
  /** The Tickwork table. */
  TICKWORK_TABLE: z.string().min(3),
  /** Due-index shards; must match the tick's. */
  TICKWORK_SHARDS: z.coerce.number().int().min(1).max(64).default(4),
  /** How far ahead a task due again soon keeps its due-index key: the tick's interval, in ms. */
  TICKWORK_DUE_KEY_HOLD_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  /** EventBridge bus that receives run notices (`source: tickwork`); none are sent when empty. */
  TICKWORK_EVENT_BUS: z.string().default(''),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('Tickwork'),
  POWERTOOLS_SERVICE_NAME: z.string().default('tickwork-task'),
});
export type TaskEnv = z.output<typeof taskEnvSchema>;
export type TaskEnvInput = z.input<typeof taskEnvSchema>;
