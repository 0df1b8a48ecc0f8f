/**
 * The construct as a CDK library: any `IFunction` as a task function, grants for API callers,
 * metric methods, task types from a handler's task map, and tasks declared as code. One stack
 * is synthesized for the whole file; the synth errors need no synth at all.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Alias, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { adminRoutes, operateRoutes, readRoutes } from '../../infra/grants.js';
import { METRICS_NAMESPACE, Tickwork } from '../../infra/tickwork.js';
import { roleTable } from '../../src/api/roles.js';
import { routeTable } from '../../src/api/routes.js';
import { defineTask } from '../../src/task/define-task.js';
import {
  actionsOf,
  aNonBundlingApp,
  aTaskFunction,
  literalParts,
  logicalId,
  referencedIds,
  resourcesOf,
  statementsOfRole,
} from './support.js';

const report = defineTask({
  description: 'Builds the report',
  parameters: z.object({ day: z.string(), rows: z.number().int().default(100) }),
  async run() {
    return {};
  },
});
const ping = defineTask({ async run() {} });
const acmeTasks = { 'Acme.Report': report, 'Acme.Ping': ping };

/** A stack with a Tickwork, task functions of every kind, grants, alarms on every metric, tasks. */
function aLibraryStack() {
  const stack = new Stack(aNonBundlingApp(), 'Library', {
    env: { account: '123456789012', region: 'us-east-1' },
  });
  const tickwork = new Tickwork(stack, 'Tickwork');
  const acmeFn = aTaskFunction(stack, 'AcmeFn');
  const acme = tickwork.addTaskTypes(acmeFn, acmeTasks, { timeout: Duration.minutes(2) });
  const imported = LambdaFunction.fromFunctionArn(
    stack,
    'Imported',
    'arn:aws:lambda:us-east-1:123456789012:function:elsewhere',
  );
  tickwork.addTaskType('legacy.imported', imported, { timeout: Duration.minutes(1) });
  const aliased = aTaskFunction(stack, 'AliasedFn');
  const alias = new Alias(stack, 'Live', { aliasName: 'live', version: aliased.currentVersion });
  tickwork.addTaskType('legacy.aliased', alias);
  const roles = Object.fromEntries(
    ['Reader', 'Operator', 'Admin'].map((id) => [
      id,
      new Role(stack, id, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }),
    ]),
  ) as Record<'Reader' | 'Operator' | 'Admin', Role>;
  const grants = {
    read: tickwork.grantRead(roles.Reader),
    operate: tickwork.grantOperate(roles.Operator),
    admin: tickwork.grantAdmin(roles.Admin),
  };
  const metrics = {
    dispatched: tickwork.metricDispatched(),
    lateness: tickwork.metricLateness(),
    skipped: tickwork.metricSkipped(),
    missed: tickwork.metricMissed(),
    timedOut: tickwork.metricTimedOut({ period: Duration.minutes(1) }),
    succeeded: tickwork.metricSucceededRuns(),
  };
  for (const [name, metric] of Object.entries(metrics)) {
    new Alarm(stack, `Watch-${name}`, { metric, threshold: 1, evaluationPeriods: 1 });
  }
  new Alarm(stack, 'Watch-failed', {
    metric: tickwork.metricFailedRuns({ period: Duration.minutes(15) }),
    threshold: 1,
    evaluationPeriods: 1,
  });
  acme.addTask({
    id: 'daily-report',
    type: 'Acme.Report',
    schedule: '0 6 * * *',
    parameters: { day: 'today' },
  });
  tickwork.addTask({
    id: 'ping',
    type: 'legacy.imported',
    schedule: 'rate(5 minutes)',
    timezone: 'Europe/Berlin',
    system: true,
  });
  return { stack, tickwork, acmeFn, aliased, roles, grants, template: Template.fromStack(stack) };
}

let fixture: ReturnType<typeof aLibraryStack>;
beforeAll(() => {
  fixture = aLibraryStack();
});

