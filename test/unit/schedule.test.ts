import { describe, expect, it } from 'vitest';
import {
  describeSchedule,
  nextSlot,
  parseSchedule,
  previewSlots,
  type Schedule,
  slotsBetween,
} from '../../src/core/schedule.js';

const at = (iso: string) => new Date(iso);
const isoList = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('parseSchedule', () => {
  it('keeps the expression, kind and zone', () => {
    const s = parseSchedule('  0 9 * * 1-5 ', { timezone: 'Europe/Berlin' });
    expect(s.expression).toBe('0 9 * * 1-5');
    expect(s.kind).toBe('cron');
    expect(s.timezone).toBe('Europe/Berlin');
    expect(parseSchedule('rate(5 minutes)').kind).toBe('rate');
    expect(parseSchedule('at(2026-05-01T10:00:00)').kind).toBe('at');
  });

  it('reads cron in the task zone', () => {
    const s = parseSchedule('0 9 * * 1-5', { timezone: 'Europe/Berlin' });
    // Friday 2026-03-27 09:00 CET, then Monday 2026-03-30 09:00 CEST.
    expect(s.next(at('2026-03-27T07:00:00Z'))).toEqual(at('2026-03-27T08:00:00Z'));
    expect(s.next(at('2026-03-27T08:00:00Z'))).toEqual(at('2026-03-30T07:00:00Z'));
  });

  it('next() is strictly after, to the millisecond', () => {
    const s = parseSchedule('*/5 * * * *');
    expect(s.next(at('2026-01-01T00:05:00.000Z'))).toEqual(at('2026-01-01T00:10:00Z'));
    expect(s.next(at('2026-01-01T00:04:59.999Z'))).toEqual(at('2026-01-01T00:05:00Z'));
  });

  it('supports a leading seconds field', () => {
    const s = parseSchedule('15,45 * * * * *', { minIntervalMs: 1000 });
    expect(isoList(previewSlots(s, at('2026-01-01T00:00:20Z'), 3))).toEqual([
      '2026-01-01T00:00:45.000Z',
      '2026-01-01T00:01:15.000Z',
      '2026-01-01T00:01:45.000Z',
    ]);
  });

  it('supports aliases, names, L and #', () => {
    expect(parseSchedule('@daily', { timezone: 'Asia/Tokyo' }).next(at('2026-01-01T00:00:00Z'))).toEqual(
      at('2026-01-01T15:00:00Z'),
    );
    expect(parseSchedule('@HOURLY').next(at('2026-01-01T00:30:00Z'))).toEqual(at('2026-01-01T01:00:00Z'));
    expect(parseSchedule('0 0 L * *').next(at('2026-02-01T00:00:00Z'))).toEqual(at('2026-02-28T00:00:00Z'));
    expect(parseSchedule('0 0 * * 5L').next(at('2026-01-01T00:00:00Z'))).toEqual(at('2026-01-30T00:00:00Z'));
    expect(parseSchedule('0 0 * * mon#2').next(at('2026-01-01T00:00:00Z'))).toEqual(
      at('2026-01-12T00:00:00Z'),
    );
    expect(parseSchedule('0 0 1 jan-mar/2 *').next(at('2026-01-02T00:00:00Z'))).toEqual(
      at('2026-03-01T00:00:00Z'),
    );
    expect(parseSchedule('0 0 * * 7').next(at('2026-01-01T00:00:00Z'))).toEqual(at('2026-01-04T00:00:00Z'));
  });

  it('ORs day-of-month and day-of-week when both are restricted', () => {
    const s = parseSchedule('0 0 1 * 1');
    // Thursday 1 January 2026, then Monday 5 January.
    expect(isoList(previewSlots(s, at('2025-12-31T12:00:00Z'), 2))).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
    ]);
  });

  it('throws on an invalid reference Date', () => {
    const s = parseSchedule('* * * * *');
    expect(() => s.next(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe('rate()', () => {
  it('aligns slots to multiples of the interval since the epoch', () => {
    const s = parseSchedule('rate(7 minutes)', { timezone: 'Asia/Kathmandu' });
    const slot = s.next(at('2026-01-01T00:00:00Z'));
    expect(slot).toBeDefined();
    expect((slot as Date).getTime() % 420_000).toBe(0);
    expect(s.next(slot as Date)?.getTime()).toBe((slot as Date).getTime() + 420_000);
  });

  it('rate(1 day) is at 00:00 UTC whatever the zone', () => {
    const s = parseSchedule('rate(1 day)', { timezone: 'America/Los_Angeles' });
    expect(s.next(at('2026-03-08T12:00:00Z'))).toEqual(at('2026-03-09T00:00:00Z'));
  });

  it('rate(2 hours) is on even UTC hours', () => {
    const s = parseSchedule('rate(2 hours)');
    expect(s.next(at('2026-01-01T01:00:00Z'))).toEqual(at('2026-01-01T02:00:00Z'));
    expect(s.next(at('2026-01-01T02:00:00Z'))).toEqual(at('2026-01-01T04:00:00Z'));
  });
});

describe('at()', () => {
  it('has exactly one slot', () => {
    const s = parseSchedule('at(2026-05-01T10:00:00)', { timezone: 'America/New_York' });
    expect(isoList(previewSlots(s, at('2026-01-01T00:00:00Z'), 5))).toEqual(['2026-05-01T14:00:00.000Z']);
    expect(s.next(at('2026-05-01T13:59:59.999Z'))).toEqual(at('2026-05-01T14:00:00Z'));
    expect(s.next(at('2026-05-01T14:00:00Z'))).toBeUndefined();
  });
});

describe('nextSlot with a window', () => {
  const hourly = parseSchedule('0 * * * *');

  it('without a window is next()', () => {
    expect(nextSlot(hourly, at('2026-01-01T00:30:00Z'))).toEqual(at('2026-01-01T01:00:00Z'));
  });

  it('starts at startAt, inclusive', () => {
    expect(nextSlot(hourly, at('2026-01-01T00:30:00Z'), { startAt: at('2026-01-01T05:00:00Z') })).toEqual(
      at('2026-01-01T05:00:00Z'),
    );
    expect(nextSlot(hourly, at('2026-01-01T00:30:00Z'), { startAt: at('2026-01-01T05:00:00.001Z') })).toEqual(
      at('2026-01-01T06:00:00Z'),
    );
  });

  it('is still strictly after `after` when startAt is earlier', () => {
    expect(nextSlot(hourly, at('2026-01-01T03:00:00Z'), { startAt: at('2025-01-01T00:00:00Z') })).toEqual(
      at('2026-01-01T04:00:00Z'),
    );
  });

  it('ends at endAt, inclusive', () => {
    expect(nextSlot(hourly, at('2026-01-01T00:30:00Z'), { endAt: at('2026-01-01T01:00:00Z') })).toEqual(
      at('2026-01-01T01:00:00Z'),
    );
    expect(
      nextSlot(hourly, at('2026-01-01T00:30:00Z'), { endAt: at('2026-01-01T00:59:59.999Z') }),
    ).toBeUndefined();
  });

  it('is undefined when startAt is after endAt', () => {
    expect(
      nextSlot(hourly, at('2026-01-01T00:00:00Z'), {
        startAt: at('2026-01-02T00:00:00Z'),
        endAt: at('2026-01-01T12:00:00Z'),
      }),
    ).toBeUndefined();
  });
});

describe('slotsBetween', () => {
  const quarterly = parseSchedule('*/15 * * * *');

  it('returns slots in (after, until], in order', () => {
    expect(
      isoList(slotsBetween(quarterly, at('2026-01-01T00:00:00Z'), at('2026-01-01T01:00:00Z'), 100)),
    ).toEqual([
      '2026-01-01T00:15:00.000Z',
      '2026-01-01T00:30:00.000Z',
      '2026-01-01T00:45:00.000Z',
      '2026-01-01T01:00:00.000Z',
    ]);
  });

  it('stops at the limit', () => {
    expect(slotsBetween(quarterly, at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), 2)).toHaveLength(
      2,
    );
    expect(slotsBetween(quarterly, at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), 0)).toEqual([]);
    expect(slotsBetween(quarterly, at('2026-01-01T00:00:00Z'), at('2026-01-02T00:00:00Z'), -1)).toEqual([]);
  });

  it('is empty when until is not after `after`', () => {
    expect(slotsBetween(quarterly, at('2026-01-01T01:00:00Z'), at('2026-01-01T01:00:00Z'), 10)).toEqual([]);
    expect(slotsBetween(quarterly, at('2026-01-01T01:00:00Z'), at('2026-01-01T00:00:00Z'), 10)).toEqual([]);
  });

  it('applies the window', () => {
    const slots = slotsBetween(quarterly, at('2026-01-01T00:00:00Z'), at('2026-01-01T02:00:00Z'), 100, {
      startAt: at('2026-01-01T00:40:00Z'),
      endAt: at('2026-01-01T01:15:00Z'),
    });
    expect(isoList(slots)).toEqual([
      '2026-01-01T00:45:00.000Z',
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T01:15:00.000Z',
    ]);
  });

  it('ends with the schedule', () => {
    const once = parseSchedule('at(2026-01-01T00:30:00)');
    expect(isoList(slotsBetween(once, at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z'), 10))).toEqual([
      '2026-01-01T00:30:00.000Z',
    ]);
  });
});

describe('previewSlots', () => {
  it('returns the next `count` slots, window applied', () => {
    const s = parseSchedule('0 12 * * *', { timezone: 'UTC' });
    expect(isoList(previewSlots(s, at('2026-01-01T00:00:00Z'), 3))).toEqual([
      '2026-01-01T12:00:00.000Z',
      '2026-01-02T12:00:00.000Z',
      '2026-01-03T12:00:00.000Z',
    ]);
    expect(
      isoList(previewSlots(s, at('2026-01-01T00:00:00Z'), 3, { endAt: at('2026-01-02T12:00:00Z') })),
    ).toEqual(['2026-01-01T12:00:00.000Z', '2026-01-02T12:00:00.000Z']);
  });
});

describe('describeSchedule', () => {
  it.each([
    ['0 9 * * 1-5', 'Europe/Berlin', 'At 09:00 AM, Monday through Friday (Europe/Berlin)'],
    ['*/15 * * * *', 'UTC', 'Every 15 minutes (UTC)'],
    ['0 0 1 * *', 'America/New_York', 'At 12:00 AM, on day 1 of the month (America/New_York)'],
    ['@hourly', 'UTC', 'Every hour (UTC)'],
    ['rate(5 minutes)', 'UTC', 'Every 5 minutes'],
    ['rate(1 minute)', 'UTC', 'Every minute'],
    ['rate(1 hour)', 'Europe/Berlin', 'Every hour'],
    ['rate(2 days)', 'UTC', 'Every 2 days, at 00:00 UTC'],
    ['at(2026-03-29T09:00:00)', 'Europe/Berlin', 'Once, at 2026-03-29 09:00:00 (Europe/Berlin)'],
  ])('%s in %s', (expression, timezone, text) => {
    expect(describeSchedule(parseSchedule(expression, { timezone }))).toBe(text);
  });

  it('falls back to the expression for a Schedule it did not make', () => {
    const custom: Schedule = { expression: 'custom', kind: 'cron', timezone: 'UTC', next: () => undefined };
    expect(describeSchedule(custom)).toBe('custom (UTC)');
  });
});

describe('performance', () => {
  it('next() does not re-parse: 20 000 calls stay well under a second', () => {
    const s = parseSchedule('0 9 * * 1-5', { timezone: 'Europe/Berlin' });
    const start = Date.UTC(2026, 0, 1);
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i++) s.next(new Date(start + i * 3_600_000));
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
