/**
 * The `Tickwork` construct: everything a Tickwork scheduler needs in one AWS account, in the
 * user's own CDK app. See `docs/deploying.md`.
 *
 * ```
 *  EventBridge Scheduler ──rate(1 minute)──> tick λ ──Query due index / CAS──> DynamoDB table
 *        │ undeliverable                        │ Invoke (Event)                 ▲
 *        ▼                                      ▼                                │ claim, heartbeat,
 *      SQS DLQ                          task λ (addTaskType) ────────────────────┘ complete
 *  HTTP API (IAM | JWT) ──> API λ ──(run now: Invoke; pause: UpdateSchedule)
 *  failed / timed-out / skipped / missed runs ──PutEvents──> EventBridge (source "tickwork")
 * ```
 *
 * The constructor is a façade over builder functions (`table.ts`, `tick.ts`, `api.ts`,
 * `alarms.ts`). They create their constructs directly under this one, with the ids they always
 * had: nesting them in constructs of their own would change every logical id and replace the
 * table and the functions of stacks already deployed.
 */
import { Annotations } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Alarm, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type EventPattern, type IEventBus } from 'aws-cdk-lib/aws-events';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { detailTypes } from '../src/aws/eventbridge-notifier.js';
import { buildAlarms } from './alarms.js';
import { buildApiFunction, buildHttpApi } from './api.js';
import { lambdaEnvironment } from './environment.js';
import { failedRunsMetric } from './metrics.js';
import { METRICS_NAMESPACE, RUN_EVENT_SOURCE, serviceNames, TICK_INTERVAL } from './names.js';
import {
  settingsOf,
  type TaskFunctionEnv,
  type TaskTypeOptions,
  type TickworkProps,
  type TickworkSettings,
} from './props.js';
import { buildTable, grantStore } from './table.js';
import { registerTaskType } from './task-types.js';
import { buildTickFunction, buildTickSchedules } from './tick.js';

export { lambdaEnvironment } from './environment.js';
export { METRICS_NAMESPACE, metricNames, RUN_EVENT_SOURCE, serviceNames, tickReserveMs } from './names.js';
export type {
  ApiAuth,
  ApiFunctionEnv,
  TaskFunctionEnv,
  TaskTypeOptions,
  TickFunctionEnv,
  TickworkProps,
} from './props.js';

/**
 * A Tickwork scheduler: the table, the tick and its schedule, the HTTP API, alarms and the run
 * events, with task types added by {@link Tickwork.addTaskType}.
 *
 * @example
 * const tickwork = new Tickwork(this, 'Tickwork', { alarmTopic: topic });
 * const report = new NodejsFunction(this, 'Report', { ...tickworkFunctionDefaults, entry: 'functions/report.ts' });
 * tickwork.addTaskType('reports.daily', report, { timeout: Duration.minutes(5) });
 */
export class Tickwork extends Construct {
  /** The one table: tasks, runs, task types, the scheduler's state. */
  readonly table: Table;
  readonly tickFunction: LambdaFunction;
  readonly tickLogGroup: LogGroup;
  /** Fires the tick every minute; the API pauses and resumes it. The first of {@link tickSchedules}. */
  readonly tickSchedule: Schedule;
  /** One schedule per shard group (`tickShardGroups`); one schedule when the tick is not split. */
  readonly tickSchedules: Schedule[];
  /** The role EventBridge Scheduler assumes to invoke the tick. */
  readonly tickScheduleRole: Role;
  /** Ticks EventBridge Scheduler could not deliver after its retries. */
  readonly tickDeadLetterQueue: Queue;
  readonly apiFunction: LambdaFunction;
  readonly apiLogGroup: LogGroup;
  readonly httpApi: HttpApi;
  readonly eventBus: IEventBus;
  readonly tickErrorsAlarm: Alarm;
  readonly deadLetterAlarm: Alarm;
  readonly failedRunsAlarm: Alarm;
  /**
   * Matches every run event (failed, timed out, skipped, missed); use it in a `Rule` to route
   * alerts anywhere.
   */
  readonly runEventPattern: EventPattern = {
    source: [RUN_EVENT_SOURCE],
    detailType: Object.values(detailTypes),
  };

  private readonly settings: TickworkSettings;
  private readonly taskTypes = new Set<string>();
  private readonly taskFunctions = new Set<LambdaFunction>();

