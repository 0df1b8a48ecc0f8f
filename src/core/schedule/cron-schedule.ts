/**
 * Cron slots in a time zone.
 *
 * Two steps. First, {@link nextWallTime} walks *wall times* (local dates and times, with no zone)
 * that match the fields; on that naive calendar cron is unambiguous. Second, each wall time is
 * placed on the real timeline by the zone's offsets, with the DST rules of docs/scheduling.md:
 *
 * ```
 *                      fixed-time (`30 2 * * *`)        periodic (`0 * * * *`, `*\/15 2 * * *`)
 * normal wall time     its one instant                  its one instant
 * repeated (fall-back) the first occurrence only        both occurrences (two real instants)
 * skipped (spring-fwd) the transition instant, once     no slot
 * ```
 *
 * cron-parser's own tz mode is not used for slots: it moves a skipped 02:30 to 03:30 instead of
 * the transition, loses slots in 30-minute gaps (Australia/Lord_Howe) and drops the whole skipped
 * day in Pacific/Apia. Its parser still expands the fields.
 */
import { type CronFields, FIRST_YEAR, LAST_YEAR } from './cron-fields.js';
import { DAY_MS, SECOND_MS, type ZoneTable } from './time-zone.js';

/** Wall times further than this past the search start are not looked at (one Gregorian cycle). */
const MAX_SEARCH_MS = 401 * 365.25 * DAY_MS;
/** Latest millisecond a `Date` can hold. */
const MAX_TIME_MS = 8.64e15;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** First value of a sorted list that is >= `from`, or undefined. */
function firstAtOrAfter(values: readonly number[], from: number): number | undefined {
  for (const v of values) if (v >= from) return v;
  return undefined;
}

/** Day of the week (0 = Sunday) of a calendar date. */
function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay();
}

/**
 * The day `nW` stands for: the weekday (Monday-Friday) nearest day `n` of the month, never
 * crossing into another month (`1W` on a Saturday is Monday the 3rd); undefined when the month
 * is shorter than `n`.
 */
export function nearestWeekdayDay(year: number, month: number, n: number): number | undefined {
  const length = daysInMonth(year, month);
  if (n > length) return undefined;
  const weekday = weekdayOf(year, month, n);
  if (weekday === 6) return n === 1 ? 3 : n - 1;
  if (weekday === 0) return n === length ? n - 2 : n + 1;
  return n;
}

/** The day `LW` stands for: the last Monday-Friday of the month. */
export function lastWeekdayDay(year: number, month: number): number {
  const length = daysInMonth(year, month);
  const weekday = weekdayOf(year, month, length);
  return weekday === 6 ? length - 1 : weekday === 0 ? length - 2 : length;
}

/** Whether the year field (EventBridge form) allows `year`. */
function yearMatches(fields: CronFields, year: number): boolean {
  return fields.years === undefined || fields.years[year - FIRST_YEAR] === true;
}

/** First year >= `year` the year field allows, or undefined. */
function nextAllowedYear(fields: CronFields, year: number): number | undefined {
  if (fields.years === undefined) return year;
  for (let y = Math.max(year, FIRST_YEAR); y <= LAST_YEAR; y++) if (fields.years[y - FIRST_YEAR]) return y;
  return undefined;
}

function dayOfMonthMatches(fields: CronFields, year: number, month: number, day: number): boolean {
  if (fields.daysOfMonth[day] === true) return true;
  if (fields.lastDayOfMonth && day === daysInMonth(year, month)) return true;
  if (fields.nearestWeekday > 0 && day === nearestWeekdayDay(year, month, fields.nearestWeekday)) return true;
  return fields.lastWeekdayOfMonth && day === lastWeekdayDay(year, month);
}

/** Whether the calendar day matches the day fields (vixie-cron OR rule, as cron-parser). */
export function dayMatches(fields: CronFields, year: number, month: number, day: number): boolean {
  if (!fields.months[month] || !yearMatches(fields, year)) return false;
  const length = daysInMonth(year, month);
  const weekday = weekdayOf(year, month, day);
  const dowMatch =
    (fields.daysOfWeek[weekday] === true &&
      (fields.nthWeekday <= 0 || Math.ceil(day / 7) === fields.nthWeekday)) ||
    (fields.lastWeekdaysOfMonth[weekday] === true && day + 7 > length);
  if (fields.dayOfMonthWildcard) return fields.dayOfWeekWildcard ? true : dowMatch;
  const domMatch = dayOfMonthMatches(fields, year, month, day);
  if (fields.dayOfWeekWildcard) return domMatch;
  return domMatch || dowMatch;
}

