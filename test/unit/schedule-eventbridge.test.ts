/**
 * EventBridge's schedule forms: `cron(min hour dom month dow year)`, `rate(...)` and `at(...)`
 * (docs/migrating-from-eventbridge.md). Weekdays of the dates below were checked against a
 * calendar: 2026-01-01 is a Thursday, 2026-08-01 a Saturday, 2028-02-29 a Tuesday.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScheduleValidationError } from '../../src/core/errors.js';
import {
  describeSchedule,
  nextSlot,
  parseSchedule,
  previewSlots,
  slotsBetween,
} from '../../src/core/schedule.js';
import { issuesOf } from '../support/schedule.js';

function slots(expression: string, from: string, count: number, timezone = 'UTC'): string[] {
  const schedule = parseSchedule(expression, { timezone });
  return previewSlots(schedule, new Date(from), count).map((d) => d.toISOString().replace('.000', ''));
}

describe('cron(...) in UTC', () => {
  it('reads the AWS examples', () => {
    expect(slots('cron(0 9 ? * MON-FRI *)', '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-01T09:00:00Z',
      '2026-01-02T09:00:00Z',
      '2026-01-05T09:00:00Z',
      '2026-01-06T09:00:00Z',
    ]);
    expect(slots('cron(0 10 * * ? *)', '2026-01-01T10:00:00Z', 2)).toEqual([
      '2026-01-02T10:00:00Z',
      '2026-01-03T10:00:00Z',
    ]);
    expect(slots('cron(5,35 14 * * ? *)', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T14:05:00Z',
      '2026-01-01T14:35:00Z',
      '2026-01-02T14:05:00Z',
    ]);
    expect(slots('cron(0 8 1 * ? *)', '2026-01-01T09:00:00Z', 2)).toEqual([
      '2026-02-01T08:00:00Z',
      '2026-03-01T08:00:00Z',
    ]);
  });

  it('counts day-of-week 1-7 from Sunday, names included', () => {
    expect(slots('cron(0 12 ? * 1 *)', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-04T12:00:00Z',
      '2026-01-11T12:00:00Z',
    ]);
    expect(slots('cron(0 12 ? * SUN *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-04T12:00:00Z']);
    expect(slots('cron(0 12 ? * 7 *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-03T12:00:00Z']);
    expect(slots('cron(0 12 ? * 2-6 *)', '2026-01-02T13:00:00Z', 1)).toEqual(['2026-01-05T12:00:00Z']);
    expect(slots('cron(0 12 ? * FRI-MON *)', '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-02T12:00:00Z',
      '2026-01-03T12:00:00Z',
      '2026-01-04T12:00:00Z',
      '2026-01-05T12:00:00Z',
    ]);
  });

  it('reads names and keywords in any letter case, and cron with five fields as every year', () => {
    const expected = slots('cron(0 9 ? * MON-FRI *)', '2026-01-01T00:00:00Z', 5);
    expect(slots('CRON(0 9 ? * mon-fri *)', '2026-01-01T00:00:00Z', 5)).toEqual(expected);
    expect(slots('cron(0 9 ? * MON-FRI)', '2026-01-01T00:00:00Z', 5)).toEqual(expected);
    expect(slots('cron( 0  9 ? * Mon-Fri * )', '2026-01-01T00:00:00Z', 5)).toEqual(expected);
  });

  it('takes steps from a start value and ranges that wrap past midnight', () => {
    expect(slots('cron(0/15 * * * ? *)', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T00:15:00Z',
      '2026-01-01T00:30:00Z',
      '2026-01-01T00:45:00Z',
    ]);
    expect(slots('cron(1/10 9 * * ? *)', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T09:01:00Z',
      '2026-01-01T09:11:00Z',
      '2026-01-01T09:21:00Z',
    ]);
    // "Run every 30 minutes Monday through Friday between 10:00 pm and 2:00 am" (the AWS example).
    expect(slots('cron(0/30 22-2 ? * MON-FRI *)', '2026-01-01T21:00:00Z', 8)).toEqual([
      '2026-01-01T22:00:00Z',
      '2026-01-01T22:30:00Z',
      '2026-01-01T23:00:00Z',
      '2026-01-01T23:30:00Z',
      '2026-01-02T00:00:00Z',
      '2026-01-02T00:30:00Z',
      '2026-01-02T01:00:00Z',
      '2026-01-02T01:30:00Z',
    ]);
    expect(slots('cron(0 0 1 NOV-FEB ? *)', '2026-01-15T00:00:00Z', 4)).toEqual([
      '2026-02-01T00:00:00Z',
      '2026-11-01T00:00:00Z',
      '2026-12-01T00:00:00Z',
      '2027-01-01T00:00:00Z',
    ]);
  });
});

describe('L, W, LW and #', () => {
  it('L in day-of-month is the last day, February of a leap year included', () => {
    expect(slots('cron(0 18 L * ? *)', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-31T18:00:00Z',
      '2026-02-28T18:00:00Z',
      '2026-03-31T18:00:00Z',
    ]);
    expect(slots('cron(0 18 L 2 ? *)', '2027-03-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T18:00:00Z',
      '2029-02-28T18:00:00Z',
    ]);
  });

  it('nW is the weekday nearest the nth, without leaving the month', () => {
    // 2026-08-01 is a Saturday: 1W moves forward to Monday the 3rd, not back into July.
    expect(slots('cron(0 9 1W * ? *)', '2026-07-15T00:00:00Z', 1)).toEqual(['2026-08-03T09:00:00Z']);
    // 2026-02-01 is a Sunday: Monday the 2nd.
    expect(slots('cron(0 9 1W * ? *)', '2026-01-15T00:00:00Z', 1)).toEqual(['2026-02-02T09:00:00Z']);
    // 2026-08-15 is a Saturday: Friday the 14th.
    expect(slots('cron(0 9 15W 8 ? *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-08-14T09:00:00Z']);
    // 2026-05-31 is a Sunday and the last day: Friday the 29th; April (30 days) has no 31W.
    expect(slots('cron(0 9 31W * ? *)', '2026-04-01T00:00:00Z', 1)).toEqual(['2026-05-29T09:00:00Z']);
    // 29W in February: only leap years; 2032-02-29 is a Sunday, so Friday the 27th.
    expect(slots('cron(0 9 29W 2 ? *)', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2028-02-29T09:00:00Z',
      '2032-02-27T09:00:00Z',
    ]);
  });

  it('LW is the last weekday of the month', () => {
    // 2026-01-31 and 2026-02-28 are Saturdays; 2028-02-29 is a Tuesday.
    expect(slots('cron(0 9 LW * ? *)', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-30T09:00:00Z',
      '2026-02-27T09:00:00Z',
      '2026-03-31T09:00:00Z',
    ]);
    expect(slots('cron(0 9 LW 2 ? *)', '2028-01-01T00:00:00Z', 1)).toEqual(['2028-02-29T09:00:00Z']);
  });

  it('nL in day-of-week is the last such day (5L = last Thursday), and L alone is Saturday', () => {
    expect(slots('cron(0 9 ? * 5L *)', '2026-01-01T10:00:00Z', 2)).toEqual([
      '2026-01-29T09:00:00Z',
      '2026-02-26T09:00:00Z',
    ]);
    expect(slots('cron(15 10 ? * 6L 2022-2023)', '2022-01-01T00:00:00Z', 1)).toEqual([
      '2022-01-28T10:15:00Z',
    ]);
    expect(slots('cron(0 9 ? * L *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-03T09:00:00Z']);
  });

  it('n#k is the kth such day; a month without a fifth one is skipped', () => {
    expect(slots('cron(0 10 ? * 6#3 *)', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-16T10:00:00Z',
      '2026-02-20T10:00:00Z',
    ]);
    expect(slots('cron(0 10 ? * 3#2 *)', '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-13T10:00:00Z']);
    // Fifth Fridays of 2026: 30 January, then none until 29 May.
    expect(slots('cron(0 10 ? * FRI#5 *)', '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-01-30T10:00:00Z',
      '2026-05-29T10:00:00Z',
    ]);
  });
});

describe('the year field', () => {
  it('yields slots only in the given years', () => {
    expect(slots('cron(0 9 1 1 ? 2027,2029)', '2026-01-01T00:00:00Z', 3)).toEqual([
      '2027-01-01T09:00:00Z',
      '2029-01-01T09:00:00Z',
    ]);
    expect(slots('cron(0 9 1 1 ? 2026/3)', '2026-06-01T00:00:00Z', 2)).toEqual([
      '2029-01-01T09:00:00Z',
      '2032-01-01T09:00:00Z',
    ]);
  });

  it('is read on the local calendar of the time zone', () => {
    expect(slots('cron(0 0 1 1 ? 2027)', '2026-06-01T00:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-12-31T23:00:00Z',
    ]);
  });

  it('has no next slot once its years are past, as an at() that has passed', () => {
    const schedule = parseSchedule('cron(15 10 ? * 6L 2022-2023)');
    const after = new Date('2026-01-01T00:00:00Z');
    expect(schedule.next(after)).toBeUndefined();
    expect(nextSlot(schedule, after)).toBeUndefined();
    expect(previewSlots(schedule, after, 5)).toEqual([]);
    const once = parseSchedule('at(2023-12-29T10:15:00)');
    expect(once.next(after)).toBeUndefined();
    expect(schedule.next(new Date('2023-12-01T00:00:00Z'))?.toISOString()).toBe('2023-12-29T10:15:00.000Z');
  });
});

describe('time zones and DST (same rules as the Unix form)', () => {
  const pairs: [string, string][] = [
    ['cron(30 2 * * ? *)', '30 2 * * *'],
    ['cron(0 * * * ? *)', '0 * * * *'],
    ['cron(0/30 1 * * ? *)', '*/30 1 * * *'],
    ['cron(0 9 ? * MON-FRI *)', '0 9 * * 1-5'],
  ];
  for (const zone of ['Europe/Berlin', 'America/New_York']) {
    for (const [eventBridge, unix] of pairs) {
      it(`${eventBridge} equals ${unix} in ${zone} across both 2026 changes`, () => {
        for (const [from, until] of [
          ['2026-03-06T00:00:00Z', '2026-03-31T00:00:00Z'],
          ['2026-10-23T00:00:00Z', '2026-11-03T00:00:00Z'],
        ] as const) {
          const a = parseSchedule(eventBridge, { timezone: zone });
          const b = parseSchedule(unix, { timezone: zone });
          const window = [new Date(from), new Date(until), 2000] as const;
          expect(slotsBetween(a, ...window)).toEqual(slotsBetween(b, ...window));
        }
      });
    }
  }

  it('Europe/Berlin: a skipped 02:30 runs at the transition, a repeated one once', () => {
    expect(slots('cron(30 2 * * ? *)', '2026-03-28T12:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-03-29T01:00:00Z',
      '2026-03-30T00:30:00Z',
    ]);
    expect(slots('cron(30 2 * * ? *)', '2026-10-24T12:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-10-25T00:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
    expect(slots('cron(0 * * * ? *)', '2026-10-24T23:30:00Z', 3, 'Europe/Berlin')).toEqual([
      '2026-10-25T00:00:00Z',
      '2026-10-25T01:00:00Z',
      '2026-10-25T02:00:00Z',
    ]);
    expect(slots('cron(0 9 ? * MON,FRI *)', '2026-03-26T00:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-03-27T08:00:00Z',
      '2026-03-30T07:00:00Z',
    ]);
  });

  it('W and LW keep their local time across a change', () => {
    // Berlin: Friday 27 February (CET), Tuesday 31 March (CEST).
    expect(slots('cron(0 9 LW * ? *)', '2026-02-01T00:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-02-27T08:00:00Z',
      '2026-03-31T07:00:00Z',
    ]);
    // New York: 1 March 2026 is a Sunday, so Monday the 2nd (EST); 1 April is a Wednesday (EDT).
    expect(slots('cron(0 9 1W * ? *)', '2026-02-15T00:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-02T14:00:00Z',
      '2026-04-01T13:00:00Z',
    ]);
  });

  it('America/New_York: weekdays keep 09:00 local across both changes; # and L in the zone', () => {
    expect(slots('cron(0 9 ? * MON-FRI *)', '2026-03-06T00:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-06T14:00:00Z',
      '2026-03-09T13:00:00Z',
    ]);
    expect(slots('cron(0 9 ? * MON-FRI *)', '2026-10-30T00:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-10-30T13:00:00Z',
      '2026-11-02T14:00:00Z',
    ]);
    // The second Sunday of March 2026 is the spring-forward day itself.
    expect(slots('cron(0 10 ? * 1#2 *)', '2026-03-01T00:00:00Z', 1, 'America/New_York')).toEqual([
      '2026-03-08T14:00:00Z',
    ]);
    expect(slots('cron(30 2 ? * SUN *)', '2026-03-07T00:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-08T07:00:00Z',
      '2026-03-15T06:30:00Z',
    ]);
    expect(slots('cron(0 23 L * ? *)', '2026-02-02T00:00:00Z', 2, 'America/New_York')).toEqual([
      '2026-03-01T04:00:00Z',
      '2026-04-01T03:00:00Z',
    ]);
  });
});

