import { z } from 'zod';

/**
 * What every Tickwork Lambda that opens the table reads from its environment. The tick's, the
 * API's and the task handlers' schemas extend it (`src/tick/env.ts`, `src/api/env.ts`,
 * `src/task/env.ts`); the deps factory (`src/deps.ts`) builds the store from it.
 */
export const storeEnvSchema = z.object({
  /** The Tickwork table. */
  TICKWORK_TABLE: z.string().min(3),
  /** Due-index shards; every function sharing a table must agree (default 4). */
  TICKWORK_SHARDS: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * The shard count before `TICKWORK_SHARDS`, while it shrinks: the tick also reads the former
   * keys (`src/store/reshard.ts`). Unset once `reshardDueIndex` has moved every task.
   */
  TICKWORK_FORMER_SHARDS: z.coerce.number().int().min(1).max(64).optional(),
  /** How far ahead a task due again soon keeps its due-index key: the tick's interval, in ms. */
  TICKWORK_DUE_KEY_HOLD_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
});
export type StoreEnv = z.output<typeof storeEnvSchema>;
