/**
 * `tickwork/testing`: what a team needs to test its task handlers without AWS: the in-memory
 * store (the same item layout and contract as the DynamoDB one) and a run event like the one the
 * tick sends.
 *
 * @example
 * import { createTaskHandler } from 'tickwork/task';
 * import { aRunEvent, MemoryTaskStore } from 'tickwork/testing';
 *
 * const store = new MemoryTaskStore();
 * const handler = createTaskHandler(tasks, { store, metrics: false });
 * const event = aRunEvent({ type: 'Acme.BuildReport', parameters: { region: 'eu' } });
 * await handler(event, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 });
 * expect((await store.getRun(event.taskId, event.runId))?.status).toBe('succeeded');
 */
import type { RunEvent } from '../core/run-event.js';
import { newId } from '../ids.js';

export type { RunEvent } from '../core/run-event.js';
export { MemoryTaskStore } from '../store/memory-task-store.js';

/**
 * A run event for a manual first attempt of task `test-task`, due and dispatched at `now`, with a
 * 15-minute lease; every field can be overridden (`type` is required).
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
