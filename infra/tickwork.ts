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
import { Annotations, type CustomResource } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import type { Alarm, MathExpression, Metric, MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type EventPattern, type IEventBus } from 'aws-cdk-lib/aws-events';
import type { Grant, IGrantable, Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { type IFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Provider } from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import { detailTypes } from '../src/aws/eventbridge-notifier.js';
import type { TaskTypes } from '../src/task/define-task.js';
import { taskTypeManifest, taskTypeNamePattern } from '../src/task/manifest.js';
import { buildAlarms } from './alarms.js';
import { buildApiFunction, buildHttpApi } from './api.js';
import { lambdaEnvironment } from './environment.js';
import { adminRoutes, grantRoutes, operateRoutes, readRoutes } from './grants.js';
import { failedRunsMetric, tickworkMetric } from './metrics.js';
import {
  METRICS_NAMESPACE,
  metricNames,
  RUN_EVENT_SOURCE,
  serviceNames,
  TICK_INTERVAL,
  TICK_LOOKAHEAD,
  TICK_SEND_AHEAD,
} from './names.js';
import {
  settingsOf,
  type TaskFunctionEnv,
  type TaskTypeOptions,
  type TaskTypesOptions,
  type TickworkProps,
  type TickworkSettings,
} from './props.js';
import { assessLoad, awsLimits, runCosts } from './scale-model.js';
import { buildTable, grantStore } from './table.js';
import { buildTaskDeadLetterQueue, registerTaskType, type TaskTypeRegistration } from './task-types.js';
import { buildTaskProvider, declareTask, type TaskDeclaration, taskDeclarationJson } from './tasks.js';
import { buildTickFunction, buildTickSchedules } from './tick.js';
import { TaskTypeGroup } from './typed-tasks.js';

export { lambdaEnvironment } from './environment.js';
export { METRICS_NAMESPACE, metricNames, RUN_EVENT_SOURCE, serviceNames, tickReserveMs } from './names.js';
export type {
  ApiAuth,
  ApiFunctionEnv,
  ApiThrottle,
  TaskFunctionEnv,
  TaskTypeOptions,
  TaskTypesOptions,
  TickFunctionEnv,
  TickworkProps,
} from './props.js';
export type { ExpectedLoad } from './scale-model.js';
export type { TaskDeclaration } from './tasks.js';
export type {
  TaskParametersInput,
  TaskTypeGroup,
  TaskTypeName,
  TypedTaskDeclaration,
} from './typed-tasks.js';

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
  /** The table's customer-managed key (`encryptionKey`); undefined with the AWS-owned key. */
  readonly encryptionKey: IKey | undefined;
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
  /** The HTTP API's access log: one JSON line per request (caller, route, status, latency). */
  readonly apiAccessLogGroup: LogGroup;
  readonly eventBus: IEventBus;
  readonly tickErrorsAlarm: Alarm;
  readonly deadLetterAlarm: Alarm;
  readonly failedRunsAlarm: Alarm;
  /**
   * The on-failure destination of the task functions' async invocations (those whose async
   * configuration the construct sets): the invocation records Lambda could not run.
   */
  readonly taskDeadLetterQueue: Queue;
  /** A message is in {@link taskDeadLetterQueue}. */
  readonly taskDeadLetterAlarm: Alarm;
  /** A task function refused a run event no lease holds ({@link metricRefusedRunEvents}). */
  readonly refusedRunEventsAlarm: Alarm;
  /** Runs start more than a second late at the 99th percentile ({@link metricLatenessP99}), 15 minutes running. */
  readonly latenessAlarm: Alarm;
  /** A task became overdue: no success within its `mustSucceedEvery` ({@link metricOverdueTasks}). */
  readonly overdueTasksAlarm: Alarm;
  /** The tick recorded skipped slots ({@link metricSkipped}). */
  readonly skippedRunsAlarm: Alarm;
  /** The tick recorded missed slots ({@link metricMissed}). */
  readonly missedRunsAlarm: Alarm;
  /**
   * Matches every event Tickwork emits (runs failed, timed out, skipped, missed; tasks overdue);
   * use it in a `Rule` to route alerts anywhere.
   */
  readonly runEventPattern: EventPattern = {
    source: [RUN_EVENT_SOURCE],
    detailType: Object.values(detailTypes),
  };

  /**
   * The environment a task function needs (the table, the shard count, the event bus, the
   * metrics' names). `addTaskType` sets it on a `lambda.Function`; spread it into the
   * `environment` of any other (an alias's or a version's function, one defined elsewhere).
   */
  readonly taskEnvironment: Record<string, string>;

  private readonly settings: TickworkSettings;
  /** Registered task types, by name. */
  private readonly typeRegistrations = new Map<string, IDependable>();
  private readonly taskFunctions = new Set<IFunction>();
  private readonly declaredTasks = new Set<string>();
  private taskProvider: Provider | undefined;

  constructor(scope: Construct, id: string, props: TickworkProps = {}) {
    super(scope, id);
    this.settings = settingsOf(props);
    this.eventBus = props.eventBus ?? EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.table = buildTable(this, props);
    this.encryptionKey = props.encryptionKey;

    const tick = buildTickFunction(this, {
      table: this.table,
      encryptionKey: this.encryptionKey,
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
      encryptionKey: this.encryptionKey,
      tickSchedules: this.tickSchedules,
      tickScheduleRole: this.tickScheduleRole,
      tickFunction: this.tickFunction,
      settings: this.settings,
      dashboardOrigin: props.dashboardOrigin,
    });
    this.apiFunction = api.fn;
    this.apiLogGroup = api.logGroup;
    const http = buildHttpApi(this, this.apiFunction, this.settings, props.dashboardOrigin);
    this.httpApi = http.httpApi;
    this.apiAccessLogGroup = http.accessLogGroup;

    this.taskDeadLetterQueue = buildTaskDeadLetterQueue(this);
    const alarms = buildAlarms(this, {
      tickFunction: this.tickFunction,
      tickDeadLetterQueue: this.tickDeadLetterQueue,
      taskDeadLetterQueue: this.taskDeadLetterQueue,
      failedRuns: this.metricFailedRuns(),
      refusedRunEvents: this.metricRefusedRunEvents(),
      latenessP99: this.metricLatenessP99(),
      overdueTasks: this.metricOverdueTasks(),
      skippedRuns: this.metricSkipped(),
      missedRuns: this.metricMissed(),
      alarmTopic: props.alarmTopic,
    });
    this.tickErrorsAlarm = alarms.tickErrors;
    this.deadLetterAlarm = alarms.deadLetter;
    this.failedRunsAlarm = alarms.failedRuns;
    this.taskDeadLetterAlarm = alarms.taskDeadLetter;
    this.refusedRunEventsAlarm = alarms.refusedRunEvents;
    this.latenessAlarm = alarms.lateness;
    this.overdueTasksAlarm = alarms.overdueTasks;
    this.skippedRunsAlarm = alarms.skippedRuns;
    this.missedRunsAlarm = alarms.missedRuns;
    this.taskEnvironment = lambdaEnvironment(this.taskEnvironmentInput());
    this.checkExpectedLoad(props);
  }

  /** Warns when the settings cannot carry `expectedLoad` (docs/scaling.md); notes what the account needs. */
  private checkExpectedLoad(props: TickworkProps): void {
    if (!props.expectedLoad) return;
    const s = this.settings;
    // The table's warm throughput and quota are the account's to raise: noted below, not warned.
    const needs = assessLoad(
      props.expectedLoad,
      {
        shardCount: s.shardCount,
        tickShardGroups: s.tickShardGroups,
        tickMemoryMb: s.tickMemorySize,
        tickTimeoutSeconds: s.tickTimeout.toSeconds(),
        tableWarmWrites: Number.POSITIVE_INFINITY,
        design: { intervalSeconds: TICK_INTERVAL.toSeconds(), lookAheadSeconds: TICK_LOOKAHEAD.toSeconds() },
      },
      runCosts,
      { ...awsLimits, tableWriteQuota: Number.POSITIVE_INFINITY },
    );
    const assessment = {
      ...needs,
      accountNeeds: [
        ...needs.accountNeeds,
        ...(needs.tableWritesPerSecond > awsLimits.tableWriteQuota
          ? [`a per-table write quota above the default ${awsLimits.tableWriteQuota} units/s`]
          : []),
      ],
    };
    for (const problem of assessment.problems) {
      Annotations.of(this).addWarningV2(
        'tickwork:expectedLoad',
        `Tickwork: expectedLoad: ${problem} (docs/scaling.md)`,
      );
    }
    if (assessment.accountNeeds.length > 0) {
      Annotations.of(this).addInfo(`Tickwork: expectedLoad needs ${assessment.accountNeeds.join('; ')}`);
    }
    const { lease, start } = assessment;
    const seconds = (n: number) => `~${Math.round(n * 10) / 10} s`;
    Annotations.of(this).addInfo(
      `Tickwork: expectedLoad: the busiest minute's leases take ${seconds(lease.seconds)} of the ${lease.leadSeconds} s ` +
        `before its slot; its runs start ${seconds(start.p99Seconds)} after the slot at p99 (paced by ${start.limitedBy}, ` +
        'with the default Lambda quotas)',
    );
  }

  private taskEnvironmentInput(): TaskFunctionEnv {
    return {
      TICKWORK_TABLE: this.table.tableName,
      TICKWORK_SHARDS: this.settings.shardCount,
      TICKWORK_DUE_KEY_HOLD_MS: TICK_INTERVAL.toMilliseconds(),
      TICKWORK_EVENT_BUS: this.eventBus.eventBusName,
      POWERTOOLS_SERVICE_NAME: serviceNames.task,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    };
  }

  /** The HTTP API's URL (`https://<id>.execute-api.<region>.amazonaws.com/`). */
  get apiUrl(): string {
    return `${this.httpApi.apiEndpoint}/`;
  }

  /** Tick dispatches: runs started, per 5 minutes (sum). */
  metricDispatched(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.tick, metricNames.tick.dispatched, props);
  }

  /** How late the latest dispatch of a tick was after its slot, in ms (maximum per 5 minutes). */
  metricLateness(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.tick, metricNames.tick.latenessMax, {
      statistic: 'Maximum',
      ...props,
    });
  }

  /** Slots skipped by the overlap policy (a run was still going), per 5 minutes. */
  metricSkipped(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.tick, metricNames.tick.skipped, props);
  }

  /** Slots recorded as missed (the catch-up policy did not run them), per 5 minutes. */
  metricMissed(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.tick, metricNames.tick.missed, props);
  }

  /**
   * Tasks that became overdue, per 5 minutes: no success within their `mustSucceedEvery`. Counted
   * once per overdue episode, by the tick that found it (the `Tickwork Task Overdue` event names it).
   */
  metricOverdueTasks(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.tick, metricNames.tick.overdueTasks, props);
  }

  /** Runs the tick timed out (their lease expired), per 5 minutes. */
  metricTimedOut(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.tick, metricNames.tick.timedOut, props);
  }

  /**
   * Runs that went wrong, per 5 minutes: time-outs the tick reaped and dispatches it could not
   * make (service `tickwork-tick`), plus failures the task functions reported
   * (service `tickwork-task`).
   */
  metricFailedRuns(props?: MetricOptions): MathExpression {
    return failedRunsMetric(props);
  }

  /** Runs the task functions completed successfully, per 5 minutes. */
  metricSucceededRuns(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.task, metricNames.task.succeeded, props);
  }

  /**
   * Each tick's 99th percentile of lateness (a run's slot to its invoke accepted), in ms: the
   * maximum per 5 minutes. With look-ahead it stays well under a second.
   */
  metricLatenessP99(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.tick, metricNames.tick.latenessP99, {
      statistic: 'Maximum',
      ...props,
    });
  }

  /**
   * Run events the task functions refused because no lease holds them as sent (forged, altered,
   * or invoked by hand), per 5 minutes (service `tickwork-task`). Nothing ran for them.
   */
  metricRefusedRunEvents(props?: MetricOptions): Metric {
    return tickworkMetric(serviceNames.task, metricNames.task.refusedRunEvents, props);
  }

  /** Lets `grantee` call every GET route of the API (IAM authorization): read only. */
  grantRead(grantee: IGrantable): Grant {
    return this.grantApi(grantee, readRoutes);
  }

  /** Read, plus run now, cancel, pause and resume: no creating, editing or deleting tasks. */
  grantOperate(grantee: IGrantable): Grant {
    return this.grantApi(grantee, [...readRoutes, ...operateRoutes]);
  }

  /**
   * The `admin` role: operate, plus create, edit, delete and apply tasks; every route of the API.
   * The three grants are the roles `read`, `operate` and `admin` of IAM authorization; with JWT
   * the roles are the token's scopes instead (`tickwork/read`, ...; docs/security.md).
   */
  grantAdmin(grantee: IGrantable): Grant {
    return this.grantApi(grantee, [...readRoutes, ...operateRoutes, ...adminRoutes]);
  }

  private grantApi(grantee: IGrantable, routes: Parameters<typeof grantRoutes>[2]): Grant {
    if (this.settings.apiAuth.type !== 'iam') {
      Annotations.of(this).addWarningV2(
        'tickwork:grantWithoutIam',
        'Tickwork: API grants take effect with IAM authorization only; this API checks JWTs',
      );
    }
    return grantRoutes(grantee, this.httpApi, routes);
  }

  /**
   * Registers a task type handled by `fn` (a function, an alias, a version or an imported
   * function): the tick and the API may invoke `fn` (and nothing else they were not given), `fn`
   * may use the table and emit run events, Lambda's own async retries are turned off (Tickwork
   * owns retries), and the type is written to the table at deploy time (removed when it leaves
   * the stack). One function may serve several types. For types declared in a handler's task
   * map, prefer {@link addTaskTypes}.
   *
   * When `fn` is not a `lambda.Function` its environment cannot be set here: synth warns, and its
   * owner spreads {@link taskEnvironment} into its `environment`.
   *
   * @example
   * tickwork.addTaskType('reports.daily', reportFn, { timeout: Duration.minutes(5), description: 'Daily report' });
   */
  addTaskType(name: string, fn: IFunction, options: TaskTypeOptions = {}): void {
    this.registerType({ name, ...options }, fn);
  }

  /**
   * Registers every type of a handler module's task map on `fn`: names, descriptions and the JSON
   * Schema of the parameters come from the map (`taskTypeManifest`). Returns the group, whose
   * `addTask` accepts only these types, with their parameters typed and checked at synth.
   *
   * @example
   * import { tasks } from '../functions/acme-tasks.js';
   * const acme = tickwork.addTaskTypes(acmeFn, tasks, { timeout: Duration.minutes(10) });
   * acme.addTask({ id: 'daily-report', type: 'Acme.Report', schedule: '0 6 * * *', parameters: { day: 'today' } });
   */
  addTaskTypes<T extends TaskTypes>(
    fn: IFunction,
    tasks: T,
    options: TaskTypesOptions = {},
  ): TaskTypeGroup<T> {
    const entries = taskTypeManifest(tasks);
    for (const entry of entries) this.registerType({ ...entry, ...options }, fn);
    return new TaskTypeGroup(this, tasks);
  }

  /**
   * Declares a task: created at deploy, updated when its declaration changes, deleted when it
   * leaves the stack (through the API function, as `POST /tasks` would). Checked at synth: the
   * type must be registered in this construct, the fields must fit the API's task body, the
   * schedule must parse. See docs/deploying.md for how a deploy meets an admin's later edit.
   *
   * @example
   * tickwork.addTask({ id: 'nightly-cleanup', type: 'cleanup.files', schedule: '0 3 * * *', timezone: 'Europe/Berlin' });
   */
  addTask(declaration: TaskDeclaration): CustomResource {
    if (this.declaredTasks.has(declaration.id)) {
      throw new Error(`Tickwork: task "${declaration.id}" is already declared`);
    }
    const json = taskDeclarationJson(declaration, new Set(this.typeRegistrations.keys()));
    this.declaredTasks.add(declaration.id);
    this.taskProvider ??= buildTaskProvider(this, this.apiFunction, this.settings.logRetention);
    const registration = this.typeRegistrations.get(declaration.type) as IDependable;
    return declareTask(this, this.taskProvider, declaration.id, json, registration);
  }

  private registerType(type: Omit<TaskTypeRegistration, 'functionArn'>, fn: IFunction): void {
    if (!taskTypeNamePattern.test(type.name)) {
      throw new Error(
        `Tickwork: task type name "${type.name}" must be 1-128 letters, digits, '.', '_', ':' or '-'`,
      );
    }
    if (this.typeRegistrations.has(type.name)) {
      throw new Error(`Tickwork: task type "${type.name}" is already registered`);
    }
    const fnTimeout = fn instanceof LambdaFunction ? fn.timeout : undefined;
    // A run sent ahead of its second is held by its handler until then, inside the same invocation.
    const hold = TICK_SEND_AHEAD.toSeconds();
    if (type.timeout && fnTimeout && type.timeout.toSeconds() + hold > fnTimeout.toSeconds()) {
      Annotations.of(this).addWarningV2(
        'tickwork:taskTimeoutExceedsFunction',
        `Task type "${type.name}": timeout ${type.timeout.toHumanString()}, plus up to ${hold} s that a run sent ahead of its second waits in its handler, exceeds its function's ${fnTimeout.toHumanString()}; Lambda may end the run before its lease does. Give the function at least ${type.timeout.toSeconds() + hold} s.`,
      );
    }
    if (!this.taskFunctions.has(fn)) {
      this.taskFunctions.add(fn);
      this.wireTaskFunction(fn, type.name);
    }
    const timeout = type.timeout ?? fnTimeout;
    const registration = registerTaskType(
      this,
      this.table,
      { ...type, functionArn: fn.functionArn, ...(timeout === undefined ? {} : { timeout }) },
      this.encryptionKey,
    );
    this.typeRegistrations.set(type.name, registration);
  }

  /** What every task function gets, once: invocation by the tick and the API, the store, events. */
  private wireTaskFunction(fn: IFunction, typeName: string): void {
    fn.grantInvoke(this.tickFunction);
    fn.grantInvoke(this.apiFunction);
    grantStore({ table: this.table, encryptionKey: this.encryptionKey }, fn, 'task');
    this.eventBus.grantPutEventsTo(fn);
    if (fn.node.defaultChild) {
      // Tickwork retries through its own state; a Lambda retry would run the slot twice. An
      // invocation Lambda could not run is kept in the dead-letter queue (and raises its alarm).
      fn.configureAsyncInvoke({ retryAttempts: 0, onFailure: new SqsDestination(this.taskDeadLetterQueue) });
    } else {
      Annotations.of(this).addWarningV2(
        'tickwork:taskAsyncRetries',
        `Task type "${typeName}": its function is not defined in this app, so Tickwork cannot turn off Lambda's async retries; set its maximum retry attempts to 0 (Tickwork retries runs itself), and its on-failure destination to tickwork.taskDeadLetterQueue if failed invocations should be kept.`,
      );
    }
    if (fn instanceof LambdaFunction) {
      for (const [key, value] of Object.entries(this.taskEnvironment)) fn.addEnvironment(key, value);
    } else {
      Annotations.of(this).addWarningV2(
        'tickwork:taskEnvironment',
        `Task type "${typeName}": its function is not a lambda.Function, so Tickwork cannot set its environment; give it ${Object.keys(this.taskEnvironment).join(', ')} (spread tickwork.taskEnvironment into its environment).`,
      );
    }
  }
}
