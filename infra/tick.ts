/**
 * The tick: its function (from the prebuilt bundle), its log group, and the EventBridge Scheduler
 * schedules that fire it every minute, with their role and dead-letter queue. Every construct is
 * a direct child of the `Tickwork` construct, under the ids it has always had, so deployed
 * stacks keep their resources.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { shardGroups } from '../src/core/due.js';
import { bundledFunction } from './bundled-function.js';
import { lambdaEnvironment } from './environment.js';
import {
  METRICS_NAMESPACE,
  serviceNames,
  TICK_INTERVAL,
  TICK_LOOKAHEAD,
  TICK_SEND_AHEAD,
  tickReserveMs,
} from './names.js';
import type { TickFunctionEnv, TickworkSettings } from './props.js';
import { grantStore } from './table.js';

/** What the tick is built from. */
export interface TickInputs {
  readonly table: Table;
  /** The table's customer-managed key, when it has one. */
  readonly encryptionKey?: IKey | undefined;
  readonly eventBus: IEventBus;
  readonly settings: TickworkSettings;
}

/** The tick's function and its log group (`Tick`, `TickLogs`), with their permissions. */
export function buildTickFunction(
  scope: Construct,
  { table, encryptionKey, eventBus, settings }: TickInputs,
): { fn: LambdaFunction; logGroup: LogGroup } {
  const env: TickFunctionEnv = {
    TICKWORK_TABLE: table.tableName,
    TICKWORK_SHARDS: settings.shardCount,
    ...(settings.formerShardCount ? { TICKWORK_FORMER_SHARDS: settings.formerShardCount } : {}),
    TICKWORK_DUE_KEY_HOLD_MS: TICK_INTERVAL.toMilliseconds(),
    TICKWORK_TICK_RESERVE_MS: tickReserveMs(settings.tickTimeout),
    TICKWORK_LOOKAHEAD_MS: TICK_LOOKAHEAD.toMilliseconds(),
    TICKWORK_SEND_AHEAD_MS: TICK_SEND_AHEAD.toMilliseconds(),
    TICKWORK_TICK_INTERVAL_MS: TICK_INTERVAL.toMilliseconds(),
    TICKWORK_EVENT_BUS: eventBus.eventBusName,
    POWERTOOLS_SERVICE_NAME: serviceNames.tick,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
  const logGroup = new LogGroup(scope, 'TickLogs', { retention: settings.logRetention });
  const fn = bundledFunction(scope, 'Tick', 'tick', {
    description: 'Tickwork tick: dispatches due runs, reaps expired leases',
    timeout: settings.tickTimeout,
    memorySize: settings.tickMemorySize,
    environment: lambdaEnvironment(env),
    logGroup,
  });
  // A failed tick is superseded by the next minute's: Lambda must not queue retries of it.
  fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: TICK_INTERVAL });
  // Its reads, the `due` index, task and scheduler writes, and the batched compare-and-sets as
  // PartiQL UPDATEs (BatchExecuteStatement), which IAM authorises per statement kind.
  grantStore({ table, encryptionKey }, fn, 'tick');
  eventBus.grantPutEventsTo(fn);
  return { fn, logGroup };
}

/** The schedules that fire the tick, and what they need. */
export interface TickSchedules {
  /** One per shard group; `TickSchedule`, then `TickSchedule2`, ... */
  readonly schedules: Schedule[];
  /** `TickScheduleRole`: what EventBridge Scheduler assumes to invoke the tick. */
  readonly role: Role;
  /** `TickDeadLetterQueue`: ticks EventBridge Scheduler could not deliver. */
  readonly deadLetterQueue: Queue;
}

/** A schedule per shard group firing `tick` every minute, retrying briefly, then dead-lettering. */
export function buildTickSchedules(
  scope: Construct,
  tick: LambdaFunction,
  settings: TickworkSettings,
): TickSchedules {
  const deadLetterQueue = new Queue(scope, 'TickDeadLetterQueue', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const role = new Role(scope, 'TickScheduleRole', {
    // Confused-deputy guard: only schedules of this account may assume the role.
    assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'EventBridge Scheduler invokes the Tickwork tick',
  });
  const groups = settings.tickShardGroups;
  const schedules = shardGroups(settings.shardCount, groups).map(
    (shards, g) =>
      new Schedule(scope, g === 0 ? 'TickSchedule' : `TickSchedule${g + 1}`, {
        // On the minute (`cron(* * * * ? *)`), not `rate(1 minute)`, whose firings drift from the
        // minute: each tick takes the leases of the minute ahead and starts each run on its second.
        schedule: ScheduleExpression.cron({ minute: '*' }),
        description:
          groups === 1
            ? 'Tickwork tick (pause and resume through the Tickwork API)'
            : `Tickwork tick, shards ${shards.join(', ')} (pause and resume through the Tickwork API)`,
        target: new LambdaInvoke(tick, {
          role,
          deadLetterQueue,
          // A tick older than its minute is replaced by the next one: retry briefly, then dead-letter.
          retryAttempts: 2,
          maxEventAge: TICK_INTERVAL,
          ...(groups > 1 ? { input: ScheduleTargetInput.fromObject({ shards }) } : {}),
        }),
      }),
  );
  return { schedules, role, deadLetterQueue };
}