describe('task functions of any kind (IFunction)', () => {
  it("warns when a type's timeout leaves its function no room for a run held until its second", () => {
    const stack = new Stack(aNonBundlingApp(), 'Timeouts', {
      env: { account: '123456789012', region: 'us-east-1' },
    });
    const tickwork = new Tickwork(stack, 'Tickwork');
    const fn = (id: string, seconds: number) =>
      new LambdaFunction(stack, id, {
        runtime: Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: Code.fromInline('export const handler = async () => ({});'),
        timeout: Duration.seconds(seconds),
      });
    tickwork.addTaskType('fits', fn('Fits', 63), { timeout: Duration.seconds(60) });
    tickwork.addTaskType('no.room', fn('NoRoom', 61), { timeout: Duration.seconds(60) });
    tickwork.addTaskType('too.long', fn('TooLong', 30), { timeout: Duration.minutes(1) });

    const warnings = Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('waits in its handler'))
      .map((w) => String(w.entry.data));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain('"no.room"');
    expect(warnings[0]).toContain("exceeds its function's 1 minute 1 second");
    expect(warnings[0]).toContain('at least 63 s');
    expect(warnings[1]).toContain('"too.long"');
  });

  it('sets the environment of a lambda.Function, and warns for one whose environment it cannot set', () => {
    const { stack, tickwork, acmeFn, template } = fixture;
    const variables = template.toJSON().Resources[logicalId(stack, acmeFn)].Properties.Environment.Variables;
    expect(Object.keys(variables).sort()).toEqual(Object.keys(tickwork.taskEnvironment).sort());
    expect(tickwork.taskEnvironment).toMatchObject({
      TICKWORK_TABLE: expect.any(String),
      TICKWORK_SHARDS: '4',
      POWERTOOLS_SERVICE_NAME: 'tickwork-task',
    });

    const warnings = Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('cannot set its environment'))
      .map((w) => String(w.entry.data));
    expect(warnings).toHaveLength(2);
    expect(warnings.join('\n')).toContain('"legacy.imported"');
    expect(warnings.join('\n')).toContain('"legacy.aliased"');
    expect(warnings[0]).toContain('TICKWORK_TABLE, TICKWORK_SHARDS');
    expect(warnings[0]).toContain('tickwork.taskEnvironment');
  });

  it('registers the alias ARN and turns off async retries on the alias; warns for an imported function', () => {
    const { stack, template, aliased } = fixture;
    const onAliased = Object.values(template.findResources('AWS::Lambda::EventInvokeConfig')).filter(
      (r) => r.Properties.FunctionName.Ref === logicalId(stack, aliased),
    );
    // On the alias (its name, selected from the alias's ARN), not on $LATEST.
    expect(onAliased).toHaveLength(1);
    expect(onAliased[0]?.Properties).toMatchObject({
      MaximumRetryAttempts: 0,
      Qualifier: { 'Fn::Select': expect.anything() },
    });
    const retries = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('async retries'));
    expect(retries.map((w) => String(w.entry.data))).toEqual([expect.stringContaining('"legacy.imported"')]);
    const imported = Object.values(template.findResources('Custom::TickworkTaskType')).find((r) =>
      JSON.stringify(r).includes('TYPE#legacy.imported'),
    );
    expect(JSON.stringify(imported)).toContain('function:elsewhere');
    expect(JSON.stringify(imported)).toContain('\\"timeoutSeconds\\":{\\"N\\":\\"60\\"}');
  });
});