describe('descriptions', () => {
  it('reads day-of-week 1-7 from Sunday', () => {
    const text = (e: string, timezone = 'UTC') => describeSchedule(parseSchedule(e, { timezone }));
    expect(text('cron(0 9 ? * MON-FRI *)', 'Europe/Berlin')).toBe(
      'At 09:00 AM, Monday through Friday (Europe/Berlin)',
    );
    expect(text('cron(0 18 L * ? *)')).toBe('At 06:00 PM, on the last day of the month (UTC)');
    expect(text('cron(0 10 ? * 6#3 *)')).toBe('At 10:00 AM, on the third Friday of the month (UTC)');
    expect(text('cron(0 9 ? * 1 *)')).toBe('At 09:00 AM, only on Sunday (UTC)');
    expect(text('cron(0 9 ? * 2-6 *)')).toBe('At 09:00 AM, Monday through Friday (UTC)');
    expect(text('cron(15 10 ? * 6L 2022-2023)')).toBe(
      'At 10:15 AM, on the last Friday of the month, 2022 through 2023 (UTC)',
    );
    expect(text('cron(0 9 15W * ? *)')).toBe('At 09:00 AM, on the weekday nearest day 15 of the month (UTC)');
    expect(text('cron(0 9 LW * ? *)')).toBe('At 09:00 AM, on the last weekday of the month (UTC)');
    expect(text('cron(0 9 ? * MON-FRI)')).toBe('At 09:00 AM, Monday through Friday (UTC)');
    // The Unix form keeps 0 = Sunday.
    expect(text('0 9 * * 1')).toBe('At 09:00 AM, only on Monday (UTC)');
  });
});

