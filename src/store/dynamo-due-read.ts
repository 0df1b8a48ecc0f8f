/**
 * The tick's read of one due-index shard on DynamoDB. The `due2` index projects keys only (so a
 * dispatch that keeps a task's index key costs the index nothing), so each page of the index is
 * followed by BatchGetItem of the task records it names, eventually consistent, while the next
 * page is read. Eventually consistent is enough: the index itself is, and every write the tick
 * makes from what it read is a compare-and-set on the task's `version`, so a stale record loses
 * its write and is read again at the next tick.
 *
 * While the keys-only index cannot be read (a table upgraded from 0.2 whose `due2` is still
 * backfilling, or not created yet), the shard is read from the former `due` index instead.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import pLimit from 'p-limit';
import { attr, type Item, type ItemKey, keyOf } from './dynamo-items.js';
import { BATCH_GET_SIZE, batchGet, errorName, queryPages } from './dynamo-support.js';
import { tableDefinition } from './table-definition.js';

/** BatchGetItem requests in flight at once per shard read (each up to 100 records). */
const GETS_IN_FLIGHT = 8;

/** A Query of an index that does not exist yet, or is still backfilling. */
function isIndexUnreadable(error: unknown): boolean {
  return (
    errorName(error) === 'ValidationException' &&
    /backfilling|does not have the specified index/i.test((error as Error).message)
  );
}

/**
 * The task items of the due index's shard keys `dueKeys` whose due instant is at or before
 * `now`, oldest first, with the number of records read. A record that changed since the index
 * saw it is left out when it is no longer due (another tick dispatched it), as is a deleted one.
 */
export async function readDueItems(
  doc: DynamoDBDocumentClient,
  tableName: string,
  dueKeys: readonly number[],
  now: Date,
  limit: number | undefined,
): Promise<{ items: Item[]; recordsRead: number }> {
  try {
    return await readIndex(doc, tableName, tableDefinition.dueIndex.indexName, dueKeys, now, limit);
  } catch (error) {
    if (!isIndexUnreadable(error)) throw error;
    return readIndex(doc, tableName, tableDefinition.formerDueIndex.indexName, dueKeys, now, limit);
  }
}

async function readIndex(
  doc: DynamoDBDocumentClient,
  tableName: string,
  indexName: string,
  dueKeys: readonly number[],
  now: Date,
  limit: number | undefined,
): Promise<{ items: Item[]; recordsRead: number }> {
  const gets = pLimit(GETS_IN_FLIGHT);
  const pending: Promise<Item[]>[] = [];
  // Index order: oldest first within a key, key after key.
  const order: ItemKey[] = [];
  for (const key of dueKeys) {
    const pages = queryPages(
      doc,
      {
        TableName: tableName,
        IndexName: indexName,
        KeyConditionExpression: '#shard = :shard AND #dueAt <= :now',
        ExpressionAttributeNames: { '#shard': attr.dueShard, '#dueAt': attr.dueAt },
        ExpressionAttributeValues: { ':shard': String(key), ':now': now.getTime() },
      },
      { limit },
    );
    for await (const page of pages) {
      const pageKeys = (page.Items ?? []).map(keyOf);
      order.push(...pageKeys);
      for (let i = 0; i < pageKeys.length; i += BATCH_GET_SIZE) {
        const chunk = pageKeys.slice(i, i + BATCH_GET_SIZE);
        pending.push(gets(() => batchGet(doc, tableName, chunk)));
      }
    }
  }
  const records = (await Promise.all(pending)).flat();
  const byKey = new Map(records.map((item) => [`${String(item.pk)}\u0000${String(item.sk)}`, item]));
  const shards = new Set(dueKeys.map(String));
  const items = order.flatMap((k) => {
    const item = byKey.get(`${k.pk}\u0000${k.sk}`);
    const dueAt = item?.[attr.dueAt];
    const due = typeof dueAt === 'number' && dueAt <= now.getTime();
    return item && due && shards.has(item[attr.dueShard] as string) ? [item] : [];
  });
  if (dueKeys.length > 1) items.sort((a, b) => (a[attr.dueAt] as number) - (b[attr.dueAt] as number));
  return { items: limit === undefined ? items : items.slice(0, limit), recordsRead: records.length };
}
