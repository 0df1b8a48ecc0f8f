/**
 * Every row of the "Worked examples" table in docs/scheduling.md, in the same order.
 */
import { describe, expect, it } from 'vitest';
import { parseSchedule, slotsBetween } from '../../src/core/schedule.js';

interface Row {
  row: number;
  zone: string;
  expression: string;
  /** Slots strictly after `from`, up to and including `until`, must be exactly `slots`. */
  from: string;
  until: string;
  slots: string[];
}

const rows: Row[] = [
  {
    row: 1,
    zone: 'Europe/Berlin',
    expression: '30 2 * * *',
    from: '2026-03-28T12:00:00Z',
    until: '2026-03-29T12:00:00Z',
    slots: ['2026-03-29T01:00:00Z'],
  },
  {
    row: 2,
    zone: 'Europe/Berlin',
    expression: '0 * * * *',
    from: '2026-03-28T23:30:00Z',
    until: '2026-03-29T01:30:00Z',
    slots: ['2026-03-29T00:00:00Z', '2026-03-29T01:00:00Z'],
  },
  {
    row: 3,
    zone: 'Europe/Berlin',
    expression: '0,30 2 * * *',
    from: '2026-03-28T12:00:00Z',
    until: '2026-03-29T12:00:00Z',
    slots: ['2026-03-29T01:00:00Z'],
  },
  {
    row: 4,
    zone: 'Europe/Berlin',
    expression: '30 2 * * *',
    from: '2026-10-24T12:00:00Z',
    until: '2026-10-25T12:00:00Z',
    slots: ['2026-10-25T00:30:00Z'],
  },
  {
    row: 5,
    zone: 'Europe/Berlin',
    expression: '0 * * * *',
    from: '2026-10-24T23:30:00Z',
    until: '2026-10-25T02:00:00Z',
    slots: ['2026-10-25T00:00:00Z', '2026-10-25T01:00:00Z', '2026-10-25T02:00:00Z'],
  },
  {
    row: 6,
    zone: 'America/New_York',
    expression: '30 2 * * *',
    from: '2026-03-07T12:00:00Z',
    until: '2026-03-08T12:00:00Z',
    slots: ['2026-03-08T07:00:00Z'],
  },
  {
    row: 7,
    zone: 'America/New_York',
    expression: '30 1 * * *',
    from: '2026-10-31T12:00:00Z',
    until: '2026-11-01T12:00:00Z',
    slots: ['2026-11-01T05:30:00Z'],
  },
  {
    row: 8,
    zone: 'America/New_York',
    expression: '*/30 1 * * *',
    from: '2026-10-31T12:00:00Z',
    until: '2026-11-01T12:00:00Z',
    slots: ['2026-11-01T05:00:00Z', '2026-11-01T05:30:00Z', '2026-11-01T06:00:00Z', '2026-11-01T06:30:00Z'],
  },
  {
    row: 9,
    zone: 'Australia/Lord_Howe',
    expression: '15 2 * * *',
    from: '2026-10-03T00:00:00Z',
    until: '2026-10-04T00:00:00Z',
    slots: ['2026-10-03T15:30:00Z'],
  },
  {
    row: 10,
    zone: 'Australia/Lord_Howe',
    expression: '*/15 * * * *',
    from: '2026-10-03T15:00:00Z',
    until: '2026-10-03T15:45:00Z',
    slots: ['2026-10-03T15:15:00Z', '2026-10-03T15:30:00Z', '2026-10-03T15:45:00Z'],
  },
  {
    row: 11,
    zone: 'Australia/Lord_Howe',
    expression: '45 1 * * *',
    from: '2026-04-04T00:00:00Z',
    until: '2026-04-05T00:00:00Z',
    slots: ['2026-04-04T14:45:00Z'],
  },
  {
    row: 12,
    zone: 'Pacific/Apia',
    expression: '0 9 * * *',
    from: '2011-12-29T12:00:00Z',
    until: '2011-12-31T12:00:00Z',
    slots: ['2011-12-29T19:00:00Z', '2011-12-30T10:00:00Z', '2011-12-30T19:00:00Z'],
  },
  {
    row: 13,
    zone: 'Pacific/Apia',
    expression: '0 */6 * * *',
    from: '2011-12-29T21:00:00Z',
    until: '2011-12-30T16:00:00Z',
    slots: ['2011-12-29T22:00:00Z', '2011-12-30T04:00:00Z', '2011-12-30T10:00:00Z', '2011-12-30T16:00:00Z'],
  },
  {
    row: 14,
    zone: 'America/Sao_Paulo',
    expression: '0 0 * * *',
    from: '2018-11-03T12:00:00Z',
    until: '2018-11-04T12:00:00Z',
    slots: ['2018-11-04T03:00:00Z'],
  },
  {
    row: 15,
    zone: 'America/Sao_Paulo',
    expression: '30 23 * * *',
    from: '2019-02-16T12:00:00Z',
    until: '2019-02-17T12:00:00Z',
    slots: ['2019-02-17T01:30:00Z'],
  },
  {
    row: 16,
    zone: 'Africa/Cairo',
    expression: '30 0 * * *',
    from: '2026-04-23T12:00:00Z',
    until: '2026-04-24T12:00:00Z',
    slots: ['2026-04-23T22:00:00Z'],
  },
  {
    row: 17,
    zone: 'Africa/Cairo',
    expression: '30 23 * * *',
    from: '2026-10-29T12:00:00Z',
    until: '2026-10-30T12:00:00Z',
    slots: ['2026-10-29T20:30:00Z'],
  },
  {
    row: 18,
    zone: 'Europe/Berlin',
    expression: 'at(2026-03-29T02:30:00)',
    from: '2026-01-01T00:00:00Z',
    until: '2027-01-01T00:00:00Z',
    slots: ['2026-03-29T01:00:00Z'],
  },
  {
    row: 19,
    zone: 'Europe/London',
    expression: '30 1 * * *',
    from: '2026-10-24T12:00:00Z',
    until: '2026-10-25T12:00:00Z',
    slots: ['2026-10-25T00:30:00Z'],
  },
];

