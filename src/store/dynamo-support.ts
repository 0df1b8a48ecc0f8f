/**
 * Generic DynamoDB plumbing for the store's adapter: sending a command (and translating DynamoDB's
 * throttling into the core's {@link StoreUnavailableError}), reading the item a failed
 * condition returned, `SET` expressions with placeholder names, paged Query, and batch reads and
 * deletes that retry what DynamoDB left unprocessed. Nothing here knows Tickwork's item layout.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/lib-dynamodb';
import type { Command } from '@smithy/types';
import { StoreUnavailableError } from '../core/errors.js';
import type { Item, ItemKey } from './dynamo-items.js';

type DocumentCommand = Parameters<DynamoDBDocumentClient['send']>[0];
type DocumentConfig =
  DocumentCommand extends Command<
    ServiceInputTypes,
    ServiceInputTypes,
    ServiceOutputTypes,
    ServiceOutputTypes,
    infer Config
  >
    ? Config
    : never;

/**
 * Sends one command through the document client (plain and document commands alike). Every call
 * of the store goes through here, so this is where DynamoDB's "busy, try again" errors become
 * {@link StoreUnavailableError} (see {@link translateError}).
 */
export async function send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
  doc: DynamoDBDocumentClient,
  command: Command<ServiceInputTypes, I, ServiceOutputTypes, O, DocumentConfig>,
): Promise<O> {
  try {
    return await doc.send(command);
  } catch (error) {
    throw translateError(error);
  }
}

/**
 * DynamoDB errors that mean "busy or failing for a while", not "refused": thrown once the SDK's
 * own retries are spent.
 */
const unavailableNames = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'ServiceUnavailable',
  'InternalServerError',
  'TooManyRequestsException',
  'TransactionConflictException',
]);
/** Cancellation reasons of a transaction that mean the same. */
const throttlingReasons = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded']);

/**
 * A throttling or service error as a {@link StoreUnavailableError} (the original as its cause),
 * and so is a transaction cancelled by throttling alone (every reason throttling or `None`).
 * Anything else, a lost condition included, comes back as it was.
 */
export function translateError(error: unknown): unknown {
  const name = errorName(error);
  if (name === undefined) return error;
  const unavailable = () =>
    new StoreUnavailableError(`the task store is unavailable (DynamoDB ${name}); retry later`, {
      cause: error,
    });
  if (unavailableNames.has(name)) return unavailable();
  if (name === 'TransactionCanceledException') {
    const reasons = ((error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map(
      (reason) => reason.Code ?? 'None',
    );
    const throttled = reasons.filter((code) => throttlingReasons.has(code));
    if (throttled.length > 0 && reasons.every((code) => code === 'None' || throttlingReasons.has(code))) {
      return unavailable();
    }
  }
  return error;
}

/**
 * Internal attribute: a nonce per conditional write, to recognise our own write when the SDK (or
 * a batch sent again) retried it after its answer was lost.
 */
export const WRITE_ID = 'writeId';

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

/** A conditional write lost: `Item` is what it found, when the write asked for `ALL_OLD`. */
export function isConditionFailure(
  error: unknown,
): error is Error & { Item?: Record<string, AttributeValue> } {
  return errorName(error) === 'ConditionalCheckFailedException';
}

/** Converts a raw attribute value (as in `ConditionalCheckFailedException.Item`) to a plain value. */
export function fromAttributeValue(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return Number(value.N);
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL !== undefined) return null;
  if (value.M !== undefined) return fromRawItem(value.M);
  if (value.L !== undefined) return value.L.map(fromAttributeValue);
  if (value.B !== undefined) return value.B;
  if (value.SS !== undefined) return new Set(value.SS);
  if (value.NS !== undefined) return new Set(value.NS.map(Number));
  if (value.BS !== undefined) return new Set(value.BS);
  throw new Error('unsupported attribute value');
}

export function fromRawItem(raw: Record<string, AttributeValue>): Item {
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, fromAttributeValue(v)]));
}

/** The item a failed condition saw (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), if any. */
export function oldItemOf(error: { Item?: Record<string, AttributeValue> }): Item | undefined {
  return error.Item && Object.keys(error.Item).length > 0 ? fromRawItem(error.Item) : undefined;
}

