import { describe, expect, it } from 'vitest';
import { DEFAULT_DUE_KEY_HOLD_MS, dueAtOf, dueIndexKey } from '../../src/core/due.js';
import { aTask } from '../support/builders.js';

const at = (iso: string) => new Date(iso);

describe('dueIndexKey', () => {
  it('is the due instant for a task not in the index yet', () => {
    const task = aTask({ nextSlotAt: at('2026-03-29T01:01:00Z'), updatedAt: at('2026-03-29T01:00:00Z') });

    expect(dueIndexKey(task)).toEqual(at('2026-03-29T01:01:00Z'));
  });

  it('holds the old key of a task in view that is due again within one tick', () => {
    const task = aTask({
      nextSlotAt: at('2026-03-29T01:01:00Z'),
      updatedAt: at('2026-03-29T01:00:02Z'),
      dueKey: at('2026-03-29T00:57:00Z'),
    });

    expect(dueIndexKey(task)).toEqual(at('2026-03-29T00:57:00Z'));
  });

  it('moves the key of a task due again later than one tick ahead', () => {
    const task = aTask({
      nextSlotAt: at('2026-03-29T01:05:00Z'),
      updatedAt: at('2026-03-29T01:00:02Z'),
      dueKey: at('2026-03-29T01:00:00Z'),
    });

    expect(dueIndexKey(task)).toEqual(at('2026-03-29T01:05:00Z'));
    expect(dueIndexKey(task, 5 * 60_000)).toEqual(at('2026-03-29T01:00:00Z'));
  });

  it('never holds a key that was not yet in view when the task was written', () => {
    // An API edit at 01:00 of a task indexed for 01:00:30 must not keep it hidden until then
    // if it is now due earlier; a key in the future is always replaced by the due instant.
    const task = aTask({
      nextSlotAt: at('2026-03-29T01:00:10Z'),
      updatedAt: at('2026-03-29T01:00:00Z'),
      dueKey: at('2026-03-29T01:00:30Z'),
    });

    expect(dueIndexKey(task)).toEqual(at('2026-03-29T01:00:10Z'));
  });

  it('takes the task out of the index when nothing is due, and holds nothing when told not to', () => {
    const idle = aTask({
      enabled: false,
      dueKey: at('2026-03-29T00:59:00Z'),
      updatedAt: at('2026-03-29T01:00:00Z'),
    });
    expect(dueAtOf(idle)).toBeUndefined();
    expect(dueIndexKey(idle)).toBeUndefined();

    const soon = aTask({
      nextSlotAt: at('2026-03-29T01:01:00Z'),
      updatedAt: at('2026-03-29T01:00:02Z'),
      dueKey: at('2026-03-29T01:00:00Z'),
    });
    expect(dueIndexKey(soon, 0)).toEqual(at('2026-03-29T01:01:00Z'));
    expect(DEFAULT_DUE_KEY_HOLD_MS).toBe(60_000);
  });

  it('is never later than the instant the task must be looked at', () => {
    // Property over a grid: whatever the old key and write time, the key is at most
    // max(due, write time); a tick at or after that instant reads the task.
    const base = at('2026-03-29T01:00:00Z').getTime();
    for (let key = -120; key <= 120; key += 15) {
      for (let due = -120; due <= 180; due += 15) {
        for (const write of [0, 30, 59, 61]) {
          const task = aTask({
            nextSlotAt: new Date(base + due * 1000),
            updatedAt: new Date(base + write * 1000),
            dueKey: new Date(base + key * 1000),
          });
          const got = dueIndexKey(task)?.getTime() ?? Number.NaN;
          expect(got).toBeLessThanOrEqual(Math.max(base + due * 1000, base + write * 1000));
        }
      }
    }
  });
});
