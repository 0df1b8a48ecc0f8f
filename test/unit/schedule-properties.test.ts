/**
 * Property tests of the schedule core against the semantics in docs/scheduling.md, in 23 zones
 * over 2000-2037. The oracle reads local times with its own Intl formatter and walks real time
 * minute by minute; it shares nothing with the implementation but the transition list used to
 * pick interesting start points.
 */
import { CronExpressionParser } from 'cron-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScheduleValidationError } from '../../src/core/errors.js';
import { parseCronFields } from '../../src/core/schedule/cron-fields.js';
import { nextWallTime } from '../../src/core/schedule/cron-schedule.js';
import { zoneTable } from '../../src/core/schedule/time-zone.js';
import { parseSchedule, previewSlots, type Schedule, slotsBetween } from '../../src/core/schedule.js';

const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'America/Sao_Paulo',
  'Africa/Cairo',
  'Australia/Lord_Howe',
  'Pacific/Apia',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Chatham',
  'Europe/London',
  'America/Santiago',
  'Asia/Tehran',
  'Australia/Sydney',
  'America/Havana',
  'Europe/Dublin',
  'UTC',
  'Asia/Tokyo',
  'America/Los_Angeles',
  'Pacific/Auckland',
  'Africa/Casablanca',
  'Europe/Moscow',
  'Asia/Pyongyang',
] as const;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const FROM_2000 = Date.UTC(2000, 0, 1);
const TO_2038 = Date.UTC(2038, 0, 1);

// --- the oracle's own view of local time --------------------------------------------------------

interface Local {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function localOf(timeZone: string, instant: number): Local {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(instant).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS.indexOf(parts.weekday ?? ''),
  };
}

/** A local date-time as naive epoch ms, to compare and step wall-clock times. */
function wallOf(local: Local): number {
  return Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second);
}

function localOfWall(wall: number): Local {
  const d = new Date(wall);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

// --- generated expressions ------------------------------------------------------------------------

/** A generated cron expression with the value sets the oracle matches against. */
interface Spec {
  text: string;
  seconds: number[];
  minutes: number[];
  hours: number[];
  dom: number[] | '*';
  months: number[] | '*';
  dow: number[] | '*';
  fixedTime: boolean;
}

const sortedUnique = (values: number[]) => [...new Set(values)].sort((a, b) => a - b);
const stepped = (min: number, max: number, step: number) => {
  const out: number[] = [];
  for (let v = min; v <= max; v += step) out.push(v);
  return out;
};

const minuteShape = fc.oneof(
  fc.record({
    kind: fc.constant('list' as const),
    values: fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('step' as const), step: fc.constantFrom(1, 5, 10, 15, 20, 30) }),
);
/** Hours are relative to a center hour, so fixed times land near the DST change under test. */
const hourShape = fc.oneof(
  fc.record({
    kind: fc.constant('near' as const),
    deltas: fc.uniqueArray(fc.integer({ min: -2, max: 2 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    kind: fc.constant('range' as const),
    from: fc.integer({ min: -2, max: 0 }),
    length: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    kind: fc.constant('list' as const),
    values: fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('step' as const), step: fc.constantFrom(1, 2, 3, 4, 6) }),
);
const daysShape = fc.record({
  dom: fc.oneof(
    { weight: 4, arbitrary: fc.constant('*' as const) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.integer({ min: 1, max: 31 }), { minLength: 1, maxLength: 4 }) },
  ),
  months: fc.oneof(
    { weight: 5, arbitrary: fc.constant('*' as const) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { minLength: 2, maxLength: 6 }) },
  ),
  dow: fc.oneof(
    { weight: 4, arbitrary: fc.constant('*' as const) },
    { weight: 1, arbitrary: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 5 }) },
  ),
});
const secondsShape = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.uniqueArray(fc.integer({ min: 0, max: 59 }), { minLength: 1, maxLength: 3 }) },
);
const shapes = fc.record({ minute: minuteShape, hour: hourShape, days: daysShape, seconds: secondsShape });
type Shape = typeof shapes extends fc.Arbitrary<infer T> ? T : never;

