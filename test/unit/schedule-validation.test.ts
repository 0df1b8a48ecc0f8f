import { describe, expect, it } from 'vitest';
import { ScheduleValidationError } from '../../src/core/errors.js';
import { assertTimeZone, parseSchedule } from '../../src/core/schedule.js';
import { issuesOf } from '../support/schedule.js';

describe('parseSchedule validation', () => {
  describe('cron field out of range, for every field', () => {
    it.each([
      ['61 * * * *', 'minute', '61 is out of range 0-59'],
      ['0 24 * * *', 'hour', '24 is out of range 0-23'],
      ['0 0 32 * *', 'dayOfMonth', '32 is out of range 1-31'],
      ['0 0 0 * *', 'dayOfMonth', '0 is out of range 1-31'],
      ['0 0 * 13 *', 'month', '13 is out of range 1-12'],
      ['0 0 * 0 *', 'month', '0 is out of range 1-12'],
      ['0 0 * * 8', 'dayOfWeek', '8 is out of range 0-7'],
      ['60 0 0 * * *', 'second', '60 is out of range 0-59'],
      ['0-60 * * * *', 'minute', '60 is out of range 0-59'],
      ['0 0 * * 1#6', 'dayOfWeek', 'occurrence "6" in "1#6" is out of range 1-5'],
    ])('%s → %s', (expression, field, message) => {
      const issues = issuesOf(expression, { minIntervalMs: 1000 });
      expect(issues[0]).toEqual({ field, message });
    });

    it('reports every bad field, and the error message joins them', () => {
      const error = (() => {
        try {
          parseSchedule('61 25 * * *');
        } catch (e) {
          return e as ScheduleValidationError;
        }
        throw new Error('expected a throw');
      })();
      expect(error.issues.map((i) => i.field)).toEqual(['minute', 'hour']);
      expect(error.message).toBe('minute: 61 is out of range 0-59; hour: 25 is out of range 0-23');
      expect(error.code).toBe('invalid_schedule');
    });
  });

  describe('cron field syntax', () => {
    it.each([
      ['30-10 * * * *', 'minute', 'range 30-10 is backwards: it must go from low to high'],
      ['*/0 * * * *', 'minute', 'step "0" in "*/0" must be a whole number of at least 1'],
      ['*/x * * * *', 'minute', 'step "x" in "*/x" must be a whole number of at least 1'],
      [
        '*/90 * * * *',
        'minute',
        expect.stringContaining('step 90 in "*/90" is larger than the field\'s range 0-59'),
      ],
      ['1,,2 * * * *', 'minute', '"1,,2" has an empty list item'],
      ['? * * * *', 'minute', '"?" is only allowed in dayOfMonth and dayOfWeek; use "*"'],
      ['H * * * *', 'minute', expect.stringContaining('"h" is not a valid value')],
      ['0 0 15W * *', 'dayOfMonth', expect.stringContaining('"15w" is not a valid value')],
      [
        '0 0 * foo *',
        'month',
        expect.stringContaining('"foo" is not a valid value: expected a number 1-12 or a name (jan-dec)'),
      ],
      ['0 0 * * 1#2,3', 'dayOfWeek', '"#" must stand alone in dayOfWeek, e.g. 1#2 (2nd Monday)'],
      ['0 0 * * fril', 'dayOfWeek', expect.stringContaining('"L" needs a weekday number')],
    ])('%s → %s', (expression, field, message) => {
      expect(issuesOf(expression)[0]).toEqual({ field, message });
    });
  });

  it('refuses a wrong number of fields', () => {
    expect(issuesOf('* * * *')[0]).toEqual({
      field: 'schedule',
      message:
        'expected 5 cron fields (minute hour dayOfMonth month dayOfWeek) or 6 (with a leading second), got 4',
    });
    expect(issuesOf('0 0 0 * * * 2026')[0]?.message).toContain('got 7');
  });

  it('refuses an empty expression and an unknown alias', () => {
    expect(issuesOf('   ')[0]).toEqual({
      field: 'schedule',
      message: 'is empty; expected a cron expression, rate(...) or at(...)',
    });
    expect(issuesOf('@often')[0]?.message).toContain('unknown shorthand "@often"');
    expect(issuesOf('every(5 minutes)')[0]?.message).toBe(
      'unknown schedule type "every(...)"; use a cron expression, cron(...) (EventBridge form), rate(...) or at(...)',
    );
  });

  it('refuses expressions over 256 characters', () => {
    const long = `0 ${Array.from({ length: 100 }, (_, i) => i % 24).join(',')} * * *`;
    expect(long.length).toBeGreaterThan(256);
    expect(issuesOf(long)[0]).toEqual({
      field: 'schedule',
      message: `is ${long.length} characters long; the limit is 256`,
    });
  });

  it.each(['0 0 30 2 *', '0 0 31 4,6,9,11 *', '0 0 31 2 ?'])('refuses %s: never fires', (expression) => {
    expect(issuesOf(expression)[0]).toEqual({
      field: 'schedule',
      message: `"${expression}" never fires: no date matches its day-of-month, month and day-of-week fields`,
    });
  });

  it('accepts rare but real dates', () => {
    expect(() => parseSchedule('0 0 29 2 *')).not.toThrow();
    const fifthMondayOfFebruary = parseSchedule('0 0 * 2 1#5');
    expect(fifthMondayOfFebruary.next(new Date('2017-01-01T00:00:00Z'))).toEqual(
      new Date('2044-02-29T00:00:00Z'),
    );
  });

  describe('time zone', () => {
    it('refuses an unknown zone', () => {
      expect(issuesOf('0 9 * * *', { timezone: 'Mars/Olympus' })[0]).toEqual({
        field: 'timezone',
        message: '"Mars/Olympus" is not a known IANA time zone, e.g. Europe/Berlin',
      });
    });

    it('refuses a UTC offset and an empty name', () => {
      expect(issuesOf('0 9 * * *', { timezone: '+02:00' })[0]).toEqual({
        field: 'timezone',
        message: '"+02:00" is a UTC offset, not an IANA time zone name; use e.g. Europe/Berlin or Etc/GMT-2',
      });
      expect(issuesOf('0 9 * * *', { timezone: '' })[0]?.field).toBe('timezone');
    });

    it('reports a bad expression and a bad zone together', () => {
      expect(issuesOf('61 * * * *', { timezone: 'Nowhere/Land' }).map((i) => i.field)).toEqual([
        'minute',
        'timezone',
      ]);
    });

    it('assertTimeZone throws with field timezone, and passes known zones', () => {
      expect(() => assertTimeZone('Europe/Berlin')).not.toThrow();
      expect(() => assertTimeZone('Asia/Kathmandu')).not.toThrow();
      expect(() => assertTimeZone('Not/AZone')).toThrow(ScheduleValidationError);
      try {
        assertTimeZone('Not/AZone');
      } catch (e) {
        expect((e as ScheduleValidationError).issues[0]?.field).toBe('timezone');
      }
    });

    it('normalises letter case but keeps a name ICU would rename', () => {
      expect(parseSchedule('0 9 * * *', { timezone: 'europe/berlin' }).timezone).toBe('Europe/Berlin');
      expect(parseSchedule('0 9 * * *', { timezone: 'Asia/Kolkata' }).timezone).toBe('Asia/Kolkata');
      expect(parseSchedule('0 9 * * *').timezone).toBe('UTC');
    });
  });

  describe('minimum interval', () => {
    it('allows every minute at the 60 s default', () => {
      expect(() => parseSchedule('* * * * *')).not.toThrow();
      expect(() => parseSchedule('0 * * * * *')).not.toThrow();
    });

    it('refuses a 6-field schedule firing twice a minute at the default', () => {
      expect(issuesOf('*/30 * * * * *')[0]).toEqual({
        field: 'schedule',
        message: 'fires as often as every 30 s, more often than the minimum interval of 1 min',
      });
      expect(issuesOf('0,30 0 * * * *')[0]?.message).toContain('every 30 s');
    });

    it('allows it with minIntervalMs 1000', () => {
      const s = parseSchedule('*/30 * * * * *', { minIntervalMs: 1000 });
      expect(s.next(new Date('2026-01-01T00:00:10Z'))).toEqual(new Date('2026-01-01T00:00:30Z'));
    });

    it('counts the gap over midnight when consecutive days fire', () => {
      expect(issuesOf('0 0,23 * * *', { minIntervalMs: 2 * 3_600_000 })[0]?.message).toBe(
        'fires as often as every 1 h, more often than the minimum interval of 2 h',
      );
      // Only on the 1st of the month: 23:00 and the next 00:00 are never on consecutive days.
      expect(() => parseSchedule('0 0,23 1 * *', { minIntervalMs: 2 * 3_600_000 })).not.toThrow();
    });

    it('refuses a rate below the minimum', () => {
      expect(issuesOf('rate(1 minute)', { minIntervalMs: 300_000 })[0]).toEqual({
        field: 'schedule',
        message: 'fires as often as every 1 min, more often than the minimum interval of 5 min',
      });
    });

    it('refuses a negative or non-finite minIntervalMs', () => {
      expect(issuesOf('0 9 * * *', { minIntervalMs: -1 })[0]?.field).toBe('minIntervalMs');
      expect(issuesOf('0 9 * * *', { minIntervalMs: Number.NaN })[0]?.field).toBe('minIntervalMs');
    });
  });

  describe('rate()', () => {
    it.each([
      ['rate(0 minutes)', 'rate() needs a whole number of at least 1, got "0"'],
      ['rate(-5 minutes)', 'rate() needs a whole number of at least 1, got "-5"'],
      ['rate(1.5 hours)', 'rate() needs a whole number of at least 1, got "1.5"'],
      ['rate(five minutes)', 'rate() needs a whole number of at least 1, got "five"'],
      ['rate(5 weeks)', 'rate() unit must be second(s), minute(s), hour(s) or day(s), got "weeks"'],
      ['rate(5 secs)', 'rate() unit must be second(s), minute(s), hour(s) or day(s), got "secs"'],
      [
        'rate(5)',
        '"rate(5)": expected rate(N unit) with N a whole number of at least 1 and unit second(s), minute(s), hour(s) or day(s), e.g. rate(5 minutes)',
      ],
      ['rate(4000 days)', 'rate() interval must be at most 3650 days'],
    ])('%s', (expression, message) => {
      expect(issuesOf(expression)[0]).toEqual({ field: 'schedule', message });
    });

    it.each(['rate(1 minute)', 'rate(1 minutes)', 'rate(5 minutes)', 'RATE(2 Hours)', 'rate( 1 day )'])(
      'accepts %s',
      (expression) => {
        expect(parseSchedule(expression).kind).toBe('rate');
      },
    );
  });

  describe('at()', () => {
    it.each([
      ['at(2026-03-29 09:00:00)'],
      ['at(2026-03-29T09:00)'],
      ['at(2026-3-29T09:00:00)'],
      ['at(tomorrow)'],
      ['at()'],
    ])('refuses the format of %s', (expression) => {
      const [issue] = issuesOf(expression);
      expect(issue?.field).toBe('schedule');
      expect(issue?.message).toContain(
        'expected at(YYYY-MM-DDTHH:mm:ss), a local date-time in the task time zone, e.g. at(2026-03-29T09:00:00)',
      );
    });

    it.each([
      ['at(2026-03-29T09:00:00Z)', 'Z'],
      ['at(2026-03-29T09:00:00+02:00)', '+02:00'],
      ['at(2026-03-29T09:00:00.000-0500)', '-0500'],
    ])('refuses %s: an offset', (expression, offset) => {
      expect(issuesOf(expression)[0]).toEqual({
        field: 'schedule',
        message: `at() takes a wall-clock time in the task's time zone without an offset; remove "${offset}" and set timezone instead`,
      });
    });

    it.each(['2026-02-30T09:00:00', '2026-13-01T09:00:00', '2026-01-01T24:00:00', '2026-01-01T09:60:00'])(
      'refuses the impossible date-time %s',
      (wall) => {
        expect(issuesOf(`at(${wall})`)[0]).toEqual({
          field: 'schedule',
          message: `"${wall}" is not a real date-time`,
        });
      },
    );
  });
});
