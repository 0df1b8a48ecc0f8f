/**
 * Test data builders with overrides: `aTask({ schedule: '*\/5 * * * *' })`, `aRun({ status: 'running' })`.
 * Fixed instants around `2026-03-29T00:59:00Z`; ids are fresh ULIDs so tests sharing a table never collide.
 */
import { ulid } from 'ulid';
import { type RunRecord, type TaskState, taskDefaults } from '../../src/core/model.js';
import type { RunClaim } from '../../src/core/ports.js';

/** The instant tests are set at. */
export const T0 = new Date('2026-03-29T00:59:00Z');

/** `T0` plus some milliseconds. */
export function at(offsetMs: number): Date {
  return new Date(T0.getTime() + offsetMs);
}

/** A valid task: enabled, every minute, next slot a minute after `T0`, no runs. */
export function aTask(overrides: Partial<TaskState> = {}): TaskState {
  return {
    ...taskDefaults,
    retry: { ...taskDefaults.retry },
    id: `task-${ulid()}`,
    name: 'Clean up files',
    type: 'Acme.CleanupFiles',
    schedule: '* * * * *',
    parameters: {},
    version: 1,
    createdAt: T0,
    updatedAt: T0,
    nextSlotAt: at(60_000),
    scheduledStarts: 0,
    fence: 0,
    active: [],
    pending: [],
    summary: { runCount: 0 },
    ...overrides,
  };
}

/** A finished run record; history retention ends 30 days after `T0`. */
export function aRun(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    taskId: 'task-1',
    runId: ulid(T0.getTime()),
    type: 'Acme.CleanupFiles',
    status: 'succeeded',
    trigger: 'schedule',
    attempt: 1,
    scheduledFor: T0,
    dispatchedAt: at(100),
    startedAt: at(200),
    finishedAt: at(1200),
    durationMs: 1000,
    parameters: {},
    token: 1,
    expiresAt: at(30 * 24 * 3600 * 1000),
    ...overrides,
  };
}

/** A claim of a run by a handler holding token 1 and request id `req-1`, leased for five minutes. */
export function aClaim(overrides: Partial<RunClaim> = {}): RunClaim {
  return {
    taskId: 'task-1',
    runId: ulid(T0.getTime()),
    type: 'Acme.CleanupFiles',
    token: 1,
    requestId: 'req-1',
    trigger: 'schedule',
    attempt: 1,
    scheduledFor: T0,
    dispatchedAt: at(100),
    startedAt: at(200),
    leaseExpiresAt: at(5 * 60_000),
    parameters: {},
    expiresAt: at(30 * 24 * 3600 * 1000),
    ...overrides,
  };
}
