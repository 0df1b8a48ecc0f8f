/**
 * Paging over the run index (`table-definition.ts` `runIndex`), the same for both stores: which
 * partitions a query reads, the run-id bounds of its time range, its page token, and the merge of
 * the partitions into one list, newest first.
 *
 * Every partition (`<status>#<shard>`) is sorted by run id, a ULID, so by creation time. A page
 * reads each partition a little at a time and merges them: a run is emitted only once every
 * partition has read past it (the frontier), so the order is exact, and the items read grow with
 * the page and the number of partitions, never with the history.
 */
import { encodeTime } from 'ulid';
import { ValidationError } from '../core/errors.js';
import { RunStatus } from '../core/model.js';
import type { Page, RunQuery, RunSummary, StoreUsage } from '../core/ports.js';
import { type Item, runSummaryFromItem } from './dynamo-items.js';
import { RUN_INDEX_SHARDS } from './table-definition.js';

/** Below every run id (ids start with a letter or digit). */
export const LOWEST_RUN_KEY = '0';
/** Above every run id. */
export const HIGHEST_RUN_KEY = '~';

/** The partitions a query reads: each asked-for state (all of them by default) times each shard. */
export function runPartitions(statuses: readonly RunStatus[] | undefined): string[] {
  const wanted = statuses && statuses.length > 0 ? [...new Set(statuses)] : Object.values(RunStatus);
  return wanted.flatMap((status) =>
    Array.from({ length: RUN_INDEX_SHARDS }, (_, shard) => `${status}#${shard}`),
  );
}

/** The inclusive run-id range of a query: its time range, narrowed by its page token. */
export function runKeyRange(query: Pick<RunQuery, 'from' | 'to' | 'nextToken'>): {
  above: string;
  below: string;
} {
  const above = query.from ? `${encodeTime(query.from.getTime())}${'0'.repeat(16)}` : LOWEST_RUN_KEY;
  let below = query.to ? `${encodeTime(query.to.getTime())}${'Z'.repeat(16)}` : HIGHEST_RUN_KEY;
  if (query.nextToken !== undefined) {
    const after = decodeRunToken(query.nextToken);
    if (after < below) below = after;
  }
  return { above, below };
}

/** The page token: the run id the next page starts below. */
export function encodeRunToken(runId: string): string {
  return Buffer.from(JSON.stringify({ below: runId }), 'utf8').toString('base64url');
}

function decodeRunToken(token: string): string {
  const invalid = new ValidationError([{ field: 'nextToken', message: 'is not a token this list returned' }]);
  if (!/^[A-Za-z0-9_-]{1,512}$/.test(token)) throw invalid;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const below = (parsed as { below?: unknown } | null)?.below;
    if (typeof below === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(below)) return below;
  } catch {
    // falls through to the same answer as any other token that is not ours
  }
  throw invalid;
}

/** What one read of one partition gave: the matching items and where it stopped. */
export interface PartitionRead {
  /** Items that passed the query's filters, newest first. */
  items: Item[];
  /** The last run id the read evaluated, when the partition has more below it. */
  last?: string;
  /** Index items evaluated (filtered out or not): what the read cost. */
  evaluated: number;
}

/**
 * Reads up to `limit` index items of `part` with run ids in `[above, below]`, newest first, and
 * applies the query's filters. The item whose run id is `below` is left out by the merge.
 */
export type ReadPartition = (
  part: string,
  range: { above: string; below: string },
  limit: number,
) => Promise<PartitionRead>;

interface Cursor {
  part: string;
  below: string;
  chunk: number;
  done: boolean;
  items: Item[];
}

const runIdOf = (item: Item) => String(item.runId);

/**
 * One page of the merged partitions, newest first, and the run id the next page starts below.
 * Reads each partition `ceil(limit / partitions) + 1` items first, then more (doubling) only from
 * the partition that holds the frontier back, and stops once `limit` runs are ready or the read
 * budget (4 × limit + 2 per partition) is spent: then the page is short but has a token.
 */
export async function mergeRunPartitions(
  parts: string[],
  read: ReadPartition,
  options: { limit: number; above: string; below: string },
): Promise<{ items: Item[]; next?: string; evaluated: number }> {
  const { limit, above } = options;
  const first = Math.ceil(limit / parts.length) + 1;
  const cursors: Cursor[] = parts.map((part) => ({
    part,
    below: options.below,
    chunk: first,
    done: false,
    items: [],
  }));
  const budget = 4 * limit + 2 * parts.length;
  let evaluated = 0;
  const fetch = async (cursor: Cursor) => {
    const got = await read(cursor.part, { above, below: cursor.below }, cursor.chunk);
    evaluated += got.evaluated;
    cursor.items.push(...got.items.filter((item) => runIdOf(item) !== cursor.below));
    if (got.last === undefined || got.last <= above) cursor.done = true;
    else cursor.below = got.last;
    cursor.chunk = Math.min(cursor.chunk * 2, 100);
  };
  await Promise.all(cursors.map(fetch));
  for (;;) {
    const open = cursors.filter((c) => !c.done);
    const frontier = open.reduce<string | undefined>(
      (max, c) => (max === undefined || c.below > max ? c.below : max),
      undefined,
    );
    const ready = cursors
      .flatMap((c) => c.items)
      .filter((item) => frontier === undefined || runIdOf(item) >= frontier);
    if (ready.length >= limit || frontier === undefined || evaluated >= budget) {
      ready.sort((a, b) => (runIdOf(a) < runIdOf(b) ? 1 : -1));
      const items = ready.slice(0, limit);
      if (ready.length > limit) return { items, next: runIdOf(items[items.length - 1] as Item), evaluated };
      return frontier === undefined ? { items, evaluated } : { items, next: frontier, evaluated };
    }
    await fetch(open.find((c) => c.below === frontier) as Cursor);
  }
}

/**
 * A page of `GET /runs` from either store: the query's partitions merged (`mergeRunPartitions`)
 * through the store's own partition read, as run summaries with the next page's token.
 */
export async function pageOfRuns(
  query: RunQuery,
  read: ReadPartition,
  range: { above: string; below: string },
): Promise<Page<RunSummary> & { usage: StoreUsage }> {
  const page = await mergeRunPartitions(runPartitions(query.statuses), read, {
    limit: query.limit,
    ...range,
  });
  const items = page.items.map(runSummaryFromItem);
  const usage = { itemsRead: page.evaluated, writes: 0 };
  return page.next === undefined ? { items, usage } : { items, nextToken: encodeRunToken(page.next), usage };
}
