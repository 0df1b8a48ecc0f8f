/**
 * The schedule core: parses `cron` (Unix, or EventBridge's `cron(...)`), `rate(...)` and `at(...)`
 * expressions, validates them and computes their slots in a time zone. Pure: every function takes
 * its reference instant.
 *
 * DST rules, worked examples and the reasons behind them: docs/scheduling.md; the EventBridge
 * forms against AWS's: docs/migrating-from-eventbridge.md.
 */
import cronstrue from 'cronstrue';
import { ScheduleValidationError, type ValidationIssue } from './errors.js';
import {
  CRON_ALIASES,
  type CronFields,
  FIRST_YEAR,
  neverFiresMessage,
  parseCronFields,
} from './schedule/cron-fields.js';
import { dayMatches, nextCronInstant, nextWallTime } from './schedule/cron-schedule.js';
import { parseEventBridgeCron } from './schedule/eventbridge-cron.js';
import {
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  normalizeTimeZone,
  SECOND_MS,
  timeZoneIssue,
  type ZoneTable,
  zoneTable,
} from './schedule/time-zone.js';

export { CronField } from './schedule/cron-fields.js';
export { assertTimeZone } from './schedule/time-zone.js';

/** The three kinds of schedule expression. */
export const ScheduleKind = {
  /**
   * `0 9 * * 1-5`: wall-clock times in the task's zone (5 fields, or 6 with leading seconds); also
   * EventBridge's `cron(0 9 ? * MON-FRI *)`.
   */
  Cron: 'cron',
  /** `rate(5 minutes)`: a fixed interval of real time, aligned to the Unix epoch. */
  Rate: 'rate',
  /** `at(2026-03-29T09:00:00)`: once, at a wall-clock time in the task's zone. */
  At: 'at',
} as const;
export type ScheduleKind = (typeof ScheduleKind)[keyof typeof ScheduleKind];

/** Longest accepted expression, in characters. */
export const MAX_SCHEDULE_LENGTH = 256;
/** Default for {@link ScheduleOptions.minIntervalMs}: at most one slot a minute. */
export const DEFAULT_MIN_INTERVAL_MS = 60_000;
/** Longest `rate()` interval. */
export const MAX_RATE_INTERVAL_MS = 3650 * DAY_MS;

export interface ScheduleOptions {
  /** IANA time zone the expression is read in; default `UTC`. */
  timezone?: string;
  /** Refuse schedules whose slots can come closer together than this; default 60 000 (1 min). */
  minIntervalMs?: number;
}

/** A parsed, validated schedule. Immutable; parse once and call `next` as often as needed. */
export interface Schedule {
  readonly expression: string;
  readonly kind: ScheduleKind;
  readonly timezone: string;
  /** First nominal slot strictly after `after`; undefined when the schedule never fires again. */
  next(after: Date): Date | undefined;
}

/** Optional bounds on the slots a schedule yields, both inclusive. */
export interface SlotWindow {
  startAt?: Date;
  endAt?: Date;
}

/**
 * Parses and validates a schedule expression.
 *
 * @throws ScheduleValidationError naming each refused field (`schedule`, `second`, `minute`,
 * `hour`, `dayOfMonth`, `month`, `dayOfWeek`, `year`, `timezone`, `minIntervalMs`) and the reason.
 * @example
 * const s = parseSchedule('0 9 * * 1-5', { timezone: 'Europe/Berlin' });
 * s.next(new Date('2026-03-27T08:00:00Z')); // 2026-03-30T07:00:00.000Z (09:00 CEST, Monday)
 * parseSchedule('cron(0 9 ? * MON-FRI *)', { timezone: 'Europe/Berlin' }); // the same, EventBridge form
 * parseSchedule('61 * * * *'); // throws: minute: 61 is out of range 0-59
 */
export function parseSchedule(expression: string, options: ScheduleOptions = {}): Schedule {
  const issues: ValidationIssue[] = [];
  const timezone = options.timezone ?? 'UTC';
  const zoneIssue = timeZoneIssue(timezone);
  const minIntervalMs = options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS;
  if (typeof minIntervalMs !== 'number' || !Number.isFinite(minIntervalMs) || minIntervalMs < 0) {
    issues.push({ field: 'minIntervalMs', message: 'must be a finite number of milliseconds, 0 or more' });
  }
  const parsed = parseExpression(expression, minIntervalMs);
  if ('issues' in parsed) issues.push(...parsed.issues);
  if (zoneIssue !== undefined) issues.push({ field: 'timezone', message: zoneIssue });
  if (issues.length > 0 || 'issues' in parsed) throw new ScheduleValidationError(issues);

  const zone = normalizeTimeZone(timezone);
  const text = expression.trim();
  switch (parsed.kind) {
    case 'cron':
      return new CronSchedule(text, zone, parsed.fields, parsed.source, parsed.eventBridge);
    case 'rate':
      return new RateSchedule(text, zone, parsed.intervalMs, parsed.count, parsed.unit);
    case 'at': {
      const slot = fixedInstant(zoneTable(zone), parsed.wall);
      return new AtSchedule(text, zone, parsed.wall, slot);
    }
  }
}

