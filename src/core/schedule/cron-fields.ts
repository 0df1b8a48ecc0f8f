/**
 * Cron field syntax: validation with precise messages, then the value sets cron-parser expands,
 * in a shape the wall-time matcher in `cron-schedule.ts` reads without allocating.
 */
import { CronExpressionParser } from 'cron-parser';
import type { ValidationIssue } from '../errors.js';

/** Cron field names, in order, as used in validation issues. */
export const CronField = {
  Second: 'second',
  Minute: 'minute',
  Hour: 'hour',
  DayOfMonth: 'dayOfMonth',
  Month: 'month',
  DayOfWeek: 'dayOfWeek',
} as const;
export type CronField = (typeof CronField)[keyof typeof CronField];

const FIELD_ORDER: readonly CronField[] = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'];

interface FieldSpec {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** `?` allowed (same as `*`). */
  readonly question?: boolean;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const SPECS: Record<CronField, FieldSpec> = {
  second: { min: 0, max: 59 },
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dayOfMonth: { min: 1, max: 31, question: true },
  month: { min: 1, max: 12, names: MONTH_NAMES },
  dayOfWeek: { min: 0, max: 7, names: DAY_NAMES, question: true },
};

/** Range of the EventBridge year field. */
export const FIRST_YEAR = 1970;
export const LAST_YEAR = 2199;

/** Common shorthands, as the five-field expressions they stand for. */
export const CRON_ALIASES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A validated cron expression, expanded for matching wall times. */
export interface CronFields {
  /** The six raw fields (seconds first; `0` added for five-field expressions). */
  readonly raw: Readonly<Record<CronField, string>>;
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** Index 1-12. */
  readonly months: readonly boolean[];
  /** Index 1-31. */
  readonly daysOfMonth: readonly boolean[];
  /** `L` in day-of-month: the last day of the month. */
  readonly lastDayOfMonth: boolean;
  /** Index 0-6 (Sunday 0; `7` is folded onto 0). */
  readonly daysOfWeek: readonly boolean[];
  /** `5L` in day-of-week: the last Friday of the month; index 0-6. */
  readonly lastWeekdaysOfMonth: readonly boolean[];
  /** `1#2` in day-of-week: the 2nd Monday; 0 when absent. */
  readonly nthWeekday: number;
  /** `15W` in day-of-month (EventBridge form): the weekday nearest the 15th; 0 when absent. */
  readonly nearestWeekday: number;
  /** `LW` in day-of-month (EventBridge form): the last weekday (Monday-Friday) of the month. */
  readonly lastWeekdayOfMonth: boolean;
  /**
   * The year field (EventBridge form), index `year - FIRST_YEAR` up to {@link LAST_YEAR};
   * undefined when every year matches.
   */
  readonly years: readonly boolean[] | undefined;
  /** Day-of-month is `*` or `?`. When both day fields are restricted, a day matching either runs. */
  readonly dayOfMonthWildcard: boolean;
  readonly dayOfWeekWildcard: boolean;
  /**
   * Neither minute nor hour holds `*` or a step: the schedule names fixed wall-clock times,
   * which get the fixed-time DST rules (see docs/scheduling.md).
   */
  readonly fixedTime: boolean;
}

export type CronParseResult =
  | { readonly ok: true; readonly fields: CronFields }
  | { readonly ok: false; readonly issues: ValidationIssue[] };

/** Splits, validates and expands a cron expression or alias. */
export function parseCronFields(expression: string): CronParseResult {
  const source = CRON_ALIASES[expression.toLowerCase()] ?? expression;
  if (source.startsWith('@')) {
    const known = Object.keys(CRON_ALIASES).join(', ');
    return fail('schedule', `unknown shorthand "${expression}"; known: ${known}`);
  }
  const parts = source.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) {
    return fail(
      'schedule',
      `expected 5 cron fields (minute hour dayOfMonth month dayOfWeek) or 6 (with a leading second), got ${parts.length}`,
    );
  }
  const six = parts.length === 5 ? ['0', ...parts] : parts;
  const raw = Object.fromEntries(FIELD_ORDER.map((f, i) => [f, (six[i] ?? '').toLowerCase()])) as Record<
    CronField,
    string
  >;
  const issues: ValidationIssue[] = [];
  for (const field of FIELD_ORDER) {
    const message = fieldIssue(field, raw[field]);
    if (message !== undefined) issues.push({ field, message });
  }
  if (issues.length > 0) return { ok: false, issues };

