/**
 * `tickwork/testing`: what a team needs to test its task handlers without AWS: the in-memory
 * store (the same item layout and contract as the DynamoDB one) and a run dispatched the way the
 * tick dispatches one.
 *
 * A handler claims a run only from its task's lease, so a test first dispatches the run into a
 * store ({@link dispatchRun}): the task gets a lease holding the run, and the returned event is
 * the one the tick would send. {@link aRunEvent} alone makes an event no lease holds, which the
 * handler refuses (useful to test exactly that).
 *
 * @example
 * import { createTaskHandler } from 'tickwork/task';
 * import { dispatchRun, MemoryTaskStore } from 'tickwork/testing';
 *
 * const store = new MemoryTaskStore();
 * const handler = createTaskHandler(tasks, { store, metrics: false });
 * const event = await dispatchRun(store, { type: 'Acme.BuildReport', parameters: { region: 'eu' } });
 * await handler(event, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 });
 * expect((await store.getRun(event.taskId, event.runId))?.status).toBe('succeeded');
 */
import { type ActiveRun, type TaskState, taskDefaults } from '../core/model.js';
import type { TaskStore } from '../core/ports.js';
import type { RunEvent } from '../core/run-event.js';
import { newId } from '../ids.js';

export type { RunEvent } from '../core/run-event.js';
export { MemoryTaskStore } from '../store/memory-task-store.js';

/**
 * A run event for a manual first attempt of task `test-task`, due and dispatched at `now`, with a
 * 15-minute lease; every field can be overridden (`type` is required). No store holds its lease:
 * use {@link dispatchRun} to run it.
 */
export function aRunEvent(fields: Partial<RunEvent> & Pick<RunEvent, 'type'>, now = new Date()): RunEvent {
  return {
    tickwork: 1,
    taskId: 'test-task',
    runId: newId(),
    scheduledFor: now.toISOString(),
    dispatchedAt: now.toISOString(),
    attempt: 1,
    trigger: 'manual',
    parameters: {},
    token: 1,
    leaseExpiresAt: new Date(now.getTime() + 15 * 60_000).toISOString(),
    historyRetentionDays: 30,
    settle: false,
    ...fields,
  };
}

/**
 * Dispatches a run as the tick does: the event of {@link aRunEvent}, and in `store` its task
 * (created with defaults and a yearly schedule when absent) holding a lease on the run. Resolves
 * to the event to hand to the handler.
 */
export async function dispatchRun(
  store: TaskStore,
  fields: Partial<RunEvent> & Pick<RunEvent, 'type'>,
  now = new Date(),
): Promise<RunEvent> {
  const event = aRunEvent(fields, now);
  const lease: ActiveRun = {
    runId: event.runId,
    token: event.token,
    scheduledFor: new Date(event.scheduledFor),
    dispatchedAt: new Date(event.dispatchedAt),
    expiresAt: new Date(event.leaseExpiresAt),
    attempt: event.attempt,
    trigger: event.trigger,
    parameters: event.parameters,
  };
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await store.getTask(event.taskId);
    if (!current) {
      const { created } = await store.createTask(newTestTask(event, lease, now));
      if (created) return event;
      continue;
    }
    const next: TaskState = {
      ...current,
      type: event.type,
      version: current.version + 1,
      fence: Math.max(current.fence, event.token),
      active: [...current.active.filter((a) => a.runId !== event.runId), lease],
    };
    const saved = await store.saveTask(next, { expectedVersion: current.version });
    if (saved.saved) return event;
  }
  throw new Error(`dispatchRun: task ${event.taskId} kept changing while the run was dispatched`);
}

function newTestTask(event: RunEvent, lease: ActiveRun, now: Date): TaskState {
  return {
    ...taskDefaults,
    retry: { ...taskDefaults.retry },
    id: event.taskId,
    name: event.taskId,
    type: event.type,
    schedule: '0 0 1 1 *',
    parameters: {},
    historyRetentionDays: event.historyRetentionDays,
    version: 1,
    createdAt: now,
    updatedAt: now,
    nextSlotAt: new Date(Date.UTC(now.getUTCFullYear() + 1, 0, 1)),
    scheduledStarts: 0,
    fence: event.token,
    active: [lease],
    pending: [],
    summary: { runCount: 0 },
  };
}
