/** The one table, and the store's permissions on it. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { type Attribute, AttributeType, BillingMode, ProjectionType, Table } from 'aws-cdk-lib/aws-dynamodb';
import { type IGrantable, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { globalIndexes, type KeyAttribute, tableDefinition } from '../src/store/table-definition.js';
import type { TickworkProps } from './props.js';

/** Actions of the DynamoDB store (`src/store/dynamo-task-store.ts`): no Scan, no table admin. */
const STORE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
];

function attribute(key: KeyAttribute): Attribute {
  return { name: key.name, type: key.type === 'S' ? AttributeType.STRING : AttributeType.NUMBER };
}

/** The table (construct id `Table`), built from the one shared definition: keys, every index, TTL. */
export function buildTable(scope: Construct, props: TickworkProps): Table {
  const table = new Table(scope, 'Table', {
    ...(props.tableName ? { tableName: props.tableName } : {}),
    partitionKey: attribute(tableDefinition.partitionKey),
    sortKey: attribute(tableDefinition.sortKey),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    timeToLiveAttribute: tableDefinition.ttlAttribute,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  for (const index of globalIndexes()) {
    table.addGlobalSecondaryIndex({
      indexName: index.indexName,
      partitionKey: attribute(index.partitionKey),
      sortKey: attribute(index.sortKey),
      projectionType: index.projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
    });
  }
  return table;
}

/**
 * The store's actions on the table (and, for the tick and the API, on each of its indexes by
 * name): no wildcard action, no other table.
 */
export function grantStore(table: Table, grantee: IGrantable, options: { indexes: boolean }): void {
  const resources = [table.tableArn];
  if (options.indexes) {
    for (const index of globalIndexes()) resources.push(`${table.tableArn}/index/${index.indexName}`);
  }
  grantee.grantPrincipal.addToPrincipalPolicy(new PolicyStatement({ actions: STORE_ACTIONS, resources }));
}
