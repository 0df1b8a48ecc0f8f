/**
 * The deploy path of tasks as code (docs/tasks-as-code.md). The construct declares each task as
 * one CloudFormation custom resource, served through a CDK `custom_resources.Provider` whose
 * onEvent handler is the API function itself; this module tells those requests from the HTTP
 * API's and applies them:
 *
 * - Create, Update: apply the declaration (`applyTasks`, as a deploy: it may write system tasks);
 *   the physical id is `tickwork-task:<id>`, so a declaration whose id changes is a replacement,
 *   and CloudFormation deletes the old task once the new one is applied.
 * - Delete: delete the task the resource applied (named by its physical id); already gone is fine.
 *
 * A throw fails the deployment, and the Provider shows the error's message: every refusal here
 * names the task and the field.
 */
import { ValidationError } from '../core/errors.js';
import { type ApplyAction, applyTasks, deleteDeclaredTask } from './apply.js';
import type { ApiDeps } from './deps.js';
import { issuesOf } from './errors.js';
import { type TaskDeclaration, TaskDeclarationSchema } from './schemas.js';

/** The resource property that holds a declaration, as a JSON string. */
export const DECLARATION_PROPERTY = 'TickworkTask';
/** Physical ids of task resources: this prefix and the task id. */
export const PHYSICAL_ID_PREFIX = 'tickwork-task:';

/** A CloudFormation custom-resource request, as the Provider framework passes it to onEvent. */
export interface CustomResourceRequest {
  RequestType: 'Create' | 'Update' | 'Delete';
  /** Absent on Create. */
  PhysicalResourceId?: string;
  ResourceProperties: { ServiceToken?: string; [DECLARATION_PROPERTY]?: unknown; [key: string]: unknown };
  OldResourceProperties?: Record<string, unknown>;
  LogicalResourceId?: string;
  StackId?: string;
  RequestId?: string;
}

/** What onEvent answers the Provider: the resource's physical id and attributes. */
export interface CustomResourceResponse {
  PhysicalResourceId: string;
  Data: { Action: ApplyAction | 'deleted' | 'none' };
}

const requestTypes = new Set(['Create', 'Update', 'Delete']);

/** True for a CloudFormation custom-resource request. */
export function isCustomResourceRequest(event: unknown): event is CustomResourceRequest {
  if (typeof event !== 'object' || event === null) return false;
  const { RequestType, ResourceProperties } = event as Record<string, unknown>;
  return (
    typeof RequestType === 'string' &&
    requestTypes.has(RequestType) &&
    typeof ResourceProperties === 'object' &&
    ResourceProperties !== null
  );
}

/** True for an event of API Gateway (HTTP API payload 2.0, or REST) that Hono's adapter serves. */
export function isHttpEvent(event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  const { requestContext } = event as Record<string, unknown>;
  return typeof requestContext === 'object' && requestContext !== null;
}

/** The declaration a request carries, validated as `POST /tasks/apply` validates one. */
export function declarationOf(properties: CustomResourceRequest['ResourceProperties']): TaskDeclaration {
  const raw = properties[DECLARATION_PROPERTY];
  if (typeof raw !== 'string') {
    throw new ValidationError([
      {
        field: DECLARATION_PROPERTY,
        message: 'is missing; it must be the task declaration as a JSON string',
      },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ValidationError([
      { field: DECLARATION_PROPERTY, message: `is not JSON: ${(error as Error).message.slice(0, 200)}` },
    ]);
  }
  const result = TaskDeclarationSchema.safeParse(parsed);
  if (!result.success) throw new ValidationError(issuesOf(result.error, DECLARATION_PROPERTY));
  return result.data;
}

/** The task id a resource's physical id names, or undefined when the resource never applied one. */
function taskIdOf(physicalResourceId: string | undefined): string | undefined {
  return physicalResourceId?.startsWith(PHYSICAL_ID_PREFIX)
    ? physicalResourceId.slice(PHYSICAL_ID_PREFIX.length)
    : undefined;
}

/**
 * Handles one custom-resource request. Create and Update apply the declaration; Delete deletes
 * the task (its active runs are asked to cancel). A request whose resource never applied a task
 * (its physical id is not `tickwork-task:…`, as after a failed create) deletes nothing.
 *
 * @example
 * await handleDeployEvent(deps, {
 *   RequestType: 'Create',
 *   ResourceProperties: { TickworkTask: JSON.stringify({ id: 'nightly-report', type: 'Acme.Report', schedule: '0 6 * * *' }) },
 * }); // { PhysicalResourceId: 'tickwork-task:nightly-report', Data: { Action: 'created' } }
 */
export async function handleDeployEvent(
  deps: ApiDeps,
  request: CustomResourceRequest,
): Promise<CustomResourceResponse> {
  if (request.RequestType === 'Delete') {
    const physicalId = request.PhysicalResourceId ?? '';
    const taskId = taskIdOf(physicalId);
    if (taskId === undefined) return { PhysicalResourceId: physicalId, Data: { Action: 'none' } };
    await deleteDeclaredTask(deps, taskId);
    return { PhysicalResourceId: physicalId, Data: { Action: 'deleted' } };
  }
  const declaration = declarationOf(request.ResourceProperties);
  const { changes } = await applyTasks(deps, [declaration], { source: 'deploy' });
  return {
    PhysicalResourceId: `${PHYSICAL_ID_PREFIX}${declaration.id}`,
    Data: { Action: changes[0]?.action ?? 'unchanged' },
  };
}

/**
 * The API function's handler: API Gateway requests go to the admin API (`http`, Hono's Lambda
 * adapter), custom-resource requests to the deploy path; anything else is refused.
 *
 * @example
 * export const handler = makeApiHandler(handle(createApp(deps)), deps);
 */
export function makeApiHandler<E, C, R>(
  http: (event: E, context: C) => Promise<R>,
  deps: ApiDeps,
): (event: unknown, context: C) => Promise<R | CustomResourceResponse> {
  return async (event, context) => {
    if (isCustomResourceRequest(event)) return handleDeployEvent(deps, event);
    if (isHttpEvent(event)) return http(event as E, context);
    const keys =
      typeof event === 'object' && event !== null ? Object.keys(event).slice(0, 10).join(', ') : '';
    throw new Error(
      `tickwork api: unsupported event (keys: ${keys || typeof event}); expected an API Gateway request or a CloudFormation custom-resource request`,
    );
  };
}
