/**
 * Time-zone arithmetic on top of `Intl.DateTimeFormat`: UTC offsets, offset transitions (DST and
 * rule changes) and the instants at which a local wall-clock time occurs.
 *
 * "Wall time" below is a local date and time written as epoch milliseconds *as if it were UTC*
 * (`Date.UTC(y, m - 1, d, h, min, s)`); it is never an instant. An instant `t` shows wall time
 * `t + offsetAt(t)`.
 *
 * Offsets come from Intl, so from the tz database Node was built with. Each UTC year is sampled
 * once a day and every change is bisected to the second, then cached per zone. Daily sampling
 * is exact as long as two transitions are at least a day apart; across all zones from 1970 to
 * 2040 the closest pair is 7 days apart (America/Boa_Vista, 2000).
 */
import { ScheduleValidationError } from '../errors.js';

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** One change of a zone's UTC offset. */
export interface OffsetTransition {
  /** First instant (epoch ms) of the new offset. */
  readonly at: number;
  readonly offsetBeforeMs: number;
  readonly offsetAfterMs: number;
}

/** Where a wall time falls: at one instant, at two (repeated by a fall-back), or in a gap. */
export type WallTimeResolution =
  | { readonly kind: 'single'; readonly instant: number }
  | { readonly kind: 'repeated'; readonly first: number; readonly second: number }
  /** Skipped by a spring-forward; `transition` is the first instant after the gap. */
  | { readonly kind: 'skipped'; readonly transition: number };

interface YearTable {
  readonly startOffsetMs: number;
  readonly transitions: readonly OffsetTransition[];
}

const FORMAT_PATTERN = /^(\d+)\/(\d+)\/(\d+),? (\d+):(\d+):(\d+)/;

/** Offsets and transitions of one IANA zone, computed lazily and cached per UTC year. */
export class ZoneTable {
  readonly timeZone: string;
  readonly #format: Intl.DateTimeFormat;
  readonly #years = new Map<number, YearTable>();

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    this.#format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** UTC offset in effect at `instant` (epoch ms), in ms (positive east of Greenwich). */
  offsetAt(instant: number): number {
    const table = this.#year(new Date(instant).getUTCFullYear());
    let offset = table.startOffsetMs;
    for (const t of table.transitions) {
      if (t.at > instant) break;
      offset = t.offsetAfterMs;
    }
    return offset;
  }

  /** Transitions with `from < at <= to`, in order. */
  transitionsIn(from: number, to: number): OffsetTransition[] {
    const out: OffsetTransition[] = [];
    if (!(to > from)) return out;
    const lastYear = new Date(to).getUTCFullYear();
    for (let year = new Date(from).getUTCFullYear(); year <= lastYear; year++) {
      for (const t of this.#year(year).transitions) {
        if (t.at > from && t.at <= to) out.push(t);
      }
    }
    return out;
  }

  /** The wall time shown at `instant`. */
  wallTimeAt(instant: number): number {
    return instant + this.offsetAt(instant);
  }

  /**
   * The instants showing wall time `wall`. Offsets stay within a day of UTC, so only transitions
   * in the two days around `wall` matter, and at most one of them lies there (see the header).
   */
  resolve(wall: number): WallTimeResolution {
    const from = wall - DAY_MS;
    const near = this.transitionsIn(from, wall + DAY_MS);
    let offset = this.offsetAt(from);
    if (near.length === 0) return { kind: 'single', instant: wall - offset };
    const instants: number[] = [];
    let segmentStart = Number.NEGATIVE_INFINITY;
    for (let i = 0; i <= near.length; i++) {
      const segmentEnd = near[i]?.at ?? Number.POSITIVE_INFINITY;
      const candidate = wall - offset;
      if (candidate >= segmentStart && candidate < segmentEnd) instants.push(candidate);
      const next = near[i];
      if (next === undefined) break;
      segmentStart = next.at;
      offset = next.offsetAfterMs;
    }
    const [first, second] = instants;
    if (first !== undefined && second !== undefined) return { kind: 'repeated', first, second };
    if (first !== undefined) return { kind: 'single', instant: first };
    const gap = near.find((t) => wall >= t.at + t.offsetBeforeMs && wall < t.at + t.offsetAfterMs);
    // Unreachable with real tz data; resolving with the earlier offset keeps the function total.
    return { kind: 'skipped', transition: gap?.at ?? wall - this.offsetAt(from) };
  }