/** First slot strictly after `after` that is >= `startAt` and <= `endAt`; undefined if none. */
export function nextSlot(schedule: Schedule, after: Date, window: SlotWindow = {}): Date | undefined {
  let from = instantOf(after, 'after');
  if (window.startAt !== undefined) from = Math.max(from, instantOf(window.startAt, 'startAt') - 1);
  const slot = schedule.next(new Date(from));
  if (slot === undefined) return undefined;
  if (window.endAt !== undefined && slot.getTime() > instantOf(window.endAt, 'endAt')) return undefined;
  return slot;
}

/** Up to `limit` slots `s` with `after < s <= until` (window applied), in order. */
export function slotsBetween(
  schedule: Schedule,
  after: Date,
  until: Date,
  limit: number,
  window: SlotWindow = {},
): Date[] {
  const end = instantOf(until, 'until');
  const out: Date[] = [];
  let cursor = after;
  while (out.length < limit) {
    const slot = nextSlot(schedule, cursor, window);
    if (slot === undefined || slot.getTime() > end) break;
    out.push(slot);
    cursor = slot;
  }
  return out;
}

/** The next `count` slots after `from`, window applied (for previews). */
export function previewSlots(schedule: Schedule, from: Date, count: number, window: SlotWindow = {}): Date[] {
  return slotsBetween(schedule, from, new Date(8.64e15), count, window);
}

/**
 * Plain-English description.
 *
 * @example
 * describeSchedule(parseSchedule('0 9 * * 1-5', { timezone: 'Europe/Berlin' }));
 * // "At 09:00 AM, Monday through Friday (Europe/Berlin)"
 * describeSchedule(parseSchedule('rate(5 minutes)')); // "Every 5 minutes"
 */
export function describeSchedule(schedule: Schedule): string {
  if (schedule instanceof CronSchedule) {
    let text: string;
    try {
      text = cronstrue.toString(schedule.source, {
        use24HourTimeFormat: false,
        throwExceptionOnParseError: true,
        // EventBridge counts day-of-week 1-7 from Sunday; cronstrue reads 7 fields as Quartz.
        dayOfWeekStartIndexZero: !schedule.eventBridge,
      });
    } catch {
      text = `Cron ${schedule.expression}`;
    }
    return `${text} (${schedule.timezone})`;
  }
  if (schedule instanceof RateSchedule) {
    const every =
      schedule.count === 1 ? `Every ${schedule.unit}` : `Every ${schedule.count} ${schedule.unit}s`;
    return schedule.unit === 'day' ? `${every}, at 00:00 UTC` : every;
  }
  if (schedule instanceof AtSchedule) {
    const wall = new Date(schedule.wallTime).toISOString().slice(0, 19).replace('T', ' ');
    return `Once, at ${wall} (${schedule.timezone})`;
  }
  return `${schedule.expression} (${schedule.timezone})`;
}

// ---------------------------------------------------------------------------------------------

