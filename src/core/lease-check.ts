/**
 * A run starts only from its lease: the task SDK claims a run only when the task's lease holds it
 * with the run event's id and fencing token, and everything else the event says (slot, attempt,
 * trigger, parameters, type) is what the tick or the API recorded in that lease. An event that
 * names a run no lease holds, or differs from its lease, was not sent by Tickwork, or was altered.
 */
import type { ActiveRun, JsonValue, TaskState } from './model.js';
import type { RunEvent } from './run-event.js';

/** Why a run event was refused: no lease holds its run, or the event differs from the lease. */
export type ClaimRefusal =
  /** `taskGone`: the task was deleted (after the lease was taken, or never existed). */
  | { refused: 'no-lease'; detail: string; taskGone?: true }
  | { refused: 'mismatch'; detail: string; fields: string[] };

/** The fields of a run event that must equal its lease (and its task's type). */
const checkedFields = [
  'token',
  'attempt',
  'trigger',
  'scheduledFor',
  'dispatchedAt',
  'parameters',
  'type',
] as const;

/**
 * The lease that holds the event's run, or why there is none. `task` is the task as a strongly
 * consistent read found it (absent when it was deleted).
 */
export function leaseOfEvent(
  task: Pick<TaskState, 'id' | 'type' | 'active'> | undefined,
  event: RunEvent,
): { lease: ActiveRun } | ClaimRefusal {
  if (!task) return { refused: 'no-lease', detail: `task ${event.taskId} does not exist`, taskGone: true };
  const lease = task.active.find((a) => a.runId === event.runId);
  if (!lease) return { refused: 'no-lease', detail: `task ${task.id} holds no lease on run ${event.runId}` };
  const recorded: Record<(typeof checkedFields)[number], JsonValue> = {
    token: lease.token,
    attempt: lease.attempt,
    trigger: lease.trigger,
    scheduledFor: lease.scheduledFor.getTime(),
    dispatchedAt: lease.dispatchedAt.getTime(),
    parameters: lease.parameters,
    type: task.type,
  };
  const sent: Record<(typeof checkedFields)[number], JsonValue> = {
    token: event.token,
    attempt: event.attempt,
    trigger: event.trigger,
    scheduledFor: Date.parse(event.scheduledFor),
    dispatchedAt: Date.parse(event.dispatchedAt),
    parameters: event.parameters,
    type: event.type,
  };
  const fields = checkedFields.filter((field) => !sameJson(recorded[field], sent[field]));
  if (fields.length === 0) return { lease };
  return {
    refused: 'mismatch',
    fields,
    detail: `run event for ${task.id}/${event.runId} differs from its lease in ${fields.join(', ')}`,
  };
}

/** Structural equality of JSON values; object key order does not matter. */
export function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((value, i) => sameJson(value, b[i] as JsonValue));
  }
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((key) => Object.hasOwn(b, key) && sameJson(a[key] as JsonValue, b[key] as JsonValue));
}
