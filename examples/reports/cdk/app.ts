/**
 * The app's stack: Tickwork from the package, the app's own handler function, its task types
 * and one task declared as code. `npx cdk synth` compiles none of Tickwork's TypeScript: the tick
 * and API ship prebuilt inside the package.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Tickwork } from 'tickwork/cdk';
import { tasks } from '../src/tasks.js';

const app = new App();
const stack = new Stack(app, 'ReportsApp');

const tickwork = new Tickwork(stack, 'Tickwork');

const reports = new NodejsFunction(stack, 'Reports', {
  entry: new URL('../src/handler.ts', import.meta.url).pathname,
  runtime: Runtime.NODEJS_22_X,
  architecture: Architecture.ARM_64,
  timeout: Duration.minutes(2),
  bundling: { format: OutputFormat.ESM, target: 'node22', minify: true, sourceMap: true },
});

const reportTypes = tickwork.addTaskTypes(reports, tasks);
reportTypes.addTask({
  id: 'nightly-eu-report',
  type: 'Acme.BuildReport',
  schedule: 'cron(0 6 * * ? *)',
  timezone: 'Europe/Berlin',
  parameters: { region: 'eu', days: 7 },
  system: true,
});

app.synth();
