/** Backfill's pure parts: the slots of a range, and how many runs may be queued now. */
import { describe, expect, it } from 'vitest';
import { backfillRoom, backfillSlots } from '../../src/core/backfill.js';
import type { ActiveRun, PendingRun } from '../../src/core/model.js';
import { aTask, T0 } from '../support/builders.js';

const active = (runId: string, trigger: ActiveRun['trigger']): ActiveRun => ({
  runId,
  token: 1,
  scheduledFor: T0,
  dispatchedAt: T0,
  expiresAt: T0,
  attempt: 1,
  trigger,
  parameters: {},
});
const pending = (runId: string, trigger: PendingRun['trigger']): PendingRun => ({
  runId,
  trigger,
  scheduledFor: T0,
  notBefore: T0,
  attempt: 1,
  parameters: {},
});

describe('backfillSlots', () => {
  it("lists the schedule's slots in the range, both ends included, in the task's zone", () => {
    const task = aTask({ schedule: '0 9 * * *', timezone: 'Europe/Berlin' });
    const slots = backfillSlots(task, new Date('2026-01-01T08:00:00Z'), new Date('2026-01-03T08:00:00Z'), 10);
    expect(slots.map((s) => s.toISOString())).toEqual([
      '2026-01-01T08:00:00.000Z',
      '2026-01-02T08:00:00.000Z',
      '2026-01-03T08:00:00.000Z',
    ]);
    expect(
      backfillSlots(task, new Date('2026-01-01T08:00:00Z'), new Date('2026-01-03T08:00:00Z'), 2),
    ).toHaveLength(2);
  });

  it("keeps to the task's start and end window", () => {
    const task = aTask({ schedule: '0 * * * *', startAt: new Date('2026-01-01T02:00:00Z') });
    const slots = backfillSlots(task, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T03:00:00Z'), 10);
    expect(slots.map((s) => s.toISOString())).toEqual([
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T03:00:00.000Z',
    ]);
  });
});

describe('backfillRoom', () => {
  it('under allow: the concurrency less the backfill runs pending or running', () => {
    const task = aTask({
      overlap: 'allow',
      active: [active('a', 'backfill'), active('b', 'schedule'), active('c', 'backfill')],
      pending: [pending('p', 'backfill')],
    });
    expect(backfillRoom(task, 4)).toBe(1);
    expect(backfillRoom(task, 2)).toBe(0);
    // A finished run not folded yet no longer counts.
    expect(backfillRoom(task, 4, new Set(['a', 'c']))).toBe(3);
  });

  it('under any other overlap policy: one, and only when nothing of the task runs or waits', () => {
    for (const overlap of ['skip', 'queue-one', 'replace'] as const) {
      expect(backfillRoom(aTask({ overlap }), 5)).toBe(1);
      expect(backfillRoom(aTask({ overlap, active: [active('a', 'schedule')] }), 5)).toBe(0);
      expect(backfillRoom(aTask({ overlap, active: [active('a', 'schedule')] }), 5, new Set(['a']))).toBe(1);
      expect(backfillRoom(aTask({ overlap, pending: [pending('p', 'manual')] }), 5)).toBe(0);
    }
  });
});