/** Builds `SET` clauses with placeholder names, so no attribute ever collides with a reserved word. */
export class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Record<string, unknown> = {};
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];
  private n = 0;

  name(attribute: string): string {
    const placeholder = `#${attribute.replace(/[^A-Za-z0-9_]/g, '_')}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }
  value(value: unknown): string {
    const placeholder = `:v${this.n++}`;
    this.values[placeholder] = value;
    return placeholder;
  }
  set(attributes: Item, options: { ifAbsent?: boolean } = {}): this {
    for (const [attribute, value] of Object.entries(attributes)) {
      const n = this.name(attribute);
      const v = this.value(value);
      this.sets.push(options.ifAbsent ? `${n} = if_not_exists(${n}, ${v})` : `${n} = ${v}`);
    }
    return this;
  }
  /** Attributes to remove (absent ones are no error). */
  remove(...attributes: string[]): this {
    for (const attribute of attributes) this.removes.push(this.name(attribute));
    return this;
  }
  get expression(): string {
    const remove = this.removes.length > 0 ? ` REMOVE ${this.removes.join(', ')}` : '';
    return `SET ${this.sets.join(', ')}${remove}`;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise<void>((done) => setTimeout(done, ms));
/** Full-jitter-ish exponential backoff: 25 ms doubling per attempt, capped at 1 s, 50-100% of it. */
export const backoffMs = (attempt: number): number =>
  Math.min(1000, 25 * 2 ** attempt) * (0.5 + Math.random() / 2);

/** DynamoDB's limits per BatchGetItem and per BatchWriteItem / BatchExecuteStatement. */
export const BATCH_GET_SIZE = 100;
export const BATCH_WRITE_SIZE = 25;
/** Requests per batch before what DynamoDB keeps leaving unprocessed is an error. */
const BATCH_ATTEMPTS = 8;

/**
 * Every page of a Query, following `LastEvaluatedKey` from `input.ExclusiveStartKey`. With
 * `limit`, each page asks for no more than is left and the pages stop once `limit` items came.
 */
export async function* queryPages(
  doc: DynamoDBDocumentClient,
  input: QueryCommandInput,
  options: { limit?: number } = {},
): AsyncGenerator<QueryCommandOutput> {
  const { limit } = options;
  let start = input.ExclusiveStartKey;
  let read = 0;
  do {
    const page = await send(
      doc,
      new QueryCommand({
        ...input,
        ExclusiveStartKey: start,
        Limit: limit === undefined ? input.Limit : limit - read,
      }),
    );
    read += page.Items?.length ?? 0;
    yield page;
    start = page.LastEvaluatedKey;
  } while (start && (limit === undefined || read < limit));
}

/** Every item a Query matches, all pages. */
export async function queryAll(doc: DynamoDBDocumentClient, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  for await (const page of queryPages(doc, input)) items.push(...(page.Items ?? []));
  return items;
}

/**
 * The items of `wanted` that exist, in no particular order: BatchGetItem 100 keys at a time,
 * asking again (with backoff) for the keys DynamoDB left unprocessed.
 */
export async function batchGet(
  doc: DynamoDBDocumentClient,
  tableName: string,
  wanted: ItemKey[],
  options: { consistentRead?: boolean } = {},
): Promise<Item[]> {
  type Requests = NonNullable<ConstructorParameters<typeof BatchGetCommand>[0]['RequestItems']>;
  const found: Item[] = [];
  for (let i = 0; i < wanted.length; i += BATCH_GET_SIZE) {
    const batch = wanted.slice(i, i + BATCH_GET_SIZE);
    let requests: Requests = {
      [tableName]: { Keys: batch, ...(options.consistentRead ? { ConsistentRead: true } : {}) },
    };
    for (let attempt = 0; ; attempt++) {
      const out = await send(doc, new BatchGetCommand({ RequestItems: requests }));
      found.push(...(out.Responses?.[tableName] ?? []));
      const left = out.UnprocessedKeys?.[tableName];
      if (!left?.Keys || left.Keys.length === 0) break;
      if (attempt + 1 >= BATCH_ATTEMPTS) {
        throw new Error(`could not read ${left.Keys.length} items: DynamoDB kept them unprocessed`);
      }
      requests = { [tableName]: left };
      await sleep(backoffMs(attempt));
    }
  }
  return found;
}

/** Deletes up to 25 items in one BatchWriteItem, sending again what DynamoDB left unprocessed. */
export async function batchDelete(
  doc: DynamoDBDocumentClient,
  tableName: string,
  batch: ItemKey[],
): Promise<void> {
  type Requests = NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>;
  let requests: Requests = { [tableName]: batch.map((key) => ({ DeleteRequest: { Key: key } })) };
  for (let attempt = 0; attempt < BATCH_ATTEMPTS; attempt++) {
    const out = await send(doc, new BatchWriteCommand({ RequestItems: requests }));
    const left = out.UnprocessedItems?.[tableName];
    if (!left || left.length === 0) return;
    requests = { [tableName]: left };
    await sleep(backoffMs(attempt));
  }
  throw new Error(`could not delete ${batch.length} items: DynamoDB kept them unprocessed`);
}