describe('refusals', () => {
  const cases: [string, string, string][] = [
    [
      'cron(0 9 * * MON-FRI *)',
      'schedule',
      'one of day-of-month or day-of-week must be "?" in cron(...): write cron(0 9 ? * MON-FRI *) for weekdays or cron(0 9 1 * ? *) for the 1st; to run on days matching either field, write a Unix cron expression without cron(...), e.g. 0 9 1 * 1',
    ],
    [
      'cron(0 9 ? * ? *)',
      'schedule',
      'only one of day-of-month and day-of-week can be "?"; put "*" in the other (e.g. cron(0 9 ? * MON-FRI *) or cron(0 18 L * ? *))',
    ],
    [
      'cron(0 0 9 ? * MON *)',
      'schedule',
      'cron(...) takes 6 fields, minutes hours day-of-month month day-of-week year (e.g. cron(0 9 ? * MON-FRI *) or cron(0 18 L * ? *)); "cron(0 0 9 ? * MON *)" has 7, and EventBridge cron has no seconds field: drop the first one',
    ],
    [
      'cron(0 9 ?)',
      'schedule',
      'cron(...) takes 6 fields, minutes hours day-of-month month day-of-week year (e.g. cron(0 9 ? * MON-FRI *) or cron(0 18 L * ? *)); "cron(0 9 ?)" has 3',
    ],
    ['cron(? 9 * * ? *)', 'minute', '"?" is only allowed in day-of-month and day-of-week; use "*"'],
    ['cron(61 9 * * ? *)', 'minute', '61 is out of range 0-59'],
    ['cron(0 24 * * ? *)', 'hour', '24 is out of range 0-23'],
    [
      'cron(0/90 * * * ? *)',
      'minute',
      'step 90 in "0/90" is larger than the field\'s range 0-59; for longer intervals use rate(), e.g. rate(90 minutes)',
    ],
    ['cron(0/0 * * * ? *)', 'minute', 'step "0" in "0/0" must be a whole number of at least 1'],
    [
      'cron(0 9 1W,15W * ? *)',
      'dayOfMonth',
      '"1W,15W": W takes a single day, e.g. 15W, or LW; it cannot be part of a list',
    ],
    [
      'cron(0 9 1-5W * ? *)',
      'dayOfMonth',
      '"1-5W": W takes a single day, e.g. 15W (weekday nearest the 15th), or LW',
    ],
    ['cron(0 9 32W * ? *)', 'dayOfMonth', '32 is out of range 1-31'],
    [
      'cron(0 9 L-2 * ? *)',
      'dayOfMonth',
      '"L-2" (days before the last day) is not supported; use L for the last day, or LW for the last weekday',
    ],
    ['cron(0 9 0 * ? *)', 'dayOfMonth', '0 is out of range 1-31'],
    ['cron(0 9 ?,1 * ? *)', 'dayOfMonth', '"?,1": "?" stands alone in day-of-month'],
    ['cron(0 9 ? * ?,MON *)', 'dayOfWeek', '"?,MON": "?" stands alone in day-of-week'],
    ['cron(0 9 1 13 ? *)', 'month', '13 is out of range 1-12'],
    ['cron(0 9 1 JAM ? *)', 'month', '"JAM" is not a valid value: expected 1-12 or JAN-DEC * , - /'],
    [
      'cron(0 9 ? * 0 *)',
      'dayOfWeek',
      '0 is out of range 1-7: EventBridge counts day-of-week from 1 = Sunday to 7 = Saturday, so write 1 or SUN for Sunday',
    ],
    ['cron(0 9 ? * 8 *)', 'dayOfWeek', '8 is out of range 1-7'],
    [
      'cron(0 9 ? * 2W *)',
      'dayOfWeek',
      '"2W" is not a valid value: expected 1-7 or SUN-SAT * ? , - L # (1 = Sunday)',
    ],
    [
      'cron(0 9 ? * 9L *)',
      'dayOfWeek',
      '"9L": L after a day means its last one in the month, e.g. 5L (last Thursday); 9 is out of range 1-7',
    ],
    [
      'cron(0 9 ? * 3#1,6#3 *)',
      'dayOfWeek',
      '"3#1,6#3": # stands alone in day-of-week (one expression only), e.g. 3#2 for the second Tuesday',
    ],
    ['cron(0 9 ? * 6#6 *)', 'dayOfWeek', 'occurrence 6 in "6#6" is out of range 1-5'],
    ['cron(0 9 1 * ? 2200)', 'year', '2200 is out of range 1970-2199'],
    ['cron(0 9 1 * ? 1969)', 'year', '1969 is out of range 1970-2199'],
    ['cron(0 9 1 * ? 2030-2026)', 'year', 'range 2030-2026 is backwards: it must go from low to high'],
    [
      'cron(0 0 30 2 ? *)',
      'schedule',
      '"cron(0 0 30 2 ? *)" never fires: no date matches its day-of-month, month, day-of-week and year fields',
    ],
    [
      'cron(0 0 29 2 ? 2023)',
      'schedule',
      '"cron(0 0 29 2 ? 2023)" never fires: no date matches its day-of-month, month, day-of-week and year fields',
    ],
    [
      '0 9 ? * MON-FRI *',
      'schedule',
      '"0 9 ? * MON-FRI *" is in EventBridge\'s order (minutes hours day-of-month month day-of-week year); write it as cron(0 9 ? * MON-FRI *)',
    ],
  ];
  for (const [expression, field, message] of cases) {
    it(`${expression} → ${field}`, () => {
      expect(issuesOf(expression)).toEqual([{ field, message }]);
    });
  }

  it('reports every bad field at once', () => {
    expect(issuesOf('cron(61 25 ? * MON 1900)').map((i) => i.field)).toEqual(['minute', 'hour', 'year']);
  });

  it('applies the minimum interval', () => {
    expect(parseSchedule('cron(* * * * ? *)').kind).toBe('cron');
    expect(issuesOf('cron(* * * * ? *)', { minIntervalMs: 120_000 })).toEqual([
      {
        field: 'schedule',
        message: 'fires as often as every 1 min, more often than the minimum interval of 2 min',
      },
    ]);
  });
});

