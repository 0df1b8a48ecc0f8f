/** The one table, and the store's permissions on it. */
import { RemovalPolicy } from 'aws-cdk-lib';
import {
  type Attribute,
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { keys } from '../src/store/dynamo-items.js';
import { globalIndexes, type KeyAttribute, tableDefinition } from '../src/store/table-definition.js';
import type { TickworkProps } from './props.js';

function attribute(key: KeyAttribute): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/**
 * The table (construct id `Table`), built from the one shared definition: keys, every index, TTL;
 * encrypted with the customer's key when `encryptionKey` is given.
 */
export function buildTable(scope: Construct, props: TickworkProps): Table {
  const table = new Table(scope, 'Table', {
    ...(props.tableName ? { tableName: props.tableName } : {}),
    partitionKey: attribute(tableDefinition.partitionKey),
    sortKey: attribute(tableDefinition.sortKey),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: tableDefinition.ttlAttribute,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    // Without a key of the customer's, DynamoDB's default: the AWS-owned key (no SSE property).
    ...(props.encryptionKey
      ? { encryption: TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.encryptionKey }
      : {}),
  });
  const indexes: ReturnType<typeof globalIndexes> = props.keepFormerDueIndex
    ? [...globalIndexes(), { ...tableDefinition.formerDueIndex }]
    : globalIndexes();
  for (const index of indexes) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: attribute(index.sortKey),
      projectionType:
        index.projection === 'ALL'
          ? ProjectionType.ALL
          : index.projection === 'INCLUDE'
            ? ProjectionType.INCLUDE
            : ProjectionType.KEYS_ONLY,
      ...(index.nonKeyAttributes ? { nonKeyAttributes: [...index.nonKeyAttributes] } : {}),
    });
  }
  return table;
}

/** Who uses the store: each has its own actions (see {@link storeAccess}). */
export type StoreRole = 'tick' | 'api' | 'task';

/** One statement of a role's access: actions on the table, or on one of its indexes. */
export interface StoreStatement {
  readonly actions: readonly string[];
  /** The index the actions apply to (by name); the table itself when absent. */
  readonly index?: string;
  /**
   * The partitions (`pk` patterns) the actions may touch, as a `dynamodb:LeadingKeys` condition;
   * any partition when absent.
   */
  readonly partitions?: readonly string[];
}

/** Task items and their runs: `TASK#<id>`. */
export const TASK_PARTITIONS = `${keys.task('').pk}*`;
/** The scheduler's state. */
export const SCHEDULER_PARTITION = keys.scheduler().pk;

/** Reads of any item of the table: tasks, runs, the type registry, the scheduler's state. */
const TABLE_READS: StoreStatement = {
  actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
};

/**
 * Each role's DynamoDB actions, from the store methods it calls (`src/store/dynamo-task-store.ts`).
 * A transaction (`TransactWriteItems`) is authorised item by item as `PutItem` / `UpdateItem`, a
 * PartiQL `UPDATE` as `PartiQLUpdate`. Only the deploy writes the type registry (`TYPES`): no
 * function's writes reach it, and a task function's reach task partitions only.
 *
 * - tick: `queryDue` (the `due2` index, the former `due` while `due2` backfills), `listTaskTypes` (Query), `getRuns` and `getTasks` (BatchGetItem),
 *   `getTask` (GetItem), `saveTask` (PutItem, or a transaction of Put and Update), `saveTasks`
 *   (PartiQL UPDATEs), `requestCancel` (UpdateItem, PutItem), `updateSchedulerState` (UpdateItem);
 *   the backfill pump: `listBackfills` (Query), `saveBackfill` (PutItem), `deleteBackfill`
 *   (DeleteItem, the `SCHEDULER` partition only); `listLapsedRuns` (the `runs` index).
 * - API: the tick's reads but the `tasks` and `runs` indexes instead of `due` (`listTasks`,
 *   `listRunsAcross`), backfill jobs (PutItem, DeleteItem on `SCHEDULER`), `listRuns`
 *   (Query), `createTask`, `saveTask`, `requestCancel`, `updateSchedulerState`, and `deleteTask`
 *   (DeleteItem, then the run history by Query and BatchWriteItem); no PartiQL.
 * - task function (the task SDK): `claimRun` (PutItem, GetItem when the claim loses),
 *   `heartbeat` and `completeRun` (UpdateItem), settling (`getTask`: GetItem; `saveTask`: PutItem,
 *   or a transaction of Put and Update). No Query, no index, no delete, no batch.
 */
export const storeAccess: Record<StoreRole, readonly StoreStatement[]> = {
  tick: [
    TABLE_READS,
    { actions: ['dynamodb:Query'], index: tableDefinition.dueIndex.indexName },
    // Read only while `due2` backfills on a table upgraded from 0.2 (`keepFormerDueIndex`).
    { actions: ['dynamodb:Query'], index: tableDefinition.formerDueIndex.indexName },
    // Lapsed `running` records (the run index's `running` partitions).
    { actions: ['dynamodb:Query'], index: tableDefinition.runIndex.indexName },
    {
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
      partitions: [TASK_PARTITIONS, SCHEDULER_PARTITION],
    },
    // A backfill job whose every slot is queued (`src/tick/backfill.ts`).
    { actions: ['dynamodb:DeleteItem'], partitions: [SCHEDULER_PARTITION] },
    // The batched compare-and-sets (BatchExecuteStatement): updates only, on the table only.
    { actions: ['dynamodb:PartiQLUpdate'] },
  ],
  api: [
    TABLE_READS,
    { actions: ['dynamodb:Query'], index: tableDefinition.taskIndex.indexName },
    // `GET /runs`: runs across tasks.
    { actions: ['dynamodb:Query'], index: tableDefinition.runIndex.indexName },
    {
      actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
      partitions: [TASK_PARTITIONS, SCHEDULER_PARTITION],
    },
  ],
  task: [
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      partitions: [TASK_PARTITIONS],
    },
  ],
};

/** The access the store needs on a table. */
export interface StoreTarget {
  readonly table: Table;
  /** The table's customer-managed key, when it has one. */
  readonly encryptionKey?: IKey | undefined;
}

/**
 * Grants `grantee` the role's statements on the table (no wildcard action, no other table, an
 * index by name), and, with a customer-managed key, the use of the key: every role writes, so
 * encrypt and decrypt.
 */
export function grantStore(target: StoreTarget, grantee: IGrantable, role: StoreRole): void {
  const { table } = target;
  for (const statement of storeAccess[role]) {
    const resource =
      statement.index === undefined ? table.tableArn : `${table.tableArn}/index/${statement.index}`;
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: [...statement.actions],
        resources: [resource],
        ...(statement.partitions
          ? {
              conditions: {
                'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...statement.partitions] },
              },
            }
          : {}),
      }),
    );
  }
  target.encryptionKey?.grantEncryptDecrypt(grantee);
}
