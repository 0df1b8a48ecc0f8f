/**
 * The batched task save behind `DynamoTaskStore.saveTasks`: PartiQL `BatchExecuteStatement`s of
 * up to 25 conditional `UPDATE`s, one request instead of 25, each statement its own
 * compare-and-set on the task's version and billed as that single write.
 */
import { randomUUID } from 'node:crypto';
import { type AttributeValue, BatchExecuteStatementCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { convertToAttr } from '@aws-sdk/util-dynamodb';
import type { TaskState } from '../core/model.js';
import type { SaveTaskResult } from '../core/ports.js';
import { attr, type Item, optionalTaskAttributes, taskFromItem } from './dynamo-items.js';
import { BATCH_WRITE_SIZE, send, WRITE_ID } from './dynamo-support.js';

/** One task to save, if the stored one is at `expectedVersion`. */
export interface BatchedSave {
  task: TaskState;
  expectedVersion: number;
}

/** Where and how the batches write. */
export interface BatchSaveTarget {
  doc: DynamoDBDocumentClient;
  tableName: string;
  /** The task's item as the store writes it. */
  itemOf: (task: TaskState) => Item;
  /** Saves one task on its own: for a statement that failed for another reason than a lost race. */
  saveOne: (save: BatchedSave) => Promise<SaveTaskResult>;
}

/** A table or attribute name as a PartiQL identifier. */
function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The `writeId` of an item a failed statement returned, raw or unmarshalled. */
function writeIdOf(item: Record<string, unknown> | undefined): string | undefined {
  const value = item?.[WRITE_ID];
  if (typeof value === 'string') return value;
  return (value as AttributeValue | undefined)?.S;
}

/**
 * Saves tasks 25 to a request, the requests at once; the results in the order of `saves`. The
 * caller has checked the saves (distinct tasks, each at its next version).
 */
export async function saveInBatches(
  target: BatchSaveTarget,
  saves: BatchedSave[],
): Promise<SaveTaskResult[]> {
  const chunks: BatchedSave[][] = [];
  for (let i = 0; i < saves.length; i += BATCH_WRITE_SIZE) chunks.push(saves.slice(i, i + BATCH_WRITE_SIZE));
  return (await Promise.all(chunks.map((chunk) => saveChunk(target, chunk)))).flat();
}

/** The statement and parameters of one task's conditional UPDATE. */
function updateStatement(tableName: string, item: Item, expectedVersion: number) {
  const sets = Object.entries(item).filter(([name]) => name !== attr.pk && name !== attr.sk);
  const removes = optionalTaskAttributes.filter((name) => item[name] === undefined);
  const statement = [
    `UPDATE ${quoteName(tableName)}`,
    ...sets.map(([name]) => `SET ${quoteName(name)} = ?`),
    ...removes.map((name) => `REMOVE ${quoteName(name)}`),
    `WHERE ${quoteName(attr.pk)} = ? AND ${quoteName(attr.sk)} = ? AND ${quoteName(attr.version)} = ?`,
  ].join(' ');
  return {
    Statement: statement,
    // Marshalled here: the document client's wrapper of this command fails to read back
    // the item a failed statement returns.
    Parameters: [...sets.map(([, value]) => value), item[attr.pk], item[attr.sk], expectedVersion].map(
      (value) => convertToAttr(value, { removeUndefinedValues: true }),
    ),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/**
 * One BatchExecuteStatement: per task an UPDATE that sets every attribute of its new item and
 * removes the optional ones it lacks, if the stored version is the expected one. A statement
 * that fails for any reason but a lost compare-and-set (throttling, say) is sent again on its
 * own through `saveOne`, with the SDK's retries; if that fails too, its result says so
 * (`unavailable`) and the rest of the batch keeps its results.
 */
async function saveChunk(target: BatchSaveTarget, chunk: BatchedSave[]): Promise<SaveTaskResult[]> {
  const prepared = chunk.map(({ task, expectedVersion }) => {
    const writeId = randomUUID();
    const item: Item = { ...target.itemOf(task), [WRITE_ID]: writeId };
    return { item, writeId, request: updateStatement(target.tableName, item, expectedVersion) };
  });
  const out = await send(
    target.doc,
    new BatchExecuteStatementCommand({ Statements: prepared.map((p) => p.request) }),
  );
  const responses = out.Responses ?? [];
  return Promise.all(
    prepared.map(async ({ item, writeId }, i): Promise<SaveTaskResult> => {
      const error = responses[i]?.Error;
      if (!error) return { saved: true, task: taskFromItem(item) };
      if (error.Code === 'ConditionalCheckFailed') {
        // Our own write, applied by an attempt whose answer was lost and then sent again.
        return writeIdOf(error.Item) === writeId
          ? { saved: true, task: taskFromItem(item) }
          : { saved: false, reason: 'version' };
      }
      // A failure of this one save must not take the batch's other saves with it: they landed,
      // and their runs must be invoked.
      return target.saveOne(chunk[i] as BatchedSave).catch(
        (failure: unknown): SaveTaskResult => ({
          saved: false,
          reason: 'unavailable',
          message: (failure as Error)?.message ?? String(failure),
        }),
      );
    }),
  );
}
