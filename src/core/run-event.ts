/**
 * The run event: what the tick (and the API's run-now) sends to a task's handler Lambda, and what
 * the task SDK reads. Declared once here (schema, type, writer, parser), so the side that writes it
 * and the side that reads it cannot drift apart.
 */
import { z } from 'zod';
import { TickworkError } from './errors.js';
import type { ActiveRun, JsonValue, SlotSpan, TaskState, Trigger } from './model.js';

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

/** The shape of a {@link RunEvent}, as {@link runEventOf} writes it. */
export const runEventSchema = z.object({
  tickwork: z.literal(1),
  taskId: z.string().min(1),
  runId: z.string().min(1),
  type: z.string().min(1),
  scheduledFor: isoInstant,
  dispatchedAt: isoInstant,
  attempt: z.number().int().min(1),
  trigger: z.enum(['schedule', 'manual', 'retry', 'catch-up', 'replay', 'backfill'] satisfies Trigger[]),
  parameters: z.record(z.string(), jsonValue),
  /** Fencing token of the lease. */
  token: z.number().int().min(0),
  /** When the lease given at dispatch ends. */
  leaseExpiresAt: isoInstant,
  historyRetentionDays: z.number().positive(),
  /**
   * The task's `timeoutSeconds`: the run's signal fires with reason `timeout` this long after the
   * claim. Absent (an event from an older tick): only the Lambda's own deadline applies.
   */
  timeoutSeconds: z.number().positive().optional(),
  /**
   * Whether the handler must read its task after a success or a cancel: something may be waiting
   * behind this run (a pending run, or a queue-one task). Absent means yes. After a failure the
   * handler always settles (retries, stopOnError).
   */
  settle: z.boolean().optional(),
  /**
   * A `run-once` catch-up run standing for several slots: the first and last of them and how
   * many (the last is `scheduledFor`). The claim copies them onto the run's record.
   */
  firstSlotAt: isoInstant.optional(),
  lastSlotAt: isoInstant.optional(),
  slotCount: z.number().int().min(2).optional(),
  /** For a replay: the run it repeats. */
  replayOf: z.string().min(1).optional(),
});

/** What the tick sends to a task's handler; the task SDK parses it ({@link parseRunEvent}). */
export type RunEvent = z.infer<typeof runEventSchema>;

/** The handler was invoked with something that is not a Tickwork run event. */
export class InvalidRunEventError extends TickworkError {
  override readonly name = 'InvalidRunEventError';
  override readonly code = 'invalid_run_event';
}

/** The event a handler receives for a run the tick (or run-now) started. */
export function runEventOf(task: TaskState, run: ActiveRun): RunEvent {
  return {
    tickwork: 1,
    taskId: task.id,
    runId: run.runId,
    type: task.type,
    scheduledFor: run.scheduledFor.toISOString(),
    dispatchedAt: run.dispatchedAt.toISOString(),
    attempt: run.attempt,
    trigger: run.trigger,
    parameters: run.parameters,
    token: run.token,
    leaseExpiresAt: run.expiresAt.toISOString(),
    historyRetentionDays: task.historyRetentionDays,
    timeoutSeconds: task.timeoutSeconds,
    // A run-now queued behind this run later is found by the tick (see `dueAtOf`), not here.
    settle: task.pending.length > 0 || task.overlap === 'queue-one',
    ...(run.replayOf !== undefined ? { replayOf: run.replayOf } : {}),
    ...(run.slotCount !== undefined && run.firstSlotAt && run.lastSlotAt
      ? {
          firstSlotAt: run.firstSlotAt.toISOString(),
          lastSlotAt: run.lastSlotAt.toISOString(),
          slotCount: run.slotCount,
        }
      : {}),
  };
}

/** The slots a run event stands for, as the claim records them (none for a single slot). */
export function slotSpanOfEvent(event: RunEvent): SlotSpan {
  if (event.slotCount === undefined || !event.firstSlotAt || !event.lastSlotAt) return {};
  return {
    firstSlotAt: new Date(event.firstSlotAt),
    lastSlotAt: new Date(event.lastSlotAt),
    slotCount: event.slotCount,
  };
}

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