describe('rate(...) and at(...) as EventBridge writes them', () => {
  it('accepts the singular for 1 and the plural otherwise, and also the mismatch', () => {
    for (const [expression, ms] of [
      ['rate(1 minute)', 60_000],
      ['rate(5 minutes)', 300_000],
      ['rate(1 hour)', 3_600_000],
      ['rate(2 days)', 172_800_000],
      ['rate(1 minutes)', 60_000],
      ['rate(5 minute)', 300_000],
    ] as const) {
      const schedule = parseSchedule(expression);
      const first = schedule.next(new Date('2026-01-01T00:00:00Z'));
      const second = first && schedule.next(first);
      expect(second && first ? second.getTime() - first.getTime() : undefined).toBe(ms);
    }
  });

  it('aligns rate() slots to the Unix epoch, not to the creation time', () => {
    expect(slots('rate(5 minutes)', '2026-01-01T00:02:17Z', 2)).toEqual([
      '2026-01-01T00:05:00Z',
      '2026-01-01T00:10:00Z',
    ]);
    // 2026-01-01 is day 20 454 of the epoch, an even one.
    expect(slots('rate(2 days)', '2026-01-01T12:00:00Z', 1, 'Europe/Berlin')).toEqual([
      '2026-01-03T00:00:00Z',
    ]);
  });

  it('reads at() in the schedule time zone', () => {
    expect(slots('at(2026-03-29T09:00:00)', '2026-01-01T00:00:00Z', 2, 'Europe/Berlin')).toEqual([
      '2026-03-29T07:00:00Z',
    ]);
    expect(slots('at(2022-11-20T13:00:00)', '2022-01-01T00:00:00Z', 1, 'America/Los_Angeles')).toEqual([
      '2022-11-20T21:00:00Z',
    ]);
  });
});

