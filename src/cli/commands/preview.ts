/** `tickwork preview`: what a schedule means and when it fires next. */
import { int, text } from '../args.js';
import type { Command } from '../command.js';
import { emit } from '../print.js';

const preview: Command = {
  name: 'preview',
  usage: 'tickwork preview "<schedule>" [--tz <zone>] [--count <n>] [--from <ISO instant>]',
  summary: 'The next slots of a schedule and what it means',
  options: { tz: { type: 'string' }, count: { type: 'string' }, from: { type: 'string' } },
  args: 1,
  async run(ctx, [schedule], values) {
    const answer = await ctx.client().preview({
      schedule: schedule as string,
      timezone: text(values.tz),
      count: int(values.count, 'count'),
      from: text(values.from),
    });
    emit(ctx, answer, () => [answer.description, ...answer.next.map((n) => `  ${n}`)].join('\n'));
    return 0;
  },
};

/** The schedule commands. */
export const previewCommands: Command[] = [preview];