function specOf(shape: Shape, centerHour: number, withSeconds: boolean): Spec {
  const field = (values: number[] | '*') => (values === '*' ? '*' : sortedUnique(values).join(','));
  let minutes: number[];
  let minuteText: string;
  if (shape.minute.kind === 'list') {
    minutes = sortedUnique(shape.minute.values);
    minuteText = minutes.join(',');
  } else {
    minutes = stepped(0, 59, shape.minute.step);
    minuteText = shape.minute.step === 1 ? '*' : `*/${shape.minute.step}`;
  }
  let hours: number[];
  let hourText: string;
  switch (shape.hour.kind) {
    case 'near':
      hours = sortedUnique(shape.hour.deltas.map((d) => (centerHour + d + 24) % 24));
      hourText = hours.join(',');
      break;
    case 'range': {
      const a = Math.max(0, Math.min(23, centerHour + shape.hour.from));
      const b = Math.min(23, a + shape.hour.length);
      hours = stepped(a, b, 1);
      hourText = `${a}-${b}`;
      break;
    }
    case 'list':
      hours = sortedUnique(shape.hour.values);
      hourText = hours.join(',');
      break;
    case 'step':
      hours = stepped(0, 23, shape.hour.step);
      hourText = shape.hour.step === 1 ? '*' : `*/${shape.hour.step}`;
      break;
  }
  const seconds = withSeconds && shape.seconds !== undefined ? sortedUnique(shape.seconds) : [0];
  const { dom, months, dow } = shape.days;
  const five = `${minuteText} ${hourText} ${field(dom)} ${field(months)} ${field(dow)}`;
  return {
    text: withSeconds && shape.seconds !== undefined ? `${seconds.join(',')} ${five}` : five,
    seconds,
    minutes,
    hours,
    dom: dom === '*' ? '*' : sortedUnique(dom),
    months: months === '*' ? '*' : sortedUnique(months),
    dow: dow === '*' ? '*' : sortedUnique(dow),
    fixedTime: shape.minute.kind === 'list' && shape.hour.kind !== 'step',
  };
}

/** The oracle's cron match (vixie OR rule when both day fields are restricted). */
function dayMatches(spec: Spec, local: Local): boolean {
  if (spec.months !== '*' && !spec.months.includes(local.month)) return false;
  const domOk = spec.dom === '*' || spec.dom.includes(local.day);
  const dowOk = spec.dow === '*' || spec.dow.includes(local.weekday);
  if (spec.dom !== '*' && spec.dow !== '*') return domOk || dowOk;
  return domOk && dowOk;
}
function minuteMatches(spec: Spec, local: Local): boolean {
  return dayMatches(spec, local) && spec.hours.includes(local.hour) && spec.minutes.includes(local.minute);
}
function matches(spec: Spec, local: Local): boolean {
  return minuteMatches(spec, local) && spec.seconds.includes(local.second);
}

/** Parses, or undefined for the (rare) generated expressions that never fire. */
function tryParse(spec: Spec, timezone: string): Schedule | undefined {
  try {
    return parseSchedule(spec.text, { timezone, minIntervalMs: 1000 });
  } catch (error) {
    if (error instanceof ScheduleValidationError && error.issues[0]?.message.includes('never fires'))
      return undefined;
    throw error;
  }
}

/** Whether a fixed-time slot may sit at `instant` because a matching wall time was skipped just before. */
function isTransitionSlot(spec: Spec, timezone: string, instant: number): boolean {
  const before = wallOf(localOf(timezone, instant - 1000));
  const at = wallOf(localOf(timezone, instant));
  if (at - before <= 1000) return false;
  for (let wall = Math.ceil((before + 1000) / MINUTE) * MINUTE; wall < at; wall += MINUTE) {
    if (minuteMatches(spec, localOfWall(wall))) return true;
  }
  return false;
}

