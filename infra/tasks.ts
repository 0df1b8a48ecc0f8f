/**
 * Tasks declared as code: each `addTask` becomes one `Custom::TickworkTask` resource, applied by
 * the API function itself through one `custom_resources.Provider`, so a declared task is written
 * by the same code, with the same checks, as a task created through the API.
 *
 * The contract with the API function: it receives the Provider's onEvent request
 * `{ RequestType: 'Create' | 'Update' | 'Delete', PhysicalResourceId?, ResourceProperties:
 * { ServiceToken, TickworkTask: '<JSON of the declaration>' } }` (a JSON string: CloudFormation
 * turns property values into strings) and returns `{ PhysicalResourceId: 'tickwork-task:<id>',
 * Data: { Action: 'created' | 'updated' | 'unchanged' | 'deleted' } }`, throwing on failure.
 */
import { CustomResource } from 'aws-cdk-lib';
import { CfnFunction, type Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Provider } from 'aws-cdk-lib/custom-resources';
import type { Construct, IDependable } from 'constructs';
import type { z } from 'zod';
import { TaskInputSchema } from '../src/api/schemas.js';
import { parseSchedule } from '../src/core/schedule.js';

/** The resource type of a declared task. */
export const TASK_RESOURCE_TYPE = 'Custom::TickworkTask';

/** The property holding the declaration, as JSON. */
export const TASK_DECLARATION_PROPERTY = 'TickworkTask';

/**
 * A task declared in the stack: the fields of the API's task create body (`POST /tasks`), with an
 * id of its own (the declaration finds its task by it on every deploy), and `system`.
 */
export type TaskDeclaration = Omit<z.input<typeof TaskInputSchema>, 'id' | 'name'> & {
  /** The task's id (1-128 letters, digits, `.`, `_`, `:` or `-`). */
  readonly id: string;
  /** Shown in lists. @default the id */
  readonly name?: string;
  /** A system task cannot be edited or deleted through the API, only by the stack. @default false */
  readonly system?: boolean;
};

/** What a deploy sends the API function for one task: the declaration with its defaults, as JSON. */
export function taskDeclarationJson(
  declaration: TaskDeclaration,
  registeredTypes: ReadonlySet<string>,
): string {
  const { id, type, system, ...fields } = declaration;
  if (!registeredTypes.has(type)) {
    const registered = [...registeredTypes].sort().join(', ') || 'none';
    throw new Error(
      `Tickwork: task "${id}" has type "${type}", which is not registered in this construct (registered: ${registered})`,
    );
  }
  const body = { id, type, ...fields, name: declaration.name ?? id };
  const parsed = TaskInputSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'task'}: ${issue.message}`);
    throw new Error(`Tickwork: task "${id}" is invalid: ${issues.join('; ')}`);
  }
  try {
    parseSchedule(
      declaration.schedule,
      declaration.timezone === undefined ? {} : { timezone: declaration.timezone },
    );
  } catch (error) {
    throw new Error(`Tickwork: task "${id}": ${(error as Error).message}`, { cause: error });
  }
  return JSON.stringify({ ...body, system: system ?? false });
}

/** The one Provider (`TaskProvider`) whose onEvent handler is the API function. */
export function buildTaskProvider(
  scope: Construct,
  apiFunction: LambdaFunction,
  retention: RetentionDays,
): Provider {
  const provider = new Provider(scope, 'TaskProvider', {
    onEventHandler: apiFunction,
    logGroup: new LogGroup(scope, 'TaskProviderLogs', { retention }),
  });
  // The framework function defaults to the newest Node.js CDK knows; Tickwork runs on 22.
  const framework = provider.node.tryFindChild('framework-onEvent')?.node.defaultChild;
  if (framework instanceof CfnFunction) framework.runtime = Runtime.NODEJS_22_X.name;
  return provider;
}

/** One declared task (`Task-<id>`), created after its type's registration and deleted before it. */
export function declareTask(
  scope: Construct,
  provider: Provider,
  id: string,
  json: string,
  typeRegistration: IDependable,
): CustomResource {
  const resource = new CustomResource(scope, `Task-${id}`, {
    serviceToken: provider.serviceToken,
    resourceType: TASK_RESOURCE_TYPE,
    properties: { [TASK_DECLARATION_PROPERTY]: json },
  });
  resource.node.addDependency(typeRegistration);
  return resource;
}
