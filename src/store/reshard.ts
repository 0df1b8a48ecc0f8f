/**
 * Changing the due index's shard count on a live table.
 *
 * A task's shard key is `shardOf(id, shardCount)`, written at every save. So a store with a new
 * count writes each task it saves under its new key, and tasks move as they are rewritten. What
 * is left is what the tick reads meanwhile:
 *
 * - **More shards** (4 -> 16): the old keys `"0"`..`"3"` are among the new ones; a tick over the
 *   new count reads every task wherever it sits. Nothing else is needed.
 * - **Fewer shards** (16 -> 4): the keys `"4"`..`"15"` would no longer be read. A store given
 *   `formerShardCount: 16` reads, for shard `s`, every key `k < 16` with `k % 4 === s`
 *   (`dueKeysOf`): each old key is read by exactly one new shard, so by one shard group.
 *
 * `reshard-keys.ts` holds that rule; {@link reshardDueIndex} then moves every task still under a key of another count, so that
 * `formerShardCount` can be dropped. Each move is a compare-and-set on the task's index keys as
 * read (the keys-only index holds nothing else): a task a tick rewrote under another key
 * meanwhile is left as that tick wrote it. The lease of a run is never in the
 * shard key, so nothing a move touches can start a run twice.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { shardOf } from '../core/due.js';
import { attr, type Item, keys } from './dynamo-items.js';
import { isConditionFailure, queryPages, send } from './dynamo-support.js';
import { MAX_SHARD_COUNT } from './reshard-keys.js';
import { tableDefinition } from './table-definition.js';

/** What {@link reshardDueIndex} did. */
export interface ReshardReport {
  /** Due-index entries read (every task with something to do). */
  read: number;
  /**
   * Misplaced tasks due within the horizon, left where they are: a tick may be reading them now,
   * and their next dispatch writes them under the new count anyway. Run again if not zero.
   */
  deferred: number;
  /** Tasks moved to their key under the new count. */
  moved: number;
  /** Tasks a tick or the API rewrote between the read and the move: already where their writer put them. */
  raced: number;
}

/**
 * Moves every task of the due index whose shard key is not its key under `shardCount` and that
 * is not due within `horizonMs`, one conditional update each (`dueShard` only, if the task's
 * index keys are still those read). Tasks due sooner are rewritten by their dispatch.
 * Reads every key from `"0"` to `"63"`, so it needs no memory of the old count. Safe to run while
 * ticks run, and again: a second run moves nothing. Run it once every function uses the new count.
 */
export async function reshardDueIndex(options: {
  doc: DynamoDBDocumentClient;
  tableName: string;
  shardCount: number;
  /** The instant the horizon counts from. @default now */
  now?: Date;
  /** Tasks due sooner than this are left to their own dispatch. @default two minutes */
  horizonMs?: number;
  /** Progress, one line per key that held misplaced tasks. */
  log?: (line: string) => void;
}): Promise<ReshardReport> {
  const { doc, tableName, shardCount } = options;
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARD_COUNT) {
    throw new RangeError(`shardCount must be a whole number from 1 to ${MAX_SHARD_COUNT}, not ${shardCount}`);
  }
  const horizon = (options.now ?? new Date()).getTime() + (options.horizonMs ?? 120_000);
  const report: ReshardReport = { read: 0, deferred: 0, moved: 0, raced: 0 };
  for (let key = 0; key < MAX_SHARD_COUNT; key++) {
    const before = report.moved + report.raced;
    const pages = queryPages(doc, {
      TableName: tableName,
      IndexName: tableDefinition.dueIndex.indexName,
      KeyConditionExpression: '#shard = :shard',
      ExpressionAttributeNames: { '#shard': attr.dueShard },
      ExpressionAttributeValues: { ':shard': String(key) },
    });
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        report.read++;
        const target = shardOf(String(item[attr.pk]).slice(keys.task('').pk.length), shardCount);
        if (target === key) continue;
        // A tick reads the keys of its shards one after another: a task moved between two of
        // those reads would be missed for a minute. Only tasks no tick is about to read move.
        if ((item[attr.dueAt] as number) <= horizon) {
          report.deferred++;
          continue;
        }
        if (await moveTask(doc, tableName, item, target)) report.moved++;
        else report.raced++;
      }
    }
    const touched = report.moved + report.raced - before;
    if (touched > 0) options.log?.(`key ${key}: ${touched} task(s) to their shard under ${shardCount}`);
  }
  return report;
}

/** Sets one task's shard key to `target` if it is still the item that was read. */
async function moveTask(doc: DynamoDBDocumentClient, tableName: string, item: Item, target: number) {
  try {
    await send(
      doc,
      new UpdateCommand({
        TableName: tableName,
        Key: { [attr.pk]: item[attr.pk], [attr.sk]: item[attr.sk] },
        UpdateExpression: 'SET #shard = :target',
        ConditionExpression: '#shard = :read AND #dueAt = :dueAt',
        ExpressionAttributeNames: { '#shard': attr.dueShard, '#dueAt': attr.dueAt },
        ExpressionAttributeValues: {
          ':target': String(target),
          ':read': item[attr.dueShard],
          ':dueAt': item[attr.dueAt],
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}
