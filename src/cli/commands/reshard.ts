/**
 * `tickwork reshard`: the last step of lowering (or raising) the due index's shard count of a
 * live table: moves every task still under a key of another count (docs/scaling.md, "Changing the
 * shard count"). Talks to DynamoDB, not to the API: it needs the table's credentials.
 */
import { int, text, UsageError } from '../args.js';
import type { Command } from '../command.js';
import { emit } from '../print.js';

const reshard: Command = {
  name: 'reshard',
  usage: 'tickwork reshard --table <name> --shards <n> [--dynamodb-endpoint <url>] [--region <region>]',
  summary: 'Move every task to its due-index shard under a new shard count (talks to DynamoDB)',
  details: `  --table <name>            the Tickwork table
  --shards <n>              the new shard count (1-64), as every function now uses it
  --dynamodb-endpoint <url> a DynamoDB endpoint (DynamoDB Local) instead of AWS's
  --region <region>         the table's Region (default: the AWS SDK's, e.g. AWS_REGION)
  Run it once every function uses the new count; tasks due within two minutes are left to their
  own dispatch (reported as deferred): run it again until none is. Safe while ticks run.`,
  options: {
    table: { type: 'string' },
    shards: { type: 'string' },
    'dynamodb-endpoint': { type: 'string' },
  },
  args: 0,
  async run(ctx, _args, values) {
    const table = text(values.table);
    if (!table) throw new UsageError('--table is required');
    const shardCount = int(values.shards, 'shards');
    if (shardCount === undefined || shardCount < 1 || shardCount > 64) {
      throw new UsageError(`--shards: a whole number from 1 to 64, got ${text(values.shards) ?? 'nothing'}`);
    }
    const endpoint = text(values['dynamodb-endpoint']);
    const region = text(values.region);
    const { reshardTable } = await import('../../local/reshard.js');
    const report = await reshardTable({
      table,
      shardCount,
      ...(endpoint ? { endpoint } : {}),
      ...(region ? { region } : {}),
      ...(ctx.structured ? {} : { log: (line: string) => ctx.io.err(line) }),
    });
    emit(ctx, report, () =>
      [
        `read ${report.read} due-index entries; moved ${report.moved}, left ${report.deferred} due within two minutes,`,
        `${report.raced} rewritten meanwhile by a tick or the API.`,
        report.deferred > 0
          ? 'Run it again to move the ones left.'
          : 'Every task is under its key for this count.',
      ].join('\n'),
    );
    return 0;
  },
};

/** The table maintenance commands. */
export const reshardCommands: Command[] = [reshard];
