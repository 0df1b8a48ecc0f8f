import { z } from 'zod';
import type { JsonValue, Trigger } from '../core/model.js';
import type { RunEvent } from '../core/ports.js';
import { InvalidRunEventError } from './errors.js';

const jsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

const isoInstant = z.iso.datetime({ offset: true });

/** The shape of {@link RunEvent}, as the tick's `runEventOf` writes it. */
export const runEventSchema = z.object({
  tickwork: z.literal(1),
  taskId: z.string().min(1),
  runId: z.string().min(1),
  type: z.string().min(1),
  scheduledFor: isoInstant,
  dispatchedAt: isoInstant,
  attempt: z.number().int().min(1),
  trigger: z.enum(['schedule', 'manual', 'retry', 'catch-up'] satisfies Trigger[]),
  parameters: z.record(z.string(), jsonValue),
  token: z.number().int().min(0),
  leaseExpiresAt: isoInstant,
  historyRetentionDays: z.number().positive(),
  settle: z.boolean().optional(),
});

/**
 * Reads a Lambda event as a Tickwork run event, or throws {@link InvalidRunEventError}: an event
 * that is not one was not sent by the tick, so there is no run to record and the invocation fails.
 */
export function parseRunEvent(event: unknown): RunEvent {
  const parsed = runEventSchema.safeParse(event);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`);
  throw new InvalidRunEventError(`not a Tickwork run event: ${issues.join('; ')}`);
}

/**
 * The key of a run's effects: `<taskId>:<scheduledFor ISO>`. Retries of a slot share it (they
 * redo the same slot), so an external system that dedupes on it applies the slot's effect once.
 */
export function idempotencyKeyOf(event: Pick<RunEvent, 'taskId' | 'scheduledFor'>): string {
  return `${event.taskId}:${new Date(event.scheduledFor).toISOString()}`;
}