  /** Offset straight from Intl, to the second. */
  #intlOffset(instant: number): number {
    const m = FORMAT_PATTERN.exec(this.#format.format(instant));
    if (m === null) throw new RangeError(`cannot read the time in ${this.timeZone} at ${instant}`);
    const [month = 0, day = 0, year = 0, hour = 0, minute = 0, second = 0] = m.slice(1).map(Number);
    const wall = Date.UTC(year, month - 1, day, hour, minute, second);
    // Date.UTC maps years 0-99 to 1900-1999; fix those up so far-past instants stay exact.
    const fixed = year < 100 ? new Date(wall).setUTCFullYear(year) : wall;
    return fixed - Math.floor(instant / SECOND_MS) * SECOND_MS;
  }

  #year(year: number): YearTable {
    const cached = this.#years.get(year);
    if (cached !== undefined) return cached;
    const start = Date.UTC(year, 0, 1);
    const end = Date.UTC(year + 1, 0, 1);
    // The table covers [start, end): it starts from the offset just before the year, so a
    // transition at exactly 00:00:00 UTC on 1 January belongs to this year.
    const startOffsetMs = this.#intlOffset(start - SECOND_MS);
    const transitions: OffsetTransition[] = [];
    let prevAt = start - SECOND_MS;
    let prevOffset = startOffsetMs;
    for (let at = start + DAY_MS; at <= end; at += DAY_MS) {
      const offset = this.#intlOffset(at);
      // Bisect every change in (prevAt, at]; loop in case the day held more than one.
      while (offset !== prevOffset) {
        let lo = prevAt;
        let hi = at;
        while (hi - lo > SECOND_MS) {
          const mid = lo + Math.floor((hi - lo) / 2 / SECOND_MS) * SECOND_MS;
          if (this.#intlOffset(mid) === prevOffset) lo = mid;
          else hi = mid;
        }
        const after = this.#intlOffset(hi);
        if (hi < end) transitions.push({ at: hi, offsetBeforeMs: prevOffset, offsetAfterMs: after });
        prevAt = hi;
        prevOffset = after;
      }
      prevAt = at;
    }
    const table = { startOffsetMs, transitions };
    this.#years.set(year, table);
    return table;
  }
}

const zones = new Map<string, ZoneTable>();

/** The cached table of a zone (validate the name with {@link assertTimeZone} first). */
export function zoneTable(timeZone: string): ZoneTable {
  let zone = zones.get(timeZone);
  if (zone === undefined) {
    zone = new ZoneTable(timeZone);
    zones.set(timeZone, zone);
  }
  return zone;
}

/** Validated zone names and the spelling to store (see {@link normalizeTimeZone}). */
const normalized = new Map<string, string>();

/**
 * The issue with a time-zone name, or undefined when Intl knows it as an IANA zone. UTC offsets
 * such as `+02:00` are refused: they have no DST rules, so `Etc/GMT-2` says the same explicitly.
 */
export function timeZoneIssue(timeZone: unknown): string | undefined {
  if (typeof timeZone !== 'string' || timeZone.trim() === '')
    return 'must be an IANA time zone name, e.g. Europe/Berlin';
  if (/^[+-]/.test(timeZone) || /^\d/.test(timeZone)) {
    return `"${timeZone}" is a UTC offset, not an IANA time zone name; use e.g. Europe/Berlin or Etc/GMT-2`;
  }
  if (normalized.has(timeZone)) return undefined;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone;
    // Letter-case variants are endless; a bounded cache keeps odd input from growing it.
    if (normalized.size >= 2000) normalized.clear();
    normalized.set(timeZone, resolved.toLowerCase() === timeZone.toLowerCase() ? resolved : timeZone);
    return undefined;
  } catch {
    return `"${timeZone}" is not a known IANA time zone, e.g. Europe/Berlin`;
  }
}

/**
 * The spelling to store: Intl's canonical one when it differs only in letter case
 * (`europe/berlin` → `Europe/Berlin`), otherwise the caller's (ICU canonicalises `Asia/Kolkata`
 * to the older `Asia/Calcutta`, which users would not recognise).
 */
export function normalizeTimeZone(timeZone: string): string {
  const known = normalized.get(timeZone);
  if (known !== undefined) return known;
  if (timeZoneIssue(timeZone) !== undefined) throw new RangeError(`unknown time zone ${timeZone}`);
  return normalized.get(timeZone) ?? timeZone;
}

/**
 * Validates an IANA time-zone name through Intl.
 *
 * @throws ScheduleValidationError with field `timezone` when Intl does not know the zone.
 * @example
 * assertTimeZone('Europe/Berlin'); // ok
 * assertTimeZone('Mars/Olympus');  // throws: timezone: "Mars/Olympus" is not a known IANA time zone…
 */
export function assertTimeZone(timeZone: string): void {
  const issue = timeZoneIssue(timeZone);
  if (issue !== undefined) throw new ScheduleValidationError([{ field: 'timezone', message: issue }]);
}