describe('DST worked examples (docs/scheduling.md)', () => {
  it.each(rows)('row $row: $expression in $zone', ({ zone, expression, from, until, slots }) => {
    const schedule = parseSchedule(expression, { timezone: zone });

    const actual = slotsBetween(schedule, new Date(from), new Date(until), 100);

    expect(actual.map((d) => d.toISOString())).toEqual(slots.map((s) => new Date(s).toISOString()));
  });

  it.each(rows)(
    'row $row: next() from inside the day agrees with the table',
    ({ zone, expression, from, slots }) => {
      // Calling next() from every slot (and a minute before it) walks the same list: the answer does
      // not depend on where the previous call stopped, which matters inside a repeated hour.
      const schedule = parseSchedule(expression, { timezone: zone });
      let cursor = new Date(from);
      for (const slot of slots) {
        const expected = new Date(slot);
        expect(schedule.next(new Date(expected.getTime() - 60_000))).toEqual(expected);
        expect(schedule.next(cursor)).toEqual(expected);
        cursor = expected;
      }
    },
  );

  it('a fixed-time slot already run in the first occurrence does not run again in the second', () => {
    const schedule = parseSchedule('30 2 * * *', { timezone: 'Europe/Berlin' });
    // 01:15Z is 02:15 CET, inside the second 02:00-03:00 of 2026-10-25; 02:30 ran at 00:30Z.
    expect(schedule.next(new Date('2026-10-25T01:15:00Z'))).toEqual(new Date('2026-10-26T01:30:00Z'));
  });

  it('a periodic slot in the second occurrence is found from inside the first', () => {
    const schedule = parseSchedule('*/15 2 * * *', { timezone: 'Europe/Berlin' });
    // 00:50Z is 02:50 CEST; the next wall-clock 02:xx match is 02:00 CET = 01:00Z.
    expect(schedule.next(new Date('2026-10-25T00:50:00Z'))).toEqual(new Date('2026-10-25T01:00:00Z'));
    // In the skipped hour of spring there is nothing: the next 02:00 is the following day.
    expect(schedule.next(new Date('2026-03-29T00:50:00Z'))).toEqual(new Date('2026-03-30T00:00:00Z'));
  });

  it('a slot at the transition time itself and one in the gap run once', () => {
    const schedule = parseSchedule('30 2,3 * * *', { timezone: 'Europe/Berlin' });
    // 02:30 (skipped) → 03:00 CEST = 01:00Z; 03:30 CEST = 01:30Z.
    expect(
      slotsBetween(schedule, new Date('2026-03-29T00:00:00Z'), new Date('2026-03-29T02:00:00Z'), 10).map(
        (d) => d.toISOString(),
      ),
    ).toEqual(['2026-03-29T01:00:00.000Z', '2026-03-29T01:30:00.000Z']);
    const withThree = parseSchedule('0 3 * * *', { timezone: 'Europe/Berlin' });
    const collapsed = parseSchedule('30 2 * * *', { timezone: 'Europe/Berlin' });
    expect(collapsed.next(new Date('2026-03-29T00:00:00Z'))).toEqual(
      withThree.next(new Date('2026-03-29T00:00:00Z')),
    );
  });

  it('Apia: a monthly slot on the skipped 30 December still runs, at the transition', () => {
    const schedule = parseSchedule('0 9 30 * *', { timezone: 'Pacific/Apia' });
    expect(schedule.next(new Date('2011-12-01T00:00:00Z'))).toEqual(new Date('2011-12-30T10:00:00Z'));
  });

  it('rate() ignores DST: real hours, on the UTC hour', () => {
    const schedule = parseSchedule('rate(1 hour)', { timezone: 'Europe/Berlin' });
    expect(
      slotsBetween(schedule, new Date('2026-10-24T23:30:00Z'), new Date('2026-10-25T02:00:00Z'), 10).map(
        (d) => d.toISOString(),
      ),
    ).toEqual(['2026-10-25T00:00:00.000Z', '2026-10-25T01:00:00.000Z', '2026-10-25T02:00:00.000Z']);
  });

  it('at() in a repeated hour runs at the first occurrence, and never again', () => {
    const schedule = parseSchedule('at(2026-10-25T02:30:00)', { timezone: 'Europe/Berlin' });
    expect(schedule.next(new Date('2026-10-25T00:00:00Z'))).toEqual(new Date('2026-10-25T00:30:00Z'));
    expect(schedule.next(new Date('2026-10-25T00:30:00Z'))).toBeUndefined();
    expect(schedule.next(new Date('2026-10-25T01:00:00Z'))).toBeUndefined();
  });
});