// --- property: EventBridge and Unix forms of the same schedule give the same slots ----------------

/** [EventBridge, Unix] spellings of the same field. */
type Pair = readonly [string, string];

const MINUTES: Pair[] = [
  ['0', '0'],
  ['0/15', '*/15'],
  ['5,35', '5,35'],
  ['10-12', '10-12'],
  ['50-5', '50-59,0-5'],
];
const HOURS: Pair[] = [
  ['*', '*'],
  ['9', '9'],
  ['0/5', '*/5'],
  ['22-2', '22-23,0-2'],
  ['12-18/3', '12-18/3'],
];
const MONTHS: Pair[] = [
  ['*', '*'],
  ['FEB', 'feb'],
  ['JAN-MAR', 'jan-mar'],
  ['2,4,6', '2,4,6'],
  ['*/3', '*/3'],
  ['NOV-FEB', '11,12,1,2'],
];
const DAYS_OF_MONTH: Pair[] = [
  ['*', '*'],
  ['1', '1'],
  ['L', 'L'],
  ['15,L', '15,L'],
  ['1-7', '1-7'],
  ['29', '29'],
  ['31', '31'],
  ['28-3', '28-31,1-3'],
];
const DAYS_OF_WEEK: Pair[] = [
  ['MON-FRI', '1-5'],
  ['1', '0'],
  ['7', '6'],
  ['2-6', '1-5'],
  ['6L', '5L'],
  ['2#2', '1#2'],
  ['SUN#5', '0#5'],
  ['1,3,5', '0,2,4'],
  ['L', '6'],
  ['FRI-MON', '0,1,5,6'],
  ['*', '*'],
];