describe('grants to API callers', () => {
  function invokeSuffixes(role: Role): string[] {
    const { stack, template, tickwork } = fixture;
    const apiId = logicalId(stack, tickwork.httpApi);
    const statements = statementsOfRole(template, logicalId(stack, role)).filter((s) =>
      actionsOf(s).includes('execute-api:Invoke'),
    );
    const resources = statements.flatMap((s) => resourcesOf(s));
    for (const resource of resources) expect(referencedIds(resource)).toEqual([apiId]);
    // arn:<partition>:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>
    return resources.map((resource) => literalParts(resource).at(-1) as string).sort();
  }
  const suffix = (route: string) => {
    const [method, path] = route.split(' ') as [string, string];
    return `/*/${method}${path.replace(/\{[^}]+\}/g, '*')}`;
  };

  it('grantRead: every GET route, and nothing else', () => {
    expect(invokeSuffixes(fixture.roles.Reader)).toEqual(readRoutes.map(suffix).sort());
    expect(readRoutes.map(suffix)).toContain('/*/GET/tasks/*/runs/*/logs');
  });

  it('grantOperate: read, run now, cancel, pause and resume', () => {
    expect(invokeSuffixes(fixture.roles.Operator)).toEqual(
      [...readRoutes, ...operateRoutes].map(suffix).sort(),
    );
    expect(invokeSuffixes(fixture.roles.Operator)).toEqual(
      expect.arrayContaining(['/*/POST/tasks/*/run', '/*/POST/scheduler/pause', '/*/POST/scheduler/resume']),
    );
  });

  it('grantAdmin: operate, plus create, edit, delete, apply and backfill', () => {
    expect(invokeSuffixes(fixture.roles.Admin)).toEqual(
      [...readRoutes, ...operateRoutes, ...adminRoutes].map(suffix).sort(),
    );
    expect(adminRoutes.map(suffix).sort()).toEqual([
      '/*/DELETE/tasks/*',
      '/*/PATCH/tasks/*',
      '/*/POST/tasks',
      '/*/POST/tasks/*/backfill',
      '/*/POST/tasks/apply',
    ]);
    expect(fixture.grants.admin.success).toBe(true);
  });

  it('grants exactly the routes of each role the API enforces with JWT scopes (src/api/roles.ts)', () => {
    const byRole = (role: string) =>
      roleTable()
        .filter((r) => r.role === role || (role === 'read' && r.role === 'public'))
        .map((r) => r.route)
        .sort();
    expect([...readRoutes].sort()).toEqual(byRole('read'));
    expect([...operateRoutes].sort()).toEqual(byRole('operate'));
    expect([...adminRoutes].sort()).toEqual(byRole('admin'));
    const every = [...readRoutes, ...operateRoutes, ...adminRoutes].sort();
    expect(every).toEqual(routeTable.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('classifies every route of the API: each GET is read, each operate route exists', () => {
    const routes = routeTable.map((r) => `${r.method} ${r.path}`);
    expect(routes.filter((r) => r.startsWith('GET ')).sort()).toEqual([...readRoutes].sort());
    for (const route of [...readRoutes, ...operateRoutes]) expect(routes).toContain(route);
  });
});

describe('metrics', () => {
  const metricOf = (id: string) =>
    fixture.template.toJSON().Resources[logicalId(fixture.stack, fixture.stack.node.findChild(id) as Alarm)]
      .Properties;

  it.each([
    ['dispatched', 'Dispatched', 'tickwork-tick', 'Sum', 300],
    ['lateness', 'LatenessMax', 'tickwork-tick', 'Maximum', 300],
    ['skipped', 'Skipped', 'tickwork-tick', 'Sum', 300],
    ['missed', 'Missed', 'tickwork-tick', 'Sum', 300],
    ['timedOut', 'TimedOut', 'tickwork-tick', 'Sum', 60],
    ['succeeded', 'Succeeded', 'tickwork-task', 'Sum', 300],
  ])('%s: %s of %s, %s per period', (name, metricName, service, statistic, period) => {
    expect(metricOf(`Watch-${name}`)).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: metricName,
      Dimensions: [{ Name: 'service', Value: service }],
      Statistic: statistic,
      Period: period,
    });
  });

  it('failed runs: the sum of three metrics, over the period asked for', () => {
    const metrics = metricOf('Watch-failed').Metrics as { Id: string; MetricStat?: { Period: number } }[];
    expect(metrics.map((m) => m.Id).sort()).toEqual(['dispatchFailed', 'expr_1', 'failed', 'timedOut']);
    for (const m of metrics.filter((m) => m.MetricStat)) expect(m.MetricStat?.Period).toBe(900);
  });
});

describe('task types from a task map', () => {
  it('registers every type with its description and the JSON Schema of its parameters', () => {
    const types = Object.values(fixture.template.findResources('Custom::TickworkTaskType')).map((r) =>
      JSON.stringify(r.Properties.Create),
    );
    const reportType = types.find((t) => t.includes('TYPE#Acme.Report')) as string;
    expect(reportType).toContain('\\"description\\":{\\"S\\":\\"Builds the report\\"}');
    expect(reportType).toContain('\\"timeoutSeconds\\":{\\"N\\":\\"120\\"}');
    expect(reportType).toContain('parametersSchema');
    expect(reportType).toContain('\\\\\\"day\\\\\\"');
    expect(types.find((t) => t.includes('TYPE#Acme.Ping'))).not.toContain('parametersSchema');
  });

  it('refuses a type name registered twice, from a map or by name', () => {
    const stack = new Stack(aNonBundlingApp(), 'Twice');
    const tickwork = new Tickwork(stack, 'Tickwork');
    const fn = aTaskFunction(stack, 'Fn');
    tickwork.addTaskTypes(fn, acmeTasks);
    expect(() => tickwork.addTaskTypes(fn, { 'Acme.Report': report })).toThrow(
      'Tickwork: task type "Acme.Report" is already registered',
    );
    expect(() => tickwork.addTaskType('Acme.Ping', fn)).toThrow(/already registered/);
  });

  it("types a group's tasks: only its type names, each with its parameters (tsc checks these lines)", () => {
    const stack = new Stack(aNonBundlingApp(), 'Typed');
    const group = new Tickwork(stack, 'Tickwork').addTaskTypes(aTaskFunction(stack, 'Fn'), acmeTasks);
    expect(group.names).toEqual(['Acme.Report', 'Acme.Ping']);
    const misspelt = () =>
      // @ts-expect-error 'Acme.Reprot' is not a type of the map.
      group.addTask({ id: 'a', type: 'Acme.Reprot', schedule: '0 6 * * *' });
    const badParameters = () =>
      // @ts-expect-error `rows` is a number, and `day` is required (`rows` may be left out: it has a default).
      group.addTask({ id: 'b', type: 'Acme.Report', schedule: '0 6 * * *', parameters: { rows: 'x' } });
    const fine = () =>
      group.addTask({ id: 'c', type: 'Acme.Report', schedule: '0 6 * * *', parameters: { day: 'mon' } });

    expect(misspelt).toThrow(/not registered/);
    expect(badParameters).toThrow(
      'Tickwork: task "b": parameters do not fit type "Acme.Report": day: Invalid input: expected string, received undefined; rows: Invalid input: expected number, received string',
    );
    expect(fine).not.toThrow();
  });
});

describe('tasks as code', () => {
  it('become one Custom::TickworkTask each, carrying the declaration as JSON', () => {
    const { template } = fixture;
    const tasks = template.findResources('Custom::TickworkTask');
    const declarations = Object.fromEntries(
      Object.values(tasks).map((r) => {
        const declaration = JSON.parse(r.Properties.TickworkTask) as { id: string };
        return [declaration.id, declaration];
      }),
    );
    expect(declarations).toEqual({
      'daily-report': {
        id: 'daily-report',
        type: 'Acme.Report',
        name: 'daily-report',
        schedule: '0 6 * * *',
        parameters: { day: 'today' },
        system: false,
      },
      ping: {
        id: 'ping',
        type: 'legacy.imported',
        name: 'ping',
        schedule: 'rate(5 minutes)',
        timezone: 'Europe/Berlin',
        system: true,
      },
    });
  });

  it('go through one Provider whose onEvent handler is the API function, after their type is registered', () => {
    const { stack, tickwork, template } = fixture;
    const apiId = logicalId(stack, tickwork.apiFunction);
    const frameworks = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, r]) =>
      JSON.stringify(r.Properties.Environment ?? {}).includes('USER_ON_EVENT_FUNCTION_ARN'),
    );
    expect(frameworks).toHaveLength(1);
    const [frameworkId, framework] = frameworks[0] as [string, { Properties: Record<string, unknown> }];
    expect(framework.Properties.Runtime).toBe('nodejs22.x');
    expect(referencedIds(framework.Properties.Environment)).toEqual([apiId]);
    const tasks = Object.entries(template.findResources('Custom::TickworkTask'));
    expect(tasks).toHaveLength(2);
    for (const [id, task] of tasks) {
      expect(task.Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [frameworkId, 'Arn'] });
      expect(id).toMatch(/^TickworkTask/);
    }
    const reportTask = tasks.find(([, t]) => t.Properties.TickworkTask.includes('daily-report'))?.[1];
    const reportType = Object.entries(template.findResources('Custom::TickworkTaskType')).find(([, r]) =>
      JSON.stringify(r).includes('TYPE#Acme.Report'),
    )?.[0];
    expect(reportTask?.DependsOn).toContain(reportType);
  });

  it('refuse at synth: an unregistered type, a bad schedule, a bad field, a duplicate id', () => {
    const stack = new Stack(aNonBundlingApp(), 'Refusals');
    const tickwork = new Tickwork(stack, 'Tickwork');
    tickwork.addTaskTypes(aTaskFunction(stack, 'Fn'), acmeTasks);
    const base = { id: 't', type: 'Acme.Ping', schedule: 'rate(5 minutes)' };

    expect(() => tickwork.addTask({ ...base, type: 'Acme.Pong' })).toThrow(
      'Tickwork: task "t" has type "Acme.Pong", which is not registered in this construct (registered: Acme.Ping, Acme.Report)',
    );
    expect(() => tickwork.addTask({ ...base, schedule: '61 * * * *' })).toThrow(
      /^Tickwork: task "t": .*minute/,
    );
    expect(() => tickwork.addTask({ ...base, schedule: 'rate(30 seconds)' })).toThrow(
      /^Tickwork: task "t": /,
    );
    expect(() => tickwork.addTask({ ...base, timezone: 'Mars/Olympus' })).toThrow(
      /^Tickwork: task "t": .*timezone/,
    );
    expect(() => tickwork.addTask({ ...base, priority: 5000 })).toThrow(
      /^Tickwork: task "t" is invalid: priority/,
    );
    expect(() => tickwork.addTask({ ...base, id: 'has/slash' })).toThrow(/is invalid: id/);
    expect(() => tickwork.addTask({ ...base, mustSucceedEvery: '30s' })).toThrow(
      /^Tickwork: task "t" is invalid: mustSucceedEvery: "30s" is below 1 minute/,
    );
    tickwork.addTask({ ...base, id: 'promised', mustSucceedEvery: '26h' });
    tickwork.addTask(base);
    expect(() => tickwork.addTask(base)).toThrow('Tickwork: task "t" is already declared');
  });
});

describe('the tickwork/cdk entry point (infra/index.ts)', () => {
  it('exports the construct, the task-function props and the names, and no path into this repository', async () => {
    const cdk = await import('../../infra/index.js');

    expect(cdk.Tickwork).toBe(Tickwork);
    expect(cdk.METRICS_NAMESPACE).toBe('Tickwork');
    expect(cdk.serviceNames.task).toBe('tickwork-task');
    expect(Object.keys(cdk.tickworkFunctionDefaults).sort()).toEqual([
      'architecture',
      'bundling',
      'memorySize',
      'runtime',
    ]);
    expect(Object.keys(cdk)).not.toContain('repoPath');
  });
});