/** First time of day at or after h:m:s (as seconds since midnight), or undefined. */
function timeOfDayAtOrAfter(fields: CronFields, h: number, m: number, s: number): number | undefined {
  for (const hour of fields.hours) {
    if (hour < h) continue;
    const fromMinute = hour === h ? m : 0;
    for (const minute of fields.minutes) {
      if (minute < fromMinute) continue;
      const second = firstAtOrAfter(fields.seconds, hour === h && minute === m ? s : 0);
      if (second !== undefined) return hour * 3600 + minute * 60 + second;
    }
  }
  return undefined;
}

/**
 * First wall time (naive epoch ms, whole seconds) at or after `from` that matches the fields,
 * searching up to `limit`; undefined when there is none.
 */
export function nextWallTime(
  fields: CronFields,
  from: number,
  limit = from + MAX_SEARCH_MS,
): number | undefined {
  const start = Math.ceil(from / SECOND_MS) * SECOND_MS;
  const d = new Date(start);
  let year = d.getUTCFullYear();
  let month = d.getUTCMonth() + 1;
  let day = d.getUTCDate();
  let h = d.getUTCHours();
  let m = d.getUTCMinutes();
  let s = d.getUTCSeconds();
  const end = Math.min(limit, MAX_TIME_MS);
  while (Date.UTC(year, month - 1, day) <= end) {
    if (!yearMatches(fields, year)) {
      // Whole year out (EventBridge year field): jump to 1 January of the next allowed one.
      const next = nextAllowedYear(fields, year + 1);
      if (next === undefined) return undefined;
      year = next;
      month = day = 1;
      h = m = s = 0;
      continue;
    }
    if (!fields.months[month]) {
      // Whole month out: jump to the 1st of the next one.
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
      day = 1;
      h = m = s = 0;
      continue;
    }
    if (dayMatches(fields, year, month, day)) {
      const tod = timeOfDayAtOrAfter(fields, h, m, s);
      if (tod !== undefined) {
        const wall = Date.UTC(year, month - 1, day) + tod * SECOND_MS;
        return wall <= end ? wall : undefined;
      }
    }
    day += 1;
    if (day > daysInMonth(year, month)) {
      day = 1;
      month += 1;
      if (month > 12) {
        month = 1;
        year += 1;
      }
    }
    h = m = s = 0;
  }
  return undefined;
}

/** Real instants of one wall-time slot, ascending, per the DST rules in the header. */
export function slotInstants(fields: CronFields, zone: ZoneTable, wall: number): readonly number[] {
  const r = zone.resolve(wall);
  switch (r.kind) {
    case 'single':
      return [r.instant];
    case 'repeated':
      return fields.fixedTime ? [r.first] : [r.first, r.second];
    case 'skipped':
      return fields.fixedTime ? [r.transition] : [];
  }
}

/**
 * First slot instant strictly after `after` (epoch ms), or undefined.
 *
 * Wall times only run backwards at a fall-back, so slots after `after` have wall times from
 * `wallTimeAt(after)` on, except inside a repeated or skipped interval of a transition between
 * `after` and the answer; the loop widens the search to those and searches again.
 */
export function nextCronInstant(fields: CronFields, zone: ZoneTable, after: number): number | undefined {
  let lower = zone.wallTimeAt(after);
  for (;;) {
    const best = scan(fields, zone, after, lower);
    if (best === undefined) return undefined;
    let widened = lower;
    for (const t of zone.transitionsIn(after, best)) {
      widened = Math.min(widened, t.at + Math.min(t.offsetBeforeMs, t.offsetAfterMs));
    }
    if (widened >= lower) return best;
    lower = widened;
  }
}

/**
 * Earliest instant after `after` among slots with wall time >= `lower`. Walks wall times upward
 * and stops once a wall time is too late to map before the best instant so far: an instant `t`
 * of wall time `w` has `w <= t + offset(t)`, so `w > best + max offset in (after, best]` cannot
 * beat `best`.
 */
function scan(fields: CronFields, zone: ZoneTable, after: number, lower: number): number | undefined {
  let best: number | undefined;
  let maxOffset = zone.offsetAt(after);
  const limit = lower + MAX_SEARCH_MS;
  let wall = nextWallTime(fields, lower, limit);
  while (wall !== undefined) {
    if (best !== undefined && wall > best + maxOffset) break;
    for (const instant of slotInstants(fields, zone, wall)) {
      if (instant <= after) continue;
      if (best === undefined || instant < best) {
        best = instant;
        maxOffset = zone.offsetAt(after);
        for (const t of zone.transitionsIn(after, best)) maxOffset = Math.max(maxOffset, t.offsetAfterMs);
      }
      break;
    }
    wall = nextWallTime(fields, wall + SECOND_MS, limit);
  }
  return best;
}
