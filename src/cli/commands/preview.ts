/**
 * `tickwork preview`: what a schedule means and when it fires next, in its zone and in UTC.
 * Computed here with the scheduler's own schedule code (it is pure), so no API is needed.
 */
import { ScheduleValidationError } from '../../core/errors.js';
import { describeSchedule, parseSchedule, previewSlots } from '../../core/schedule.js';
import { parseDuration } from '../../local/duration.js';
import { int, text, UsageError, type Values } from '../args.js';
import type { SchedulePreview } from '../client.js';
import type { Command, Ctx } from '../command.js';
import { zonedTime } from '../format.js';
import { emit, emitError } from '../print.js';

const MAX_COUNT = 50;

function fromOf(values: Values): Date {
  const from = text(values.from);
  if (from === undefined) return new Date();
  const at = new Date(from);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--from: not an ISO instant: ${from}`);
  return at;
}

function minIntervalOf(values: Values): number {
  try {
    return parseDuration(text(values['min-interval']) ?? '1m');
  } catch (error) {
    throw new UsageError(`--min-interval: ${(error as Error).message}`);
  }
}

/** The preview, shaped as the API's `GET /schedule-preview` answers it. */
export function previewOf(expression: string, values: Values): SchedulePreview {
  const count = int(values.count, 'count') ?? 5;
  if (count < 1 || count > MAX_COUNT) throw new UsageError(`--count: 1 to ${MAX_COUNT}, got ${count}`);
  const schedule = parseSchedule(expression, {
    timezone: text(values.tz) ?? 'UTC',
    minIntervalMs: minIntervalOf(values),
  });
  return {
    schedule: schedule.expression,
    timezone: schedule.timezone,
    description: describeSchedule(schedule),
    next: previewSlots(schedule, fromOf(values), count).map((d) => d.toISOString()),
  };
}

/** The description, then one line a slot: the wall time in the zone, and the instant in UTC. */
export function previewText(preview: SchedulePreview): string {
  const slots = preview.next.map((iso) => {
    const at = new Date(iso);
    const utc = iso.replace(/\.000Z$/, 'Z');
    return preview.timezone === 'UTC'
      ? `  ${zonedTime(at, 'UTC')}`
      : `  ${zonedTime(at, preview.timezone)}   ${utc}`;
  });
  return [preview.description, ...(slots.length > 0 ? slots : ['  (no upcoming slot)'])].join('\n');
}

function refuse(ctx: Ctx, error: ScheduleValidationError): number {
  if (ctx.structured) emitError(ctx, { code: error.code, message: error.message, details: error.issues });
  else ctx.io.err(`error: ${error.message} (${error.code})`);
  return 1;
}

const preview: Command = {
  name: 'preview',
  usage:
    'tickwork preview "<schedule>" [--tz <zone>] [--count <n>] [--from <ISO instant>] [--min-interval <duration>]',
  summary: 'What a schedule means and its next slots, in its zone and in UTC (no API needed)',
  details: `  --tz <zone>               the IANA zone the schedule is read in (default UTC)
  --count <n>               how many slots, 1-${MAX_COUNT} (default 5)
  --from <ISO instant>      list the slots after this instant (default now)
  --min-interval <duration> refuse schedules firing more often, as the deployment does (default 1m;
                            tickwork dev accepts down to its --tick-every)
  Computed here: --endpoint and --region are accepted and not used.`,
  options: {
    tz: { type: 'string' },
    count: { type: 'string' },
    from: { type: 'string' },
    'min-interval': { type: 'string' },
  },
  args: 1,
  async run(ctx, [expression], values) {
    let answer: SchedulePreview;
    try {
      answer = previewOf(expression as string, values);
    } catch (error) {
      if (error instanceof ScheduleValidationError) return refuse(ctx, error);
      throw error;
    }
    emit(ctx, answer, () => previewText(answer));
    return 0;
  },
};

/** The schedule commands. */
export const previewCommands: Command[] = [preview];
