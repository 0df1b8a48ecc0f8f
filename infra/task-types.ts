/**
 * Task type registration: one `Custom::TickworkTaskType` per type, which writes the type's item
 * to the table at deploy time and deletes it when the type leaves the stack.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { CfnFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import type { JsonSchema } from '../src/core/model.js';
import { keys, taskTypeToItem } from '../src/store/dynamo-items.js';

/**
 * `TaskDeadLetterQueue`: the on-failure destination of the task functions' async invocations
 * (what Lambda could not run: the function threw, was throttled past the event's age, or was
 * missing). Encrypted, TLS only, kept 14 days.
 */
export function buildTaskDeadLetterQueue(scope: Construct): Queue {
  return new Queue(scope, 'TaskDeadLetterQueue', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}

/** One type as it is written to the table. */
export interface TaskTypeRegistration {
  readonly name: string;
  /** The ARN the tick and the API invoke (a function, an alias or a version). */
  readonly functionArn: string;
  readonly timeout?: Duration;
  readonly description?: string;
  readonly parametersSchema?: JsonSchema;
}

/**
 * The registration (`TaskType-<name>`, a child of `scope`) of one type in `table`, allowed to use
 * the table's customer-managed key when it has one.
 */
export function registerTaskType(
  scope: Construct,
  table: Table,
  type: TaskTypeRegistration,
  encryptionKey?: IKey,
): AwsCustomResource {
  const item = taskTypeToItem({
    name: type.name,
    functionName: type.functionArn,
    ...(type.description === undefined ? {} : { description: type.description }),
    ...(type.timeout === undefined ? {} : { timeoutSeconds: type.timeout.toSeconds() }),
    ...(type.parametersSchema === undefined ? {} : { parametersSchema: type.parametersSchema }),
  });
  const put = {
    service: 'DynamoDB',
    action: 'putItem',
    parameters: { TableName: table.tableName, Item: toAttributeMap(item) },
    physicalResourceId: PhysicalResourceId.of(`${scope.node.addr}/${type.name}`),
  };
  const registration = new AwsCustomResource(scope, `TaskType-${type.name}`, {
    resourceType: 'Custom::TickworkTaskType',
    onCreate: put,
    onUpdate: put,
    onDelete: {
      service: 'DynamoDB',
      action: 'deleteItem',
      parameters: { TableName: table.tableName, Key: toAttributeMap({ ...keys.taskType(type.name) }) },
    },
    policy: AwsCustomResourcePolicy.fromStatements([
      new PolicyStatement({
        actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
        resources: [table.tableArn],
      }),
    ]),
    installLatestAwsSdk: false,
  });
  registration.node.addDependency(table);
  // The registration writes the table: with a customer-managed key, it needs the key too.
  encryptionKey?.grantEncryptDecrypt(registration);
  pinCustomResourceRuntime(Stack.of(scope));
  return registration;
}

/**
 * `AwsCustomResource` runs CDK's SDK-call handler in one singleton function per stack, on the
 * newest Node.js runtime CDK knows. Tickwork runs every function on Node.js 22: pin it too (the
 * handler is plain CommonJS and supports it).
 */
function pinCustomResourceRuntime(stack: Stack): void {
  const id = `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`;
  const provider = stack.node.tryFindChild(id)?.node.defaultChild;
  if (provider instanceof CfnFunction) provider.runtime = Runtime.NODEJS_22_X.name;
}

/** DynamoDB JSON of a flat item of strings, numbers and booleans (what a task type item holds). */
function toAttributeMap(item: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(item)) {
    if (typeof value === 'string') out[key] = { S: value };
    else if (typeof value === 'number') out[key] = { N: String(value) };
    else if (typeof value === 'boolean') out[key] = { BOOL: value };
    else throw new Error(`Tickwork: cannot write attribute ${key} of a task type item`);
  }
  return out;
}