// --- start points ------------------------------------------------------------------------------------

const transitionsByZone = new Map<string, number[]>();
function transitionsOf(zone: string): number[] {
  let list = transitionsByZone.get(zone);
  if (list === undefined) {
    list = zoneTable(zone)
      .transitionsIn(FROM_2000, TO_2038)
      .map((t) => t.at);
    transitionsByZone.set(zone, list);
  }
  return list;
}

/** Half the time a random offset transition of the zone, else a random minute in 2000-2037. */
const centers = fc.record({
  zone: fc.constantFrom(...ZONES),
  nearTransition: fc.boolean(),
  pick: fc.nat(),
  minute: fc.integer({ min: FROM_2000 / MINUTE, max: TO_2038 / MINUTE - 1 }),
});

function centerOf(c: { zone: string; nearTransition: boolean; pick: number; minute: number }): number {
  const transitions = transitionsOf(c.zone);
  if (c.nearTransition && transitions.length > 0) return transitions[c.pick % transitions.length] as number;
  return c.minute * MINUTE;
}

/**
 * The exact expected slots of a 5-field spec in `(start, end]`, by walking real minutes from three
 * hours earlier (repeated intervals are shorter than that, so "first occurrence" is well defined).
 */
function expectedSlots(spec: Spec, timezone: string, start: number, end: number): number[] {
  const slots = new Set<number>();
  const seen = new Set<number>();
  let previousWall: number | undefined;
  for (let t = start - 3 * HOUR; t <= end; t += MINUTE) {
    const local = localOf(timezone, t);
    const wall = wallOf(local);
    if (spec.fixedTime && previousWall !== undefined && wall - previousWall > MINUTE) {
      for (let skipped = previousWall + MINUTE; skipped < wall; skipped += MINUTE) {
        if (matches(spec, localOfWall(skipped))) {
          slots.add(t);
          break;
        }
      }
    }
    if (matches(spec, local) && (!spec.fixedTime || !seen.has(wall))) slots.add(t);
    seen.add(wall);
    previousWall = wall;
  }
  return [...slots].filter((s) => s > start && s <= end).sort((a, b) => a - b);
}

// --- properties --------------------------------------------------------------------------------------

