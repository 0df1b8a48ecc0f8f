import { describe, expect, it } from 'vitest';
import { lookAheadFromNow } from '../../src/tick/handler.js';
import { JUST_IN_TIME_LEAD_MS, JUST_IN_TIME_MAX_LEAD_MS, justInTimeLeadMs } from '../../src/tick/run-tick.js';

describe('lookAheadFromNow', () => {
  it('measures the look-ahead from the start of the minute the tick fires in', () => {
    const minute = Date.UTC(2026, 10, 30, 9, 0, 0);
    const options = { lookAheadMs: 122_000, intervalMs: 60_000 };
    // Fired on time: to 2 s into the minute after next.
    expect(lookAheadFromNow(options, new Date(minute))).toBe(122_000);
    // Fired at second 59 of its minute (EventBridge Scheduler's precision): the same horizon.
    expect(lookAheadFromNow(options, new Date(minute + 59_000))).toBe(63_000);
  });

  it('is none when not asked for, and never negative', () => {
    expect(lookAheadFromNow({}, new Date())).toBe(0);
    const now = new Date(Date.UTC(2026, 10, 30, 9, 0, 59));
    expect(lookAheadFromNow({ lookAheadMs: 1_500, intervalMs: 60_000 }, now)).toBe(0);
  });
});

describe('justInTimeLeadMs', () => {
  it('starts a larger group of just-in-time plans earlier, up to 5 s before its instant', () => {
    expect(justInTimeLeadMs(1)).toBe(JUST_IN_TIME_LEAD_MS + 1);
    expect(justInTimeLeadMs(1_000)).toBe(JUST_IN_TIME_LEAD_MS + 500);
    expect(justInTimeLeadMs(9_500)).toBe(5_000);
    expect(justInTimeLeadMs(100_000)).toBe(JUST_IN_TIME_MAX_LEAD_MS);
  });
});