const pair = (values: Pair[]) => fc.constantFrom(...values);

/** One day field restricted, the other `?` (EventBridge) or `*` (Unix). */
const dayFields = fc.oneof(
  pair(DAYS_OF_MONTH).map(([eb, unix]) => ({ eb: `${eb} MONTH ?`, unix: `${unix} MONTH *` })),
  pair(DAYS_OF_WEEK).map(([eb, unix]) => ({ eb: `? MONTH ${eb}`, unix: `* MONTH ${unix}` })),
);

const equivalentExpressions = fc
  .tuple(pair(MINUTES), pair(HOURS), dayFields, pair(MONTHS))
  .map(([minute, hour, days, month]) => ({
    eventBridge: `cron(${minute[0]} ${hour[0]} ${days.eb.replace('MONTH', month[0])} *)`,
    unix: `${minute[1]} ${hour[1]} ${days.unix.replace('MONTH', month[1])}`,
  }));

describe('property', () => {
  it('an EventBridge expression and its Unix equivalent give the same slots, in any zone', () => {
    fc.assert(
      fc.property(
        equivalentExpressions,
        fc.constantFrom('UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata'),
        fc.integer({ min: Date.UTC(2000, 0, 1) / 60_000, max: Date.UTC(2037, 0, 1) / 60_000 }),
        ({ eventBridge, unix }, timezone, fromMinutes) => {
          const parse = (expression: string) => {
            try {
              return parseSchedule(expression, { timezone });
            } catch (error) {
              expect(error).toBeInstanceOf(ScheduleValidationError);
              return undefined;
            }
          };
          // Both refused (e.g. the 31st of February only) or both accepted.
          const a = parse(eventBridge);
          const b = parse(unix);
          expect(a === undefined).toBe(b === undefined);
          if (a === undefined || b === undefined) return;
          const from = new Date(fromMinutes * 60_000);
          const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
          expect(iso(previewSlots(a, from, 6))).toEqual(iso(previewSlots(b, from, 6)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
