/**
 * The public CDK API of Tickwork (the `tickwork/cdk` entry point): the `Tickwork` construct, its
 * props and option types, the props for task functions, and the names of its metrics and
 * services.
 *
 * @example
 * import { Tickwork, tickworkFunctionDefaults } from 'tickwork/cdk';
 * import { tasks } from '../functions/acme-tasks.js';
 *
 * const tickwork = new Tickwork(this, 'Tickwork', { alarmTopic });
 * const acmeFn = new NodejsFunction(this, 'AcmeTasks', { ...tickworkFunctionDefaults, entry: 'functions/acme-tasks.ts' });
 * const acme = tickwork.addTaskTypes(acmeFn, tasks);
 * acme.addTask({ id: 'daily-report', type: 'Acme.Report', schedule: '0 6 * * *' });
 */

export {
  esmRequireBanner,
  runtimeEnvironment,
  tickworkBundling,
  tickworkFunctionDefaults,
} from './function-defaults.js';
export { type ApiRoute, operateRoutes, readRoutes } from './grants.js';
export { TICK_INTERVAL } from './names.js';
export type { DashboardLoginProps } from './props.js';

export { assessLoad, type ExpectedLoad, type LoadAssessment, recommendSettings } from './scale-model.js';
export { TASK_DECLARATION_PROPERTY, TASK_RESOURCE_TYPE } from './tasks.js';
export {
  type ApiAuth,
  type ApiFunctionEnv,
  type ApiThrottle,
  lambdaEnvironment,
  METRICS_NAMESPACE,
  metricNames,
  RUN_EVENT_SOURCE,
  serviceNames,
  type TaskDeclaration,
  type TaskFunctionEnv,
  type TaskParametersInput,
  type TaskTypeGroup,
  type TaskTypeName,
  type TaskTypeOptions,
  type TaskTypesOptions,
  type TickFunctionEnv,
  Tickwork,
  type TickworkProps,
  type TypedTaskDeclaration,
  tickReserveMs,
} from './tickwork.js';
