import { z } from 'zod';
import { storeEnvSchema } from '../env.js';

/** A task handler Lambda's environment, set by the CDK construct's `addTaskType`. */
export const taskEnvSchema = storeEnvSchema.extend({
  /** EventBridge bus that receives run notices (`source: tickwork`); none are sent when empty. */
  TICKWORK_EVENT_BUS: z.string().default(''),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('Tickwork'),
  POWERTOOLS_SERVICE_NAME: z.string().default('tickwork-task'),
});
export type TaskEnv = z.output<typeof taskEnvSchema>;
export type TaskEnvInput = z.input<typeof taskEnvSchema>;