class CronSchedule implements Schedule {
  readonly kind = ScheduleKind.Cron;
  readonly #zone: ZoneTable;
  constructor(
    readonly expression: string,
    readonly timezone: string,
    /** Expanded fields; `fixedTime` selects the DST rule. */
    readonly fields: CronFields,
    /** The expression with any `@alias` expanded, or the Quartz form of `cron(...)` (what cronstrue reads). */
    readonly source: string,
    /** Written in EventBridge's `cron(...)` form (day-of-week 1-7 from Sunday). */
    readonly eventBridge = false,
  ) {
    this.#zone = zoneTable(timezone);
  }
  next(after: Date): Date | undefined {
    const slot = nextCronInstant(this.fields, this.#zone, instantOf(after, 'after'));
    return slot === undefined ? undefined : new Date(slot);
  }
}

class RateSchedule implements Schedule {
  readonly kind = ScheduleKind.Rate;
  constructor(
    readonly expression: string,
    readonly timezone: string,
    readonly intervalMs: number,
    readonly count: number,
    readonly unit: RateUnit,
  ) {}
  /** Multiples of the interval since 1970-01-01T00:00:00Z: real elapsed time, no zone. */
  next(after: Date): Date | undefined {
    const a = instantOf(after, 'after');
    const slot = (Math.floor(a / this.intervalMs) + 1) * this.intervalMs;
    return slot > 8.64e15 ? undefined : new Date(slot);
  }
}

class AtSchedule implements Schedule {
  readonly kind = ScheduleKind.At;
  constructor(
    readonly expression: string,
    readonly timezone: string,
    /** The local date-time written in the expression, as naive epoch ms. */
    readonly wallTime: number,
    readonly slot: number,
  ) {}
  next(after: Date): Date | undefined {
    return instantOf(after, 'after') < this.slot ? new Date(this.slot) : undefined;
  }
}

function instantOf(date: Date, name: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (Number.isNaN(ms)) throw new RangeError(`${name} must be a valid Date`);
  return ms;
}

/** A one-time wall time as an instant: first occurrence when repeated, the transition when skipped. */
function fixedInstant(zone: ZoneTable, wall: number): number {
  const r = zone.resolve(wall);
  return r.kind === 'single' ? r.instant : r.kind === 'repeated' ? r.first : r.transition;
}

// --- expression parsing ----------------------------------------------------------------------

type RateUnit = 'second' | 'minute' | 'hour' | 'day';
const RATE_UNIT_MS: Record<RateUnit, number> = {
  second: SECOND_MS,
  minute: MINUTE_MS,
  hour: HOUR_MS,
  day: DAY_MS,
};

type ParsedExpression =
  | { kind: 'cron'; fields: CronFields; source: string; eventBridge: boolean }
  | { kind: 'rate'; intervalMs: number; count: number; unit: RateUnit }
  | { kind: 'at'; wall: number }
  | { issues: ValidationIssue[] };

function invalid(message: string, field = 'schedule'): ParsedExpression {
  return { issues: [{ field, message }] };
}

function parseExpression(expression: unknown, minIntervalMs: number): ParsedExpression {
  if (typeof expression !== 'string') return invalid('must be a string');
  if (expression.length > MAX_SCHEDULE_LENGTH) {
    return invalid(`is ${expression.length} characters long; the limit is ${MAX_SCHEDULE_LENGTH}`);
  }
  const text = expression.trim();
  if (text === '') return invalid('is empty; expected a cron expression, rate(...) or at(...)');
  const call = /^([a-z]+)\s*\((.*)\)$/is.exec(text);
  if (call !== null) {
    const name = (call[1] ?? '').toLowerCase();
    const body = (call[2] ?? '').trim();
    if (name === 'rate') return parseRate(body, minIntervalMs);
    if (name === 'at') return parseAt(body);
    if (name === 'cron') return parseEventBridge(text, body, minIntervalMs);
    return invalid(
      `unknown schedule type "${name}(...)"; use a cron expression, cron(...) (EventBridge form), rate(...) or at(...)`,
    );
  }
  const cron = parseCronFields(text);
  if (!cron.ok) return looksLikeEventBridge(text) ? invalid(eventBridgeHint(text)) : { issues: cron.issues };
  const issue = cronFieldsIssue(cron.fields, neverFiresMessage(text), minIntervalMs);
  if (issue !== undefined) return issue;
  const source = CRON_ALIASES[text.toLowerCase()] ?? text;
  return { kind: 'cron', fields: cron.fields, source, eventBridge: false };
}

/**
 * Six fields with `?` in the third or fifth place: EventBridge's order without `cron(...)`. Read as
 * Unix cron with seconds, `?` would land in the hour or month field, so it can never be valid.
 */
function looksLikeEventBridge(text: string): boolean {
  const parts = text.split(/\s+/);
  return parts.length === 6 && (parts[2] === '?' || parts[4] === '?');
}

function eventBridgeHint(text: string): string {
  return `"${text}" is in EventBridge's order (minutes hours day-of-month month day-of-week year); write it as cron(${text})`;
}

/** `cron(min hour dom month dow year)`, EventBridge's form (see schedule/eventbridge-cron.ts). */
function parseEventBridge(text: string, body: string, minIntervalMs: number): ParsedExpression {
  const cron = parseEventBridgeCron(body);
  if (!cron.ok) return { issues: cron.issues };
  const never = `"${text}" never fires: no date matches its day-of-month, month, day-of-week and year fields`;
  const issue = cronFieldsIssue(cron.fields, never, minIntervalMs);
  if (issue !== undefined) return issue;
  return { kind: 'cron', fields: cron.fields, source: cron.description, eventBridge: true };
}

/**
 * Refuses fields that match no date at all, or fire more often than `minIntervalMs`. With a year
 * field the search starts at its first year, so an expression whose years are all past is
 * accepted and simply has no next slot (like an `at()` that has passed).
 */
function cronFieldsIssue(
  fields: CronFields,
  neverFires: string,
  minIntervalMs: number,
): ParsedExpression | undefined {
  const from = fields.years === undefined ? Date.UTC(2000, 0, 1) : Date.UTC(FIRST_YEAR, 0, 1);
  if (nextWallTime(fields, from) === undefined) return invalid(neverFires);
  const gap = tooFrequentGapMs(fields, minIntervalMs);
  if (gap !== undefined) return invalid(tooFrequentMessage(gap, minIntervalMs));
  return undefined;
}

const RATE_HELP =
  'expected rate(N unit) with N a whole number of at least 1 and unit second(s), minute(s), hour(s) or day(s), e.g. rate(5 minutes)';

function parseRate(body: string, minIntervalMs: number): ParsedExpression {
  const parts = body.split(/\s+/);
  if (parts.length !== 2) return invalid(`"rate(${body})": ${RATE_HELP}`);
  const [count = '', unitText = ''] = parts;
  if (!/^[1-9]\d*$/.test(count)) return invalid(`rate() needs a whole number of at least 1, got "${count}"`);
  const unit = unitText.toLowerCase().replace(/s$/, '');
  if (unit !== 'second' && unit !== 'minute' && unit !== 'hour' && unit !== 'day') {
    return invalid(`rate() unit must be second(s), minute(s), hour(s) or day(s), got "${unitText}"`);
  }
  const n = Number(count);
  const intervalMs = n * RATE_UNIT_MS[unit];
  if (intervalMs > MAX_RATE_INTERVAL_MS) return invalid(`rate() interval must be at most 3650 days`);
  if (intervalMs < minIntervalMs) return invalid(tooFrequentMessage(intervalMs, minIntervalMs));
  return { kind: 'rate', intervalMs, count: n, unit };
}

const AT_HELP =
  'expected at(YYYY-MM-DDTHH:mm:ss), a local date-time in the task time zone, e.g. at(2026-03-29T09:00:00)';

function parseAt(body: string): ParsedExpression {
  const offset = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(z|[+-]\d{2}(?::?\d{2})?)$/i.exec(body);
  if (offset !== null) {
    return invalid(
      `at() takes a wall-clock time in the task's time zone without an offset; remove "${offset[1]}" and set timezone instead`,
    );
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (m === null) return invalid(`"at(${body})": ${AT_HELP}`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  const real =
    check.getUTCFullYear() === year &&
    check.getUTCMonth() === month - 1 &&
    check.getUTCDate() === day &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  if (!real) return invalid(`"${body}" is not a real date-time`);
  return { kind: 'at', wall };
}

// --- minimum interval ------------------------------------------------------------------------

/**
 * The smallest gap between two consecutive slots if it is below `minIntervalMs`, else undefined.
 * Exact on the wall clock: times of day are enumerated (stopping at the first gap that is too
 * small), and the gap from the last slot of a day to the first of the next counts only when two
 * consecutive days fire. A DST shift can make one real gap shorter (see docs/scheduling.md).
 */
function tooFrequentGapMs(fields: CronFields, minIntervalMs: number): number | undefined {
  let first: number | undefined;
  let previous: number | undefined;
  for (const h of fields.hours) {
    for (const m of fields.minutes) {
      for (const s of fields.seconds) {
        const tod = (h * 3600 + m * 60 + s) * SECOND_MS;
        if (previous !== undefined && tod - previous < minIntervalMs) return tod - previous;
        first ??= tod;
        previous = tod;
      }
    }
  }
  if (first === undefined || previous === undefined) return undefined;
  const overnight = first + DAY_MS - previous;
  if (overnight >= minIntervalMs) return undefined;
  return hasConsecutiveDays(fields) ? overnight : undefined;
}

/** Whether two consecutive calendar days both fire, within one 400-year Gregorian cycle. */
function hasConsecutiveDays(fields: CronFields): boolean {
  let previous = false;
  const first = fields.years === undefined ? 2000 : FIRST_YEAR;
  for (let day = Date.UTC(first, 0, 1); day < Date.UTC(first + 400, 0, 2); day += DAY_MS) {
    const d = new Date(day);
    const fires = dayMatches(fields, d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate());
    if (fires && previous) return true;
    previous = fires;
  }
  return false;
}

function tooFrequentMessage(gapMs: number, minIntervalMs: number): string {
  return `fires as often as every ${formatDuration(gapMs)}, more often than the minimum interval of ${formatDuration(minIntervalMs)}`;
}

/** `30 s`, `1 min`, `1 h 30 min`, `2 d`. */
export function formatDuration(ms: number): string {
  const units: [number, string][] = [
    [DAY_MS, 'd'],
    [HOUR_MS, 'h'],
    [MINUTE_MS, 'min'],
    [SECOND_MS, 's'],
  ];
  const parts: string[] = [];
  let rest = ms;
  for (const [size, label] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n} ${label}`);
    rest -= n * size;
  }
  if (rest > 0 || parts.length === 0) parts.push(`${rest} ms`);
  return parts.join(' ');
}