describe('schedule properties', () => {
  it('slots equal a minute-by-minute oracle around DST changes, in 23 zones (2000-2037)', () => {
    fc.assert(
      fc.property(
        centers,
        shapes,
        fc.integer({ min: -180, max: 0 }),
        fc.array(fc.integer({ min: 0, max: 6 * HOUR - 1 }), { minLength: 3, maxLength: 3 }),
        (c, shape, shiftMinutes, probes) => {
          const center = centerOf(c);
          const spec = specOf(shape, localOf(c.zone, center).hour, false);
          const schedule = tryParse(spec, c.zone);
          fc.pre(schedule !== undefined);
          if (schedule === undefined) return;
          const start = center + shiftMinutes * MINUTE;
          const end = start + 6 * HOUR;

          const expected = expectedSlots(spec, c.zone, start, end);
          const actual = slotsBetween(schedule, new Date(start), new Date(end), 1000).map((d) => d.getTime());

          expect(actual.map((t) => new Date(t).toISOString())).toEqual(
            expected.map((t) => new Date(t).toISOString()),
          );
          // next() from any instant, not only from slots, agrees with the oracle.
          for (const probe of probes) {
            const after = start + probe + 0.5;
            const want = expected.find((t) => t > after);
            if (want !== undefined) expect(schedule.next(new Date(Math.floor(after)))?.getTime()).toBe(want);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('Pacific/Apia skipped day and Australia/Lord_Howe 30-minute shifts match the oracle', () => {
    const cases = [
      { zone: 'Pacific/Apia', at: Date.UTC(2011, 11, 30, 10) },
      { zone: 'Australia/Lord_Howe', at: Date.UTC(2026, 9, 3, 15, 30) },
      { zone: 'Australia/Lord_Howe', at: Date.UTC(2026, 3, 4, 15) },
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        shapes,
        fc.integer({ min: -300, max: 60 }),
        (c, shape, shiftMinutes) => {
          const spec = specOf(shape, localOf(c.zone, c.at - 1).hour, false);
          const schedule = tryParse(spec, c.zone);
          fc.pre(schedule !== undefined);
          if (schedule === undefined) return;
          const start = c.at + shiftMinutes * MINUTE;
          const end = start + 6 * HOUR;
          const actual = slotsBetween(schedule, new Date(start), new Date(end), 1000).map((d) => d.getTime());
          expect(actual).toEqual(expectedSlots(spec, c.zone, start, end));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('over long runs, slots increase, never repeat and match local time or a documented transition', () => {
    fc.assert(
      fc.property(centers, shapes, fc.integer({ min: 0, max: 23 }), (c, shape, centerHour) => {
        const spec = specOf(shape, centerHour, true);
        const schedule = tryParse(spec, c.zone);
        fc.pre(schedule !== undefined);
        if (schedule === undefined) return;
        const from = centerOf(c) - 2 * HOUR;

        const slots = previewSlots(schedule, new Date(from), 40).map((d) => d.getTime());

        expect(slots.length).toBeGreaterThan(0);
        const walls = new Set<number>();
        let previous = from;
        for (const slot of slots) {
          expect(slot).toBeGreaterThan(previous);
          previous = slot;
          const local = localOf(c.zone, slot);
          const wall = wallOf(local);
          if (matches(spec, local)) {
            if (spec.fixedTime) {
              // The first occurrence: the same wall time did not show 30 or 60 minutes earlier.
              expect(wallOf(localOf(c.zone, slot - 30 * MINUTE))).not.toBe(wall);
              expect(wallOf(localOf(c.zone, slot - HOUR))).not.toBe(wall);
              expect(walls.has(wall)).toBe(false);
            }
          } else {
            expect(spec.fixedTime).toBe(true);
            expect(isTransitionSlot(spec, c.zone, slot)).toBe(true);
          }
          walls.add(wall);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('on the plain calendar, wall times equal cron-parser in UTC (names, L, #, steps, seconds)', () => {
    const token = (values: string[]) => fc.constantFrom(...values);
    const expressions = fc
      .tuple(
        token(['0', '*/20', '5,35', '10-12']),
        token(['0', '*/7', '15,45', '*']),
        token(['*', '9', '*/5', '0-3,22', '12-18/3']),
        token(['*', '?', '1', 'L', '15,L', '1-7', '29', '31', '*/10']),
        token(['*', 'feb', 'jan-mar', '2,4,6', '*/3', 'dec']),
        token(['*', '?', 'mon-fri', '0', '7', '5L', '1#2', 'sun#5', '1,3,5', '6-7']),
      )
      .map((fields) => fields.join(' '));
    fc.assert(
      fc.property(
        expressions,
        fc.integer({ min: FROM_2000 / 1000, max: TO_2038 / 1000 }),
        (expression, fromSeconds) => {
          const parsed = parseCronFields(expression);
          let expected: string[];
          try {
            expected = CronExpressionParser.parse(expression, {
              tz: 'UTC',
              currentDate: new Date(fromSeconds * 1000),
            })
              .take(8)
              .map((d) => d.toISOString() ?? '');
          } catch {
            expect(parsed.ok).toBe(false);
            return;
          }
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          const actual: string[] = [];
          let cursor = fromSeconds * 1000 + 1000;
          while (actual.length < expected.length) {
            const wall = nextWallTime(parsed.fields, cursor);
            if (wall === undefined) break;
            actual.push(new Date(wall).toISOString());
            cursor = wall + 1000;
          }
          expect(actual).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  });
});