  constructor(scope: Construct, id: string, props: TickworkProps = {}) {
    super(scope, id);
    this.settings = settingsOf(props);
    this.eventBus = props.eventBus ?? EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.table = buildTable(this, props);

    const tick = buildTickFunction(this, {
      table: this.table,
      eventBus: this.eventBus,
      settings: this.settings,
    });
    this.tickFunction = tick.fn;
    this.tickLogGroup = tick.logGroup;
    const schedules = buildTickSchedules(this, this.tickFunction, this.settings);
    this.tickSchedules = schedules.schedules;
    this.tickSchedule = schedules.schedules[0] as Schedule;
    this.tickScheduleRole = schedules.role;
    this.tickDeadLetterQueue = schedules.deadLetterQueue;

    const api = buildApiFunction(this, {
      table: this.table,
      tickSchedules: this.tickSchedules,
      tickScheduleRole: this.tickScheduleRole,
      settings: this.settings,
      dashboardOrigin: props.dashboardOrigin,
    });
    this.apiFunction = api.fn;
    this.apiLogGroup = api.logGroup;
    this.httpApi = buildHttpApi(this, this.apiFunction, this.settings.apiAuth, props.dashboardOrigin);

    const alarms = buildAlarms(this, {
      tickFunction: this.tickFunction,
      tickDeadLetterQueue: this.tickDeadLetterQueue,
      failedRuns: this.metricFailedRuns(),
      alarmTopic: props.alarmTopic,
    });
    this.tickErrorsAlarm = alarms.tickErrors;
    this.deadLetterAlarm = alarms.deadLetter;
    this.failedRunsAlarm = alarms.failedRuns;
  }

  /** The HTTP API's URL (`https://<id>.execute-api.<region>.amazonaws.com/`). */
  get apiUrl(): string {
    return `${this.httpApi.apiEndpoint}/`;
  }

  /**
   * Runs that went wrong, per 5 minutes: time-outs the tick reaped and dispatches it could not
   * make (service `tickwork-tick`), plus failures the task functions reported
   * (service `tickwork-task`).
   */
  metricFailedRuns(): MathExpression {
    return failedRunsMetric();
  }

  /**
   * Registers a task type handled by `fn`: the tick and the API may invoke `fn` (and nothing
   * else they were not given), `fn` may use the table and emit run events, Lambda's own async
   * retries are turned off (Tickwork owns retries), and the type is written to the table at
   * deploy time (removed when it leaves the stack).
   *
   * One function may serve several types.
   *
   * @example
   * tickwork.addTaskType('reports.daily', reportFn, { timeout: Duration.minutes(5), description: 'Daily report' });
   */
  addTaskType(name: string, fn: LambdaFunction, options: TaskTypeOptions = {}): void {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(name)) {
      throw new Error(
        `Tickwork: task type name "${name}" must be 1-128 letters, digits, '.', '_', ':' or '-'`,
      );
    }
    if (this.taskTypes.has(name)) throw new Error(`Tickwork: task type "${name}" is already registered`);
    this.taskTypes.add(name);

    const timeout = options.timeout ?? fn.timeout;
    if (options.timeout && fn.timeout && options.timeout.toSeconds() > fn.timeout.toSeconds()) {
      Annotations.of(this).addWarningV2(
        'tickwork:taskTimeoutExceedsFunction',
        `Task type "${name}": timeout ${options.timeout.toHumanString()} exceeds its function's ${fn.timeout.toHumanString()}; Lambda ends the run first.`,
      );
    }
    if (!this.taskFunctions.has(fn)) {
      this.taskFunctions.add(fn);
      this.wireTaskFunction(fn);
    }
    registerTaskType(this, this.table, {
      name,
      functionArn: fn.functionArn,
      ...(options.description === undefined ? {} : { description: options.description }),
      ...(timeout === undefined ? {} : { timeout }),
    });
  }

  /** What every task function gets, once: invocation by the tick and the API, the store, events. */
  private wireTaskFunction(fn: LambdaFunction): void {
    fn.grantInvoke(this.tickFunction);
    fn.grantInvoke(this.apiFunction);
    grantStore(this.table, fn, { indexes: false });
    this.eventBus.grantPutEventsTo(fn);
    // Tickwork retries through its own state; a Lambda retry would run the slot twice.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    const taskEnv: TaskFunctionEnv = {
      TICKWORK_TABLE: this.table.tableName,
      TICKWORK_SHARDS: this.settings.shardCount,
      TICKWORK_DUE_KEY_HOLD_MS: TICK_INTERVAL.toMilliseconds(),
      TICKWORK_EVENT_BUS: this.eventBus.eventBusName,
      POWERTOOLS_SERVICE_NAME: serviceNames.task,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
    for (const [key, value] of Object.entries(lambdaEnvironment(taskEnv))) fn.addEnvironment(key, value);
  }
}
