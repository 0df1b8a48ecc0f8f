/**
 * EventBridge's cron form, `cron(minutes hours day-of-month month day-of-week year)`, read into
 * the same {@link CronFields} the Unix form produces, so slots, time zones and DST placement are
 * shared. What differs from Unix cron, as AWS documents it (docs/migrating-from-eventbridge.md):
 *
 * - day-of-week counts 1-7 from Sunday (`SUN`-`SAT`), not 0-6;
 * - exactly one of day-of-month and day-of-week is `?`, so the two never combine;
 * - day-of-month takes `L`, `nW` (weekday nearest the nth) and `LW`; day-of-week takes `L`
 *   (Saturday, the last day of the week), `nL` (last weekday n of the month) and `n#k`;
 * - a sixth field restricts the years, 1970-2199 (the Scheduler guide calls it optional, so five
 *   fields mean every year);
 * - ranges may wrap (`20-2` in hours is 20:00 to 02:59), as in the AWS examples.
 *
 * cron-parser knows neither `W` nor the year field, so the fields are expanded here.
 */
import type { ValidationIssue } from '../errors.js';
import { type CronFields, FIRST_YEAR, flags, LAST_YEAR } from './cron-fields.js';

type Field = 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek' | 'year';

interface Spec {
  readonly min: number;
  readonly max: number;
  /** Names for min, min + 1, … (lower-case). */
  readonly names?: readonly string[];
  /** Whether a range may wrap past max back to min. */
  readonly cyclic: boolean;
  /** What else the field takes, for messages. */
  readonly also: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const SPECS: Record<Field, Spec> = {
  minute: { min: 0, max: 59, cyclic: true, also: '* , - /' },
  hour: { min: 0, max: 23, cyclic: true, also: '* , - /' },
  dayOfMonth: { min: 1, max: 31, cyclic: true, also: '* ? , - / L W LW' },
  month: { min: 1, max: 12, names: MONTHS, cyclic: true, also: 'JAN-DEC * , - /' },
  dayOfWeek: { min: 1, max: 7, names: DAYS, cyclic: true, also: 'SUN-SAT * ? , - L # (1 = Sunday)' },
  year: { min: FIRST_YEAR, max: LAST_YEAR, cyclic: false, also: '* , - /' },
};

const ORDER: readonly Field[] = ['minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek', 'year'];

const EXAMPLE = 'e.g. cron(0 9 ? * MON-FRI *) or cron(0 18 L * ? *)';

export type EventBridgeCronResult =
  | {
      readonly ok: true;
      readonly fields: CronFields;
      /** Seven-field Quartz form (leading second) with day-of-week 1-7, for cronstrue. */
      readonly description: string;
    }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

/**
 * Validates and expands the body of `cron(...)`.
 *
 * @example
 * parseEventBridgeCron('0 9 ? * MON-FRI *'); // weekdays at 09:00
 * parseEventBridgeCron('0 9 * * MON-FRI *'); // refused: one of day-of-month or day-of-week must be ?
 */
export function parseEventBridgeCron(body: string): EventBridgeCronResult {
  const parts = body.trim() === '' ? [] : body.trim().split(/\s+/);
  if (parts.length === 5) parts.push('*');
  if (parts.length !== 6) return fail('schedule', fieldCountMessage(body, parts.length));
  const raw = Object.fromEntries(ORDER.map((f, i) => [f, parts[i] ?? ''])) as Record<Field, string>;

  const issues: ValidationIssue[] = [];
  const questionIssue = questionRuleIssue(raw.dayOfMonth, raw.dayOfWeek);
  if (questionIssue !== undefined) issues.push({ field: 'schedule', message: questionIssue });
  const take = <T>(field: Field, result: T | string): T | undefined => {
    if (typeof result !== 'string') return result;
    issues.push({ field, message: result });
    return undefined;
  };
  const minutes = take('minute', expandList(SPECS.minute, raw.minute));
  const hours = take('hour', expandList(SPECS.hour, raw.hour));
  const dom = take('dayOfMonth', dayOfMonth(raw.dayOfMonth));
  const months = take('month', expandList(SPECS.month, raw.month));
  const dow = take('dayOfWeek', dayOfWeek(raw.dayOfWeek));
  const years = take('year', raw.year === '*' ? undefined : expandList(SPECS.year, raw.year));
  if (issues.length > 0 || !minutes || !hours || !dom || !months || !dow) return { ok: false, issues };
  const periodic = (text: string) => text.includes('*') || text.includes('/');
  const fields: CronFields = {
    raw: {
      second: '0',
      minute: raw.minute,
      hour: raw.hour,
      dayOfMonth: raw.dayOfMonth,
      month: raw.month,
      dayOfWeek: raw.dayOfWeek,
    },
    seconds: [0],
    minutes,
    hours,
    months: flags(13, months),
    ...dom,
    ...dow,
    years:
      years &&
      flags(
        LAST_YEAR - FIRST_YEAR + 1,
        years.map((y) => y - FIRST_YEAR),
      ),
    fixedTime: !periodic(raw.minute) && !periodic(raw.hour),
  };
  return { ok: true, fields, description: `0 ${parts.join(' ')}` };
}

function fail(field: string, message: string): EventBridgeCronResult {
  return { ok: false, issues: [{ field, message }] };
}

function fieldCountMessage(body: string, count: number): string {
  const expected = `cron(...) takes 6 fields, minutes hours day-of-month month day-of-week year (${EXAMPLE})`;
  if (count === 7) {
    return `${expected}; "cron(${body})" has 7, and EventBridge cron has no seconds field: drop the first one`;
  }
  return `${expected}; "cron(${body})" has ${count}`;
}

/** EventBridge's rule: exactly one of the two day fields is `?`. */
function questionRuleIssue(dom: string, dow: string): string | undefined {
  if (dom === '?' && dow === '?') {
    return `only one of day-of-month and day-of-week can be "?"; put "*" in the other (${EXAMPLE})`;
  }
  if (dom !== '?' && dow !== '?') {
    return (
      `one of day-of-month or day-of-week must be "?" in cron(...): write cron(0 9 ? * MON-FRI *) for ` +
      `weekdays or cron(0 9 1 * ? *) for the 1st; to run on days matching either field, write a ` +
      `Unix cron expression without cron(...), e.g. 0 9 1 * 1`
    );
  }
  return undefined;
}

// --- day-of-month and day-of-week ------------------------------------------------------------

type DayOfMonthFields = Pick<
  CronFields,
  'daysOfMonth' | 'lastDayOfMonth' | 'nearestWeekday' | 'lastWeekdayOfMonth' | 'dayOfMonthWildcard'
>;

/** `?`, `*`, lists/ranges/steps, `L`, `nW` or `LW`. */
function dayOfMonth(text: string): DayOfMonthFields | string {
  const none: DayOfMonthFields = {
    daysOfMonth: flags(32, []),
    lastDayOfMonth: false,
    nearestWeekday: 0,
    lastWeekdayOfMonth: false,
    dayOfMonthWildcard: false,
  };
  if (text === '?' || text === '*')
    return { ...none, daysOfMonth: flags(32, range(1, 31)), dayOfMonthWildcard: true };
  const items = text.split(',');
  if (items.includes('?')) return `"${text}": "?" stands alone in day-of-month`;
  if (items.some((item) => /w$/i.test(item))) {
    if (items.length !== 1)
      return `"${text}": W takes a single day, e.g. 15W, or LW; it cannot be part of a list`;
    if (text.toLowerCase() === 'lw') return { ...none, lastWeekdayOfMonth: true };
    const day = text.slice(0, -1);
    if (!/^\d+$/.test(day))
      return `"${text}": W takes a single day, e.g. 15W (weekday nearest the 15th), or LW`;
    const issue = rangeIssue(SPECS.dayOfMonth, Number(day), day);
    return issue ?? { ...none, nearestWeekday: Number(day) };
  }
  let last = false;
  const days: number[] = [];
  for (const item of items) {
    if (item.toLowerCase() === 'l') {
      last = true;
      continue;
    }
    if (/^l-\d+$/i.test(item)) {
      return `"${item}" (days before the last day) is not supported; use L for the last day, or LW for the last weekday`;
    }
    const values = expandItem(SPECS.dayOfMonth, item);
    if (typeof values === 'string') return values;
    days.push(...values);
  }
  return { ...none, daysOfMonth: flags(32, days), lastDayOfMonth: last };
}

type DayOfWeekFields = Pick<
  CronFields,
  'daysOfWeek' | 'lastWeekdaysOfMonth' | 'nthWeekday' | 'dayOfWeekWildcard'
>;

/** `?`, `*`, lists/ranges, `L` (Saturday), `nL` or `n#k`, 1 = Sunday. */
function dayOfWeek(text: string): DayOfWeekFields | string {
  const none: DayOfWeekFields = {
    daysOfWeek: flags(7, []),
    lastWeekdaysOfMonth: flags(7, []),
    nthWeekday: 0,
    dayOfWeekWildcard: false,
  };
  if (text === '?' || text === '*')
    return { ...none, daysOfWeek: flags(7, range(0, 6)), dayOfWeekWildcard: true };
  if (text.split(',').includes('?')) return `"${text}": "?" stands alone in day-of-week`;
  if (text.includes('#')) return nthDayOfWeek(text, none);
  const days: number[] = [];
  const lastOf: number[] = [];
  for (const item of text.split(',')) {
    if (item.toLowerCase() === 'l') {
      days.push(6);
      continue;
    }
    if (item.length > 1 && /l$/i.test(item)) {
      const day = token(SPECS.dayOfWeek, item.slice(0, -1));
      if (typeof day === 'string')
        return `"${item}": L after a day means its last one in the month, e.g. 5L (last Thursday); ${day}`;
      lastOf.push(day - 1);
      continue;
    }
    const values = expandItem(SPECS.dayOfWeek, item);
    if (typeof values === 'string') return values;
    days.push(...values.map((v) => v - 1));
  }
  return { ...none, daysOfWeek: flags(7, days), lastWeekdaysOfMonth: flags(7, lastOf) };
}

function nthDayOfWeek(text: string, none: DayOfWeekFields): DayOfWeekFields | string {
  const m = /^([a-z]+|\d+)#(\d+)$/i.exec(text);
  if (m === null) {
    return `"${text}": # stands alone in day-of-week (one expression only), e.g. 3#2 for the second Tuesday`;
  }
  const day = token(SPECS.dayOfWeek, m[1] ?? '');
  if (typeof day === 'string') return day;
  const nth = Number(m[2]);
  if (nth < 1 || nth > 5) return `occurrence ${m[2]} in "${text}" is out of range 1-5`;
  return { ...none, daysOfWeek: flags(7, [day - 1]), nthWeekday: nth };
}

// --- value lists -----------------------------------------------------------------------------

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** A comma list of values, ranges and steps, expanded and sorted. */
function expandList(spec: Spec, text: string): number[] | string {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const values = expandItem(spec, item);
    if (typeof values === 'string') return values;
    for (const v of values) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/** `*`, `n`, `a-b` (wrapping when the field is cyclic), each with an optional `/step`. */
function expandItem(spec: Spec, item: string): number[] | string {
  if (item === '') return `empty list item; expected ${spec.min}-${spec.max} or ${spec.also}`;
  if (item === '?') return `"?" is only allowed in day-of-month and day-of-week; use "*"`;
  const [base = '', step, extra] = item.split('/');
  if (extra !== undefined) return `"${item}" has more than one "/"`;
  let from = spec.min;
  let to = spec.max;
  if (base !== '*') {
    const dash = base.indexOf('-');
    const a = token(spec, dash === -1 ? base : base.slice(0, dash));
    if (typeof a === 'string') return a;
    const b = dash === -1 ? (step === undefined ? a : spec.max) : token(spec, base.slice(dash + 1));
    if (typeof b === 'string') return b;
    if (a > b && !spec.cyclic) return `range ${base} is backwards: it must go from low to high`;
    from = a;
    to = b;
  }
  const increment = stepOf(spec, item, step);
  if (typeof increment === 'string') return increment;
  const size = spec.max - spec.min + 1;
  const span = from <= to ? to - from : to + size - from;
  const values: number[] = [];
  for (let k = 0; k <= span; k += increment) values.push(spec.min + ((from - spec.min + k) % size));
  return values;
}

function stepOf(spec: Spec, item: string, step: string | undefined): number | string {
  if (step === undefined) return 1;
  if (!/^\d+$/.test(step) || Number(step) < 1)
    return `step "${step}" in "${item}" must be a whole number of at least 1`;
  const n = Number(step);
  if (n > spec.max - spec.min) {
    const hint =
      spec.max <= 59 && spec.min === 0 ? '; for longer intervals use rate(), e.g. rate(90 minutes)' : '';
    return `step ${n} in "${item}" is larger than the field's range ${spec.min}-${spec.max}${hint}`;
  }
  return n;
}

/** One value: a number in range or a name. */
function token(spec: Spec, text: string): number | string {
  if (/^\d+$/.test(text)) return rangeIssue(spec, Number(text), text) ?? Number(text);
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named !== -1) return spec.min + named;
  return `"${text}" is not a valid value: expected ${spec.min}-${spec.max} or ${spec.also}`;
}

function rangeIssue(spec: Spec, value: number, text: string): string | undefined {
  if (value >= spec.min && value <= spec.max) return undefined;
  if (spec === SPECS.dayOfWeek && value === 0) {
    return `0 is out of range 1-7: EventBridge counts day-of-week from 1 = Sunday to 7 = Saturday, so write 1 or SUN for Sunday`;
  }
  return `${text} is out of range ${spec.min}-${spec.max}`;
}
