/** `tickwork backfill`: run a task's slots over a past range. */
import { int, text, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { table } from '../format.js';
import { emit } from '../print.js';
import { sinceInstant } from './runs.js';

const backfill: Command = {
  name: 'backfill',
  usage: 'tickwork backfill <id> (--from <t> | --since <d>) [--to <t>] [--concurrency <n>] [--dry-run]',
  summary: "Run a task's slots over a past range, one run per slot (trigger backfill)",
  details: `  --from <t>         first instant of the range (ISO 8601), or
  --since <d>        the range starts this long ago: 90m, 24h, 7d...
  --to <t>           last instant of the range (default now)
  --concurrency <n>  backfill runs at once, 1-10 (default 1; more only under overlap allow)
  --dry-run          list the slots and their idempotency keys; queue nothing
  Each run's scheduledFor is its slot, so ctx.idempotencyKey is the slot's. At most 1000 slots.`,
  options: {
    from: { type: 'string' },
    since: { type: 'string' },
    to: { type: 'string' },
    concurrency: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  args: 1,
  async run(ctx, [id], values) {
    const since = text(values.since);
    const fromFlag = text(values.from);
    if ((since === undefined) === (fromFlag === undefined))
      throw new UsageError('give --from or --since (one of them)');
    const from = since === undefined ? (fromFlag as string) : sinceInstant(since);
    const to = text(values.to) ?? new Date().toISOString();
    const concurrency = int(values.concurrency, 'concurrency');
    const dryRun = values['dry-run'] === true;
    const result = await ctx.client().backfill(id as string, {
      from,
      to,
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(dryRun ? { dryRun } : {}),
    });
    emit(ctx, result, () => {
      const slots = table(
        ['slot', 'idempotency key'],
        result.slots.map((s) => [s.scheduledFor, s.idempotencyKey]),
      );
      if (result.dryRun) return `${slots}\n${result.count} slots would run (dry run: nothing queued)`;
      if (result.backfillId === null) return 'no slot in that range: nothing to backfill';
      return `${slots}\nbackfill ${result.backfillId} started: ${result.count} slots, ${concurrency ?? 1} at a time`;
    });
    return 0;
  },
};

export const backfillCommands: Command[] = [backfill];