  let parsed: ReturnType<typeof CronExpressionParser.parse>;
  try {
    parsed = CronExpressionParser.parse(six.join(' '), { tz: 'UTC', currentDate: 0 });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (/explicit day of month/i.test(reason)) return fail('schedule', neverFiresMessage(expression));
    return fail('schedule', `not a valid cron expression: ${reason}`);
  }
  const f = parsed.fields;
  const daysOfMonth = flags(32, []);
  let lastDayOfMonth = false;
  for (const v of f.dayOfMonth.values) {
    if (typeof v === 'number') daysOfMonth[v] = true;
    else lastDayOfMonth = true;
  }
  const daysOfWeek = flags(7, []);
  const lastWeekdaysOfMonth = flags(7, []);
  for (const v of f.dayOfWeek.values) {
    if (typeof v === 'number') daysOfWeek[v % 7] = true;
    else lastWeekdaysOfMonth[Number.parseInt(v.charAt(0), 10) % 7] = true;
  }
  const periodic = (text: string) => text.includes('*') || text.includes('/');
  return {
    ok: true,
    fields: {
      raw,
      seconds: [...f.second.values].sort((a, b) => a - b),
      minutes: [...f.minute.values].sort((a, b) => a - b),
      hours: [...f.hour.values].sort((a, b) => a - b),
      months: flags(13, f.month.values),
      daysOfMonth,
      lastDayOfMonth,
      daysOfWeek,
      lastWeekdaysOfMonth,
      nthWeekday: f.dayOfWeek.nthDay,
      nearestWeekday: 0,
      lastWeekdayOfMonth: false,
      years: undefined,
      dayOfMonthWildcard: raw.dayOfMonth === '*' || raw.dayOfMonth === '?',
      dayOfWeekWildcard: raw.dayOfWeek === '*' || raw.dayOfWeek === '?',
      fixedTime: !periodic(raw.minute) && !periodic(raw.hour),
    },
  };
}

export function neverFiresMessage(expression: string): string {
  return `"${expression}" never fires: no date matches its day-of-month, month and day-of-week fields`;
}

function fail(field: string, message: string): CronParseResult {
  return { ok: false, issues: [{ field, message }] };
}

/** A boolean array of `length` with the given indexes set. */
export function flags(length: number, on: readonly number[]): boolean[] {
  const out = new Array<boolean>(length).fill(false);
  for (const v of on) out[v] = true;
  return out;
}

/** Why one field is refused, or undefined. `text` is lower-case. */
function fieldIssue(field: CronField, text: string): string | undefined {
  const spec = SPECS[field];
  const items = text.split(',');
  for (const item of items) {
    if (item === '') return `"${text}" has an empty list item`;
    const issue = itemIssue(field, spec, item, items.length);
    if (issue !== undefined) return issue;
  }
  return undefined;
}

function itemIssue(field: CronField, spec: FieldSpec, item: string, itemCount: number): string | undefined {
  const slash = item.indexOf('/');
  const base = slash === -1 ? item : item.slice(0, slash);
  const step = slash === -1 ? undefined : item.slice(slash + 1);

  if (base === '?') {
    if (!spec.question) return `"?" is only allowed in dayOfMonth and dayOfWeek; use "*"`;
    return step === undefined && itemCount === 1 ? undefined : `"?" must stand alone`;
  }
  if (field === 'dayOfMonth' && base === 'l') {
    return step === undefined ? undefined : `"${item}": "L" (last day of the month) takes no step`;
  }
  if (field === 'dayOfWeek' && base.endsWith('l')) {
    const day = base.slice(0, -1);
    if (step !== undefined) return `"${item}": "${base}" (last given weekday of the month) takes no step`;
    if (!/^\d$/.test(day))
      return `"${item}": "L" needs a weekday number in dayOfWeek, e.g. 5L for the last Friday`;
    return valueIssue(spec, day);
  }
  if (field === 'dayOfWeek' && base.includes('#')) {
    if (step !== undefined || itemCount !== 1)
      return `"#" must stand alone in dayOfWeek, e.g. 1#2 (2nd Monday)`;
    const [day = '', nth = ''] = base.split('#');
    const dayIssue = valueIssue(spec, day);
    if (dayIssue !== undefined) return dayIssue;
    if (!/^\d+$/.test(nth) || Number(nth) < 1 || Number(nth) > 5) {
      return `occurrence "${nth}" in "${item}" is out of range 1-5`;
    }
    return undefined;
  }

  if (base !== '*') {
    const dash = base.indexOf('-');
    const from = dash === -1 ? base : base.slice(0, dash);
    const to = dash === -1 ? undefined : base.slice(dash + 1);
    const fromIssue = valueIssue(spec, from);
    if (fromIssue !== undefined) return fromIssue;
    if (to !== undefined) {
      const toIssue = valueIssue(spec, to);
      if (toIssue !== undefined) return toIssue;
      if (numericValue(spec, from) > numericValue(spec, to)) {
        return `range ${from}-${to} is backwards: it must go from low to high`;
      }
    }
  }
  if (step !== undefined) {
    if (!/^\d+$/.test(step) || Number(step) < 1) {
      return `step "${step}" in "${item}" must be a whole number of at least 1`;
    }
    if (Number(step) > spec.max - spec.min) {
      return `step ${Number(step)} in "${item}" is larger than the field's range ${spec.min}-${spec.max}; for longer intervals use rate(), e.g. rate(90 minutes)`;
    }
  }
  return undefined;
}

function valueIssue(spec: FieldSpec, token: string): string | undefined {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    return value < spec.min || value > spec.max
      ? `${token} is out of range ${spec.min}-${spec.max}`
      : undefined;
  }
  if (spec.names?.includes(token)) return undefined;
  const names =
    spec.names === undefined ? '' : ` or a name (${spec.names[0]}-${spec.names[spec.names.length - 1]})`;
  return `"${token}" is not a valid value: expected a number ${spec.min}-${spec.max}${names}, "*", a range a-b, a list a,b or a step */n`;
}

function numericValue(spec: FieldSpec, token: string): number {
  const named = spec.names?.indexOf(token) ?? -1;
  if (named === -1) return Number(token);
  return spec === SPECS.month ? named + 1 : named;
}
