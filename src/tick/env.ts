import { z } from 'zod';
import { storeEnvSchema } from '../env.js';

/** The tick Lambda's environment. The CDK construct builds its `environment` from this type. */
export const tickEnvSchema = storeEnvSchema.extend({
  /** Time the tick keeps for itself before its Lambda timeout, in ms. */
  TICKWORK_TICK_RESERVE_MS: z.coerce.number().int().min(0).default(10_000),
  /**
   * Look-ahead: up to how long after the start of its interval each tick plans, leasing ahead and
   * invoking each run at its instant, in ms (0: only what is due). Capped by the invocation's
   * remaining time.
   */
  TICKWORK_LOOKAHEAD_MS: z.coerce.number().int().min(0).default(0),
  /**
   * Look-ahead only: the most a burst's first invokes may go before their instant, in ms (0: every
   * invoke at its instant). The task SDK holds a run sent early until its instant.
   */
  TICKWORK_SEND_AHEAD_MS: z.coerce.number().int().min(0).max(10_000).default(0),
  /** How often the tick fires (the start of its interval anchors the look-ahead), in ms. */
  TICKWORK_TICK_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
  /** EventBridge bus that receives run notices (`source: tickwork`); none are sent when empty. */
  TICKWORK_EVENT_BUS: z.string().default(''),
  POWERTOOLS_SERVICE_NAME: z.string().default('tickwork-tick'),
  POWERTOOLS_METRICS_NAMESPACE: z.string().default('Tickwork'),
});
export type TickEnv = z.output<typeof tickEnvSchema>;
/** What a deployment must set (defaults may be left out). */
export type TickEnvInput = z.input<typeof tickEnvSchema>;
