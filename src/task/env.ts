import { z } from 'zod';

/** A task handler Lambda's environment, set by the CDK construct's `addTaskType`. */
export const taskEnvSchema = z.object({
  /** The Tickwork table. */
  TICKWORK_TABLE: z.string().min(3),
  /** Due-index shards; must match the tick's. */
  TICKWORK_SHARDS: z.coerce.number().int().min(1).max(64).default(4),
  POWERTOOLS_SERVICE_NAME: z.string().default('tickwork-task'),
});
export type TaskEnv = z.output<typeof taskEnvSchema>;
export type TaskEnvInput = z.input<typeof taskEnvSchema>;
