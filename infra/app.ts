/**
 * A ready Tickwork stack with the demo task types and one demo task declared as code:
 * `npx cdk deploy` (see docs/deploying.md).
 *
 * Context (`-c key=value`): `dashboardOrigin` (CORS), `alarmEmail` (subscribes to the alarms'
 * topic), `jwtIssuer` + `jwtAudience` (JWT instead of IAM on the API), `dashboardClientId` (the
 * dashboard signs in through `jwtIssuer` with that public client), `stackName`,
 * `tickShardGroups` (the tick split over that many schedules).
 */
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { tasks } from '../functions/examples/demo.js';
import { projectRoot, repoPath, tickworkFunctionDefaults } from './function-defaults.js';
import { type ApiAuth, Tickwork } from './tickwork.js';

export const app = new App();
const context = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

export const stack = new Stack(app, context('stackName') ?? 'Tickwork', {
  description: 'Tickwork: a serverless scheduler for AWS Lambda (with the demo task types)',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

const alarmTopic = new Topic(stack, 'AlarmTopic', { displayName: 'Tickwork alarms' });
const alarmEmail = context('alarmEmail');
if (alarmEmail) alarmTopic.addSubscription(new EmailSubscription(alarmEmail));

const jwtIssuer = context('jwtIssuer');
const jwtAudience = context('jwtAudience');
const apiAuth: ApiAuth =
  jwtIssuer && jwtAudience
    ? { type: 'jwt', issuer: jwtIssuer, audience: jwtAudience.split(',') }
    : { type: 'iam' };

const dashboardOrigin = context('dashboardOrigin');
const dashboardClientId = context('dashboardClientId');
// A context value given with -c is a string; anything but a whole number fails in the construct.
const tickShardGroups = context('tickShardGroups');
export const tickwork = new Tickwork(stack, 'Tickwork', {
  apiAuth,
  alarmTopic,
  ...(dashboardOrigin ? { dashboardOrigin } : {}),
  ...(dashboardClientId ? { dashboardLogin: { clientId: dashboardClientId } } : {}),
  ...(tickShardGroups ? { tickShardGroups: Number(tickShardGroups) } : {}),
});

// One function serves the three demo types (functions/examples/demo.ts).
const demo = new NodejsFunction(stack, 'DemoTasks', {
  ...tickworkFunctionDefaults,
  // This repository's own lock file (a consumer's NodejsFunction finds theirs).
  projectRoot,
  depsLockFilePath: repoPath('package-lock.json'),
  entry: repoPath('functions/examples/demo.ts'),
  description: 'Tickwork demo task types: demo.echo, demo.work, demo.fail',
  timeout: Duration.minutes(5),
  logGroup: new LogGroup(stack, 'DemoLogs', { retention: RetentionDays.ONE_MONTH }),
});
// Names, descriptions and parameter schemas come from the handler's own task map.
const demoTypes = tickwork.addTaskTypes(demo, tasks);

// A task declared as code: created by the deploy, updated when this declaration changes.
demoTypes.addTask({
  id: 'demo-hourly-work',
  name: 'Demo: hourly work',
  type: 'demo.work',
  schedule: 'rate(1 hour)',
  parameters: { steps: 3, stepMs: 100 },
  description: 'Declared in infra/app.ts: three short steps every hour',
});

new CfnOutput(stack, 'ApiUrl', { value: tickwork.apiUrl });
new CfnOutput(stack, 'TableName', { value: tickwork.table.tableName });
new CfnOutput(stack, 'TickScheduleName', {
  value: tickwork.tickSchedule.scheduleName,
  description: 'The tick schedule (the first of them when the tick is split over shard groups)',
});
new CfnOutput(stack, 'TickDeadLetterQueueUrl', { value: tickwork.tickDeadLetterQueue.queueUrl });
new CfnOutput(stack, 'TaskDeadLetterQueueUrl', { value: tickwork.taskDeadLetterQueue.queueUrl });
new CfnOutput(stack, 'TickLogGroup', { value: tickwork.tickLogGroup.logGroupName });
new CfnOutput(stack, 'ApiLogGroup', { value: tickwork.apiLogGroup.logGroupName });
new CfnOutput(stack, 'ApiAccessLogGroup', { value: tickwork.apiAccessLogGroup.logGroupName });
new CfnOutput(stack, 'DemoLogGroup', { value: demo.logGroup.logGroupName });
new CfnOutput(stack, 'AlarmTopicArn', { value: alarmTopic.topicArn });
