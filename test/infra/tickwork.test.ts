import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Rule } from 'aws-cdk-lib/aws-events';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsCustomResource } from 'aws-cdk-lib/custom-resources';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  METRICS_NAMESPACE,
  metricNames,
  serviceNames,
  type TickFunctionEnv,
  Tickwork,
  tickReserveMs,
} from '../../infra/tickwork.js';
import { globalIndexes, tableDefinition } from '../../src/store/table-definition.js';
import {
  actionsOf,
  aNonBundlingApp,
  aTickworkStack,
  literalParts,
  logicalId,
  referencedIds,
  resourcesOf,
  roleOfFunction,
  type Statement,
  statementsOfRole,
  type TableAccess,
  tableAccessOf,
  theDefaultStack,
} from './support.js';

/** Access grants in the order `tableAccessOf` returns them. */
function sortedAccess(access: TableAccess[]): TableAccess[] {
  return [...access].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('the tick schedule', () => {
  it('fires the tick every minute with a retry policy and a dead-letter queue', () => {
    // Arrange
    const { stack, tickwork, template } = theDefaultStack();
    const tickId = logicalId(stack, tickwork.tickFunction);
    const dlqId = logicalId(stack, tickwork.tickDeadLetterQueue);
    const roleId = logicalId(stack, tickwork.tickScheduleRole);

    // Assert
    template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(* * * * ? *)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::GetAtt': [tickId, 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
      },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    // It looks to 2 s into the minute after next and waits for those runs' instants: 150 s by default.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 150,
      Environment: {
        Variables: Match.objectLike({ TICKWORK_LOOKAHEAD_MS: '122000', TICKWORK_TICK_INTERVAL_MS: '60000' }),
      },
    });
  });

  it('split over shard groups: one schedule per group with its shards, all paused by the API', () => {
    const { stack, tickwork, template } = aTickworkStack({ shardCount: 4, tickShardGroups: 2 });
    const tickId = logicalId(stack, tickwork.tickFunction);

    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    expect(tickwork.tickSchedules).toHaveLength(2);
    expect(tickwork.tickSchedule).toBe(tickwork.tickSchedules[0]);
    for (const [i, shards] of [
      [0, [0, 2]],
      [1, [1, 3]],
    ] as const) {
      const schedule = template.toJSON().Resources[logicalId(stack, tickwork.tickSchedules[i] as never)];
      expect(schedule.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': [tickId, 'Arn'] });
      expect(JSON.parse(schedule.Properties.Target.Input)).toEqual({ shards });
    }
    const names = tickwork.tickSchedules.map((schedule) => ({ Ref: logicalId(stack, schedule as never) }));
    const apiId = logicalId(stack, tickwork.apiFunction);
    const api = template.toJSON().Resources[apiId];
    expect(api.Properties.Environment.Variables.TICKWORK_TICK_SCHEDULE_NAME).toEqual({
      'Fn::Join': [',', names],
    });
    const scheduler = statementsOfRole(template, roleOfFunction(template, apiId)).filter((st) =>
      actionsOf(st).some((a) => a.startsWith('scheduler:')),
    );
    // IAM resource lists are sorted by CDK: compare as sets.
    const arnIds = (resources: unknown[]) =>
      resources.map((r) => (r as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]).sort();
    expect(arnIds(scheduler.flatMap((st) => resourcesOf(st)))).toEqual(
      arnIds(
        tickwork.tickSchedules.map((schedule) => ({
          'Fn::GetAtt': [logicalId(stack, schedule as never), 'Arn'],
        })),
      ),
    );
  });

  it('refuses more shard groups than shards', () => {
    expect(() => aTickworkStack({ shardCount: 4, tickShardGroups: 5 })).toThrow(
      'Tickwork: tickShardGroups must be a whole number from 1 to shardCount (4), got 5',
    );
    expect(() => aTickworkStack({ tickShardGroups: 0 })).toThrow(/tickShardGroups must be/);
  });

  it('lets the schedule role invoke the tick and dead-letter, nothing else', () => {
    const { stack, tickwork, template } = theDefaultStack();
    const roleId = logicalId(stack, tickwork.tickScheduleRole);

    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } },
          }),
        ],
      },
    });
    const statements = statementsOfRole(template, roleId);
    const actions = statements.flatMap(actionsOf).sort();
    expect(actions).toEqual(['lambda:InvokeFunction', 'sqs:SendMessage']);
    const invoke = statements.filter((s) => actionsOf(s).includes('lambda:InvokeFunction'));
    expect(new Set(invoke.flatMap((s) => referencedIds(s.Resource)))).toEqual(
      new Set([logicalId(stack, tickwork.tickFunction)]),
    );
  });

  it('turns off Lambda retries of a failed tick: the next minute supersedes it', () => {
    const { stack, tickwork, template } = theDefaultStack();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, tickwork.tickFunction) },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });
});

describe('the table', () => {
  it('is built from the one table definition: keys, every index, TTL', () => {
    const { template } = theDefaultStack();
    const indexes = globalIndexes();

    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey.name, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey.name, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: tableDefinition.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      GlobalSecondaryIndexes: indexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      })),
    });
    const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0] as {
      Properties: { AttributeDefinitions: { AttributeName: string; AttributeType: string }[] };
    };
    const expected = [
      tableDefinition.partitionKey,
      tableDefinition.sortKey,
      ...indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
    ].map((a) => ({ AttributeName: a.name, AttributeType: a.type }));
    expect(table.Properties.AttributeDefinitions).toEqual(expect.arrayContaining(expected));
    expect(table.Properties.AttributeDefinitions).toHaveLength(expected.length);
  });

  it('keeps the former due index beside due2 while a 0.2 table upgrades (keepFormerDueIndex)', () => {
    const names = (template: ReturnType<typeof theDefaultStack>['template']) => {
      const table = Object.values(template.findResources('AWS::DynamoDB::Table'))[0] as {
        Properties: {
          GlobalSecondaryIndexes: { IndexName: string; Projection: { ProjectionType: string } }[];
        };
      };
      return table.Properties.GlobalSecondaryIndexes.map(
        (i) => `${i.IndexName}:${i.Projection.ProjectionType}`,
      );
    };
    expect(names(theDefaultStack().template)).toEqual(['due2:KEYS_ONLY', 'tasks:KEYS_ONLY', 'runs:INCLUDE']);
    expect(names(aTickworkStack({ keepFormerDueIndex: true }).template)).toEqual([
      'due2:KEYS_ONLY',
      'tasks:KEYS_ONLY',
      'runs:INCLUDE',
      'due:ALL',
    ]);
  });

  it('is retained when it leaves the stack, unless told otherwise', () => {
    theDefaultStack().template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    aTickworkStack({ removalPolicy: RemovalPolicy.DESTROY }).template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
    });
  });
});

describe('least privilege', () => {
  function rolesOf(fixture: ReturnType<typeof aTickworkStack>) {
    const { stack, tickwork, template } = fixture;
    return {
      tick: statementsOfRole(template, roleOfFunction(template, logicalId(stack, tickwork.tickFunction))),
      api: statementsOfRole(template, roleOfFunction(template, logicalId(stack, tickwork.apiFunction))),
    };
  }

  it('gives the tick and the API no wildcard action', () => {
    const { tick, api } = rolesOf(theDefaultStack());
    for (const statement of [...tick, ...api]) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
    }
  });

  it('lets the tick and the API invoke the registered task functions only, and the API the tick', () => {
    const fixture = theDefaultStack();
    const { stack, tasks } = fixture;
    const registered = new Set(Object.values(tasks).map((fn) => logicalId(stack, fn)));
    const tickId = logicalId(stack, fixture.tickwork.tickFunction);
    for (const [role, statements] of Object.entries(rolesOf(fixture))) {
      const invoke = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('lambda:')));
      for (const s of invoke) expect(actionsOf(s)).toEqual(['lambda:InvokeFunction']);
      // The API asks the tick to plan a task a write made due before the next tick (plan-soon).
      const expected = role === 'api' ? new Set([...registered, tickId]) : registered;
      expect(new Set(invoke.flatMap((s) => referencedIds(s.Resource))), role).toEqual(expected);
      // The function's ARN, and its versions and aliases (`:*`): nothing wider.
      for (const part of invoke.flatMap((s) => literalParts(s.Resource)).filter((p) => p !== '')) {
        expect(part).toBe(':*');
      }
    }
  });

  /** Every role's DynamoDB access, action by action (see `storeAccess` in infra/table.ts). */
  const tableReads = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'];
  const taskOrScheduler = ['TASK#*', 'SCHEDULER'];

  it("gives the tick exactly the store's reads, the due index, task and scheduler writes and PartiQL updates", () => {
    const fixture = theDefaultStack();
    const tableId = logicalId(fixture.stack, fixture.tickwork.table);
    expect(tableAccessOf(rolesOf(fixture).tick, tableId)).toEqual(
      sortedAccess([
        { on: 'table', actions: [...tableReads, 'dynamodb:PartiQLUpdate'].sort() },
        { on: 'index/due', actions: ['dynamodb:Query'] },
        { on: 'index/due2', actions: ['dynamodb:Query'] },
        { on: 'index/runs', actions: ['dynamodb:Query'] },
        { on: 'table', partitions: taskOrScheduler, actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'] },
        { on: 'table', partitions: ['SCHEDULER'], actions: ['dynamodb:DeleteItem'] },
      ]),
    );
  });

  it('gives the API exactly the reads, the tasks index, and task and scheduler writes with deletes', () => {
    const fixture = theDefaultStack();
    const tableId = logicalId(fixture.stack, fixture.tickwork.table);
    expect(tableAccessOf(rolesOf(fixture).api, tableId)).toEqual(
      sortedAccess([
        { on: 'table', actions: tableReads },
        { on: 'index/tasks', actions: ['dynamodb:Query'] },
        { on: 'index/runs', actions: ['dynamodb:Query'] },
        {
          on: 'table',
          partitions: taskOrScheduler,
          actions: [
            'dynamodb:BatchWriteItem',
            'dynamodb:DeleteItem',
            'dynamodb:PutItem',
            'dynamodb:UpdateItem',
          ],
        },
      ]),
    );
  });

  it('keeps a task function to task partitions: get, put and update, no query, index, delete or batch', () => {
    const { stack, tickwork, template, tasks } = theDefaultStack();
    const tableId = logicalId(stack, tickwork.table);
    for (const fn of Object.values(tasks)) {
      const statements = statementsOfRole(template, roleOfFunction(template, logicalId(stack, fn)));
      expect(tableAccessOf(statements, tableId)).toEqual([
        {
          on: 'table',
          partitions: ['TASK#*'],
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        },
      ]);
      expect(statements.flatMap(actionsOf)).toContain('events:PutEvents');
      expect(statements.flatMap(actionsOf).filter((a) => /^(scheduler|lambda|iam|kms):/.test(a))).toEqual([]);
    }
  });

  it('lets only the tick send PartiQL, and only updates on the table itself, no index', () => {
    const fixture = theDefaultStack();
    const tableId = logicalId(fixture.stack, fixture.tickwork.table);
    const { tick, api } = rolesOf(fixture);
    const partiql = (statements: Statement[]) =>
      tableAccessOf(statements, tableId).filter((g) =>
        g.actions.some((a) => a.startsWith('dynamodb:PartiQL')),
      );
    expect(partiql(api)).toEqual([]);
    const [grant, ...more] = partiql(tick);
    expect(more).toEqual([]);
    expect(grant?.on).toBe('table');
    expect(grant?.partitions).toBeUndefined();
    expect(grant?.actions.filter((a) => a.startsWith('dynamodb:PartiQL'))).toEqual([
      'dynamodb:PartiQLUpdate',
    ]);
  });

  it('grants no Scan, no ConditionCheckItem and no table administration to anyone', () => {
    const fixture = theDefaultStack();
    const { stack, template, tasks } = fixture;
    const roles = [
      ...Object.values(rolesOf(fixture)),
      ...Object.values(tasks).map((fn) =>
        statementsOfRole(template, roleOfFunction(template, logicalId(stack, fn))),
      ),
    ];
    const allowed = new Set([
      ...tableReads,
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:PartiQLUpdate',
    ]);
    for (const statements of roles) {
      const dynamo = statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'));
      expect(dynamo.filter((a) => !allowed.has(a))).toEqual([]);
    }
  });

  it('lets the API read and update exactly the tick schedule, passing only its role', () => {
    const fixture = theDefaultStack();
    const { stack, tickwork } = fixture;
    const { api } = rolesOf(fixture);
    const scheduler = api.filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')));
    expect(scheduler.flatMap(actionsOf).sort()).toEqual([
      'scheduler:GetSchedule',
      'scheduler:UpdateSchedule',
    ]);
    expect(scheduler.flatMap((s) => resourcesOf(s))).toEqual([
      { 'Fn::GetAtt': [logicalId(stack, tickwork.tickSchedule), 'Arn'] },
    ]);
    const passRole = api.filter((s) => actionsOf(s).includes('iam:PassRole'));
    expect(passRole).toHaveLength(1);
    expect(passRole[0]?.Resource).toEqual({
      'Fn::GetAtt': [logicalId(stack, tickwork.tickScheduleRole), 'Arn'],
    });
    expect(passRole[0]?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
  });

  it('emits run events to the default bus only', () => {
    const fixture = theDefaultStack();
    const { tick } = rolesOf(fixture);
    const put = tick.filter((s: Statement) => actionsOf(s).includes('events:PutEvents'));
    expect(put).toHaveLength(1);
    expect(literalParts(put[0]?.Resource).join('')).toMatch(/:event-bus\/default$/);
  });
});

describe('the HTTP API', () => {
  it('puts IAM authorization on every route by default', () => {
    const { template } = theDefaultStack();
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(routes).length).toBeGreaterThanOrEqual(1);
    template.allResourcesProperties('AWS::ApiGatewayV2::Route', { AuthorizationType: 'AWS_IAM' });
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
  });

  it('puts a JWT authorizer on every route but the dashboard page and its sign-in settings when configured', () => {
    const { template } = aTickworkStack({
      apiAuth: { type: 'jwt', issuer: 'https://issuer.example.com', audience: ['tickwork'] },
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      JwtConfiguration: { Issuer: 'https://issuer.example.com', Audience: ['tickwork'] },
    });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as { RouteKey: string; AuthorizationType: string },
    );
    const catchAll = routes.filter(
      (r) =>
        r.RouteKey.startsWith('ANY ') || r.RouteKey === 'GET /' || r.RouteKey === 'GET /dashboard-config',
    );
    expect(catchAll.map((r) => [r.RouteKey, r.AuthorizationType]).sort()).toEqual([
      ['ANY /', 'JWT'],
      ['ANY /{proxy+}', 'JWT'],
      ['GET /', 'NONE'],
      ['GET /dashboard-config', 'NONE'],
    ]);
  });

  it('requires, with JWT, any scope that grants each route its role, under the configured prefix', () => {
    const { template, stack, tickwork } = aTickworkStack({
      apiAuth: {
        type: 'jwt',
        issuer: 'https://issuer.example.com',
        audience: ['tickwork'],
        scopePrefix: 'ops/',
      },
      auditRetention: Duration.days(30),
    });
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => r.Properties as { RouteKey: string; AuthorizationType: string; AuthorizationScopes?: string[] },
    );
    const scoped = Object.fromEntries(
      routes.filter((r) => r.AuthorizationScopes).map((r) => [r.RouteKey, r.AuthorizationScopes]),
    );
    const read = ['ops/read', 'ops/operate', 'ops/admin'];
    const operate = ['ops/operate', 'ops/admin'];
    expect(scoped).toEqual({
      'GET /openapi.json': read,
      'GET /task-types': read,
      'GET /tasks': read,
      'GET /tasks/{id}': read,
      'GET /tasks/{id}/runs': read,
      'GET /tasks/{id}/runs/{runId}': read,
      'GET /tasks/{id}/runs/{runId}/logs': read,
      'GET /scheduler': read,
      'GET /schedule-preview': read,
      'GET /audit': read,
      'GET /runs': read,
      'GET /backfills': read,
      'POST /tasks/{id}/run': operate,
      'POST /tasks/{id}/runs/{runId}/replay': operate,
      'POST /tasks/{id}/cancel': operate,
      'POST /scheduler/pause': operate,
      'POST /scheduler/resume': operate,
      'POST /tasks': ['ops/admin'],
      'POST /tasks/apply': ['ops/admin'],
      'PATCH /tasks/{id}': ['ops/admin'],
      'DELETE /tasks/{id}': ['ops/admin'],
      'POST /tasks/{id}/backfill': ['ops/admin'],
    });
    for (const route of routes.filter((r) => r.AuthorizationScopes))
      expect(route.AuthorizationType).toBe('JWT');
    expect(
      template.toJSON().Resources[logicalId(stack, tickwork.apiFunction)].Properties.Environment.Variables,
    ).toMatchObject({
      TICKWORK_API_AUTH: 'jwt',
      TICKWORK_SCOPE_PREFIX: 'ops/',
      TICKWORK_AUDIT_RETENTION_DAYS: '30',
    });
  });

  it('keeps audit entries 90 days unless told, and refuses a retention that is not whole days', () => {
    const { template, stack, tickwork } = theDefaultStack();
    expect(
      template.toJSON().Resources[logicalId(stack, tickwork.apiFunction)].Properties.Environment.Variables,
    ).toMatchObject({
      TICKWORK_API_AUTH: 'iam',
      TICKWORK_AUDIT_RETENTION_DAYS: '90',
    });
    expect(() => aTickworkStack({ auditRetention: Duration.hours(36) })).toThrow(
      /auditRetention must be whole days/,
    );
    expect(() => aTickworkStack({ auditRetention: Duration.days(0) })).toThrow(/auditRetention/);
  });

  it("allows the dashboard's origin by CORS, and none without one", () => {
    aTickworkStack({ dashboardOrigin: 'https://ops.example.com' }).template.hasResourceProperties(
      'AWS::ApiGatewayV2::Api',
      { CorsConfiguration: Match.objectLike({ AllowOrigins: ['https://ops.example.com'] }) },
    );
    theDefaultStack().template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: Match.absent(),
    });
  });
});

describe('the HTTP API stage', () => {
  it('throttles the default stage: 50 requests a second, bursts of 100, unless told otherwise', () => {
    const stageOf = (template: Template) =>
      Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
        Properties: { DefaultRouteSettings: unknown };
      };
    expect(stageOf(theDefaultStack().template).Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
    });
    const custom = aTickworkStack({ apiThrottle: { rateLimit: 5, burstLimit: 10 } });
    expect(stageOf(custom.template).Properties.DefaultRouteSettings).toEqual({
      ThrottlingRateLimit: 5,
      ThrottlingBurstLimit: 10,
    });
    expect(() => aTickworkStack({ apiThrottle: { rateLimit: -1, burstLimit: 10 } })).toThrow(
      /apiThrottle.rateLimit/,
    );
  });

  it("logs every request as JSON to a log group with the construct's retention, naming the caller", () => {
    const { stack, tickwork, template } = theDefaultStack();
    const logGroupId = logicalId(stack, tickwork.apiAccessLogGroup);
    expect(template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(30);
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
      Properties: { AccessLogSettings: { DestinationArn: unknown; Format: string } };
    };
    const settings = stage.Properties.AccessLogSettings;
    expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({
      requestId: '$context.requestId',
      ip: '$context.identity.sourceIp',
      route: '$context.routeKey',
      status: '$context.status',
      latency: '$context.responseLatency',
      caller: '$context.identity.userArn',
    });
  });

  it('names the JWT subject as the caller with JWT authorization', () => {
    const { template } = aTickworkStack({
      apiAuth: { type: 'jwt', issuer: 'https://issuer.example.com', audience: ['tickwork'] },
    });
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as {
      Properties: { AccessLogSettings: { Format: string } };
    };
    expect(JSON.parse(stage.Properties.AccessLogSettings.Format)).toMatchObject({
      caller: '$context.authorizer.claims.sub',
    });
  });
});

describe('task types', () => {
  it('turns off Lambda async retries on every task function, once per function', () => {
    const { stack, template, tasks } = theDefaultStack();
    for (const fn of Object.values(tasks)) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(stack, fn) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
      });
    }
    // Two task functions and the tick.
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 3);
  });

  it("sends task functions' failed async invocations to an encrypted, TLS-only dead-letter queue", () => {
    const { stack, tickwork, template, tasks } = theDefaultStack();
    const queueId = logicalId(stack, tickwork.taskDeadLetterQueue);
    for (const fn of Object.values(tasks)) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalId(stack, fn) },
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
      });
      const statements = statementsOfRole(template, roleOfFunction(template, logicalId(stack, fn)));
      const sqs = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sqs:')));
      expect(sqs.flatMap(actionsOf).sort()).toEqual([
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ]);
      expect(sqs.flatMap((s) => referencedIds(s.Resource))).toEqual([queueId]);
    }
    // The tick's own async config has no destination: a failed tick is superseded, and alarmed.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(stack, tickwork.tickFunction) },
      DestinationConfig: Match.absent(),
    });
    expect(template.toJSON().Resources[queueId].Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('alarms on a message in the task dead-letter queue, and exposes the alarm', () => {
    const { stack, tickwork, template } = theDefaultStack();
    const alarm = template.toJSON().Resources[logicalId(stack, tickwork.taskDeadLetterAlarm)];
    expect(alarm.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack, tickwork.taskDeadLetterQueue), 'QueueName'] },
        },
      ],
    });
  });

  it('registers each type in the table at deploy time, in the item shape the store reads', () => {
    const { stack, template, tasks } = aTickworkStack(
      {},
      {
        types: [
          {
            name: 'reports.daily',
            fn: 'ReportFn',
            options: { timeout: Duration.minutes(5), description: 'Daily' },
          },
        ],
      },
    );
    const registrations = Object.values(template.findResources('Custom::TickworkTaskType'));
    expect(registrations).toHaveLength(1);
    const create = JSON.stringify(
      (registrations[0] as { Properties: { Create: unknown } }).Properties.Create,
    );
    expect(create).toContain('\\"action\\":\\"putItem\\"');
    expect(create).toContain('\\"pk\\":{\\"S\\":\\"TYPES\\"}');
    expect(create).toContain('\\"sk\\":{\\"S\\":\\"TYPE#reports.daily\\"}');
    expect(create).toContain('\\"name\\":{\\"S\\":\\"reports.daily\\"}');
    expect(create).toContain('\\"timeoutSeconds\\":{\\"N\\":\\"300\\"}');
    expect(create).toContain('\\"description\\":{\\"S\\":\\"Daily\\"}');
    const reportFn = tasks.ReportFn;
    if (!reportFn) throw new Error('fixture without ReportFn');
    expect(referencedIds(registrations[0])).toContain(logicalId(stack, reportFn));
    const del = JSON.stringify((registrations[0] as { Properties: { Delete: unknown } }).Properties.Delete);
    expect(del).toContain('\\"action\\":\\"deleteItem\\"');
  });

  it('refuses a type registered twice and a malformed name', () => {
    const { tickwork, tasks } = aTickworkStack();
    const fn = tasks.ReportFn;
    if (!fn) throw new Error('fixture without ReportFn');
    expect(() => tickwork.addTaskType('reports.daily', fn)).toThrow(/already registered/);
    expect(() => tickwork.addTaskType('has/slash', fn)).toThrow(/task type name/);
  });
});

describe('alarms', () => {
  it('watches tick errors, dead letters (ticks and task invocations), failed runs and refused run events, without actions when no topic is given', () => {
    const { template } = theDefaultStack();
    template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'LatenessP99',
      Statistic: 'Maximum',
      Threshold: 1000,
      EvaluationPeriods: 3,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: METRICS_NAMESPACE,
      MetricName: 'RefusedRunEvents',
      Dimensions: [{ Name: 'service', Value: 'tickwork-task' }],
      Threshold: 1,
    });
    template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent() });
  });

  it('notifies the alarm topic on alarm and back to OK', () => {
    let topicId = '';
    const { template } = aTickworkStack(
      {},
      {
        withStack: (stack) => {
          const alarmTopic = new Topic(stack, 'Alarms');
          topicId = logicalId(stack, alarmTopic);
          return { alarmTopic };
        },
      },
    );
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as {
      Properties: { AlarmActions: unknown; OKActions: unknown };
    }[];
    expect(alarms).toHaveLength(9);
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
  });

  it('watches overdue tasks, skipped and missed slots: metrics of the tick, at one or more in 5 minutes', () => {
    const { stack, tickwork, template } = theDefaultStack();
    const resources = template.toJSON().Resources;
    for (const [alarm, metric] of [
      [tickwork.overdueTasksAlarm, metricNames.tick.overdueTasks],
      [tickwork.skippedRunsAlarm, metricNames.tick.skipped],
      [tickwork.missedRunsAlarm, metricNames.tick.missed],
    ] as const) {
      expect(resources[logicalId(stack, alarm)].Properties).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: serviceNames.tick }],
        Statistic: 'Sum',
        Period: 300,
        Threshold: 1,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
    expect(logicalId(stack, tickwork.overdueTasksAlarm)).toMatch(/^TickworkOverdueTasksAlarm/);
    expect(tickwork.metricOverdueTasks().metricName).toBe('OverdueTasks');
  });

  it('counts failed runs from the Tickwork namespace: tick time-outs and dispatch failures, task failures', () => {
    const { template } = theDefaultStack();
    const metric = (service: string, name: string) =>
      Match.objectLike({
        MetricStat: Match.objectLike({
          Metric: {
            Namespace: METRICS_NAMESPACE,
            MetricName: name,
            Dimensions: [{ Name: 'service', Value: service }],
          },
        }),
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        metric(serviceNames.tick, metricNames.tick.timedOut),
        metric(serviceNames.tick, metricNames.tick.dispatchFailed),
        metric(serviceNames.task, metricNames.task.failed),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
    });
  });
});

describe('run events', () => {
  it('offers a pattern matching every run event, for rules that route alerts', () => {
    const stack = new Stack(aNonBundlingApp(), 'Events');
    const tickwork = new Tickwork(stack, 'Tickwork');
    new Rule(stack, 'RunAlerts', { eventPattern: tickwork.runEventPattern });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['tickwork'],
        'detail-type': Match.arrayWith([
          'Tickwork Run Failed',
          'Tickwork Run Timed Out',
          'Tickwork Run Missed',
          'Tickwork Task Overdue',
        ]),
      },
    });
  });
});

describe('functions', () => {
  it('run Node.js 22 on arm64', () => {
    const { stack, tickwork, template } = theDefaultStack();
    for (const fn of [tickwork.tickFunction, tickwork.apiFunction]) {
      expect(template.toJSON().Resources[logicalId(stack, fn)].Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
    }
  });

  it('run Node.js 22 everywhere, the custom-resource provider included', () => {
    const { template } = theDefaultStack();
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Runtime: string };
    }[];
    // tick, API, two task functions, an unrelated one, the type-registration provider
    expect(functions).toHaveLength(6);
    for (const fn of functions) expect(fn.Properties.Runtime).toBe('nodejs22.x');
  });

  it('give the tick its variables, its time budget following its timeout', () => {
    const { stack, tickwork, template } = aTickworkStack({ tickTimeout: Duration.seconds(30) });
    expect(template.toJSON().Resources[logicalId(stack, tickwork.tickFunction)].Properties).toMatchObject({
      Timeout: 30,
      Environment: {
        Variables: {
          TICKWORK_TABLE: { Ref: logicalId(stack, tickwork.table) },
          TICKWORK_SHARDS: '4',
          TICKWORK_TICK_RESERVE_MS: '5000',
          TICKWORK_EVENT_BUS: 'default',
          POWERTOOLS_SERVICE_NAME: 'tickwork-tick',
          POWERTOOLS_METRICS_NAMESPACE: 'Tickwork',
        },
      },
    });
    expect(tickReserveMs(Duration.seconds(60))).toBe(10_000);
    expect(tickReserveMs(Duration.seconds(30))).toBe(5_000);
    expect(tickReserveMs(Duration.minutes(5))).toBe(10_000);
  });

  it('give the API the tick schedule to pause, and the CORS origin', () => {
    const { stack, tickwork, template } = aTickworkStack({ dashboardOrigin: 'https://ops.example.com' });
    expect(template.toJSON().Resources[logicalId(stack, tickwork.apiFunction)].Properties).toMatchObject({
      Environment: {
        Variables: {
          TICKWORK_TABLE: { Ref: logicalId(stack, tickwork.table) },
          TICKWORK_SHARDS: '4',
          TICKWORK_TICK_SCHEDULE_NAME: { Ref: logicalId(stack, tickwork.tickSchedule) },
          TICKWORK_TICK_SCHEDULE_GROUP: 'default',
          TICKWORK_MIN_INTERVAL_MS: '1000',
          TICKWORK_CORS_ORIGIN: 'https://ops.example.com',
          POWERTOOLS_SERVICE_NAME: 'tickwork-api',
          POWERTOOLS_METRICS_NAMESPACE: 'Tickwork',
        },
      },
    });
  });

  it('give task functions the table, the shard count and the event bus', () => {
    const { stack, tickwork, template, tasks } = aTickworkStack({ shardCount: 8 });
    for (const fn of Object.values(tasks)) {
      expect(
        template.toJSON().Resources[logicalId(stack, fn)].Properties.Environment.Variables,
      ).toMatchObject({
        TICKWORK_TABLE: { Ref: logicalId(stack, tickwork.table) },
        TICKWORK_SHARDS: '8',
        TICKWORK_EVENT_BUS: 'default',
        POWERTOOLS_SERVICE_NAME: 'tickwork-task',
        POWERTOOLS_METRICS_NAMESPACE: 'Tickwork',
      });
    }
  });

  it('type their environment from the schemas: a missing variable fails tsc', () => {
    // @ts-expect-error TICKWORK_TABLE is required by the tick's schema.
    const env: TickFunctionEnv = { TICKWORK_EVENT_BUS: 'default', POWERTOOLS_METRICS_NAMESPACE: 'Tickwork' };
    expect(env.TICKWORK_EVENT_BUS).toBe('default');
  });
});

describe('encryption', () => {
  const kmsActions = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'];
  let keyed: ReturnType<typeof aTickworkStack>;
  beforeAll(() => {
    keyed = aTickworkStack({}, { withStack: (stack) => ({ encryptionKey: new Key(stack, 'TableKey') }) });
  });

  /** The role of every function that uses the table: tick, API, task functions, type registrations. */
  function tableRoles(fixture: ReturnType<typeof aTickworkStack>): Record<string, string> {
    const { stack, tickwork, template, tasks } = fixture;
    const roleOf = (fn: Parameters<typeof logicalId>[1]) => roleOfFunction(template, logicalId(stack, fn));
    const registrationRole = Object.keys(template.findResources('AWS::IAM::Role')).find((id) =>
      id.startsWith(`AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}ServiceRole`),
    );
    if (!registrationRole) throw new Error('no task type registration role');
    return {
      tick: roleOf(tickwork.tickFunction),
      api: roleOf(tickwork.apiFunction),
      ...Object.fromEntries(Object.entries(tasks).map(([id, fn]) => [id, roleOf(fn)])),
      registration: registrationRole,
    };
  }

  it('uses the AWS-owned key by default, and no role is given any KMS action', () => {
    const fixture = theDefaultStack();
    const table = Object.values(fixture.template.findResources('AWS::DynamoDB::Table'))[0] as {
      Properties: Record<string, unknown>;
    };
    expect(table.Properties.SSESpecification).toBeUndefined();
    expect(fixture.tickwork.encryptionKey).toBeUndefined();
    for (const roleId of Object.values(tableRoles(fixture))) {
      const actions = statementsOfRole(fixture.template, roleId).flatMap(actionsOf);
      expect(actions.filter((a) => a.startsWith('kms:'))).toEqual([]);
    }
  });

  it("encrypts the table with the customer's key when one is given", () => {
    const { stack, tickwork, template } = keyed;
    if (!tickwork.encryptionKey) throw new Error('no key on the construct');
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [logicalId(stack, tickwork.encryptionKey), 'Arn'] },
      },
    });
  });

  it('lets every role that uses the table encrypt and decrypt with that key, and nothing more', () => {
    const { stack, tickwork, template } = keyed;
    const keyId = logicalId(stack, tickwork.encryptionKey as Key);
    const roles = tableRoles(keyed);
    expect(Object.keys(roles).sort()).toEqual(['CleanupFn', 'ReportFn', 'api', 'registration', 'tick']);
    for (const [name, roleId] of Object.entries(roles)) {
      const kms = statementsOfRole(template, roleId).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('kms:')),
      );
      expect({ name, actions: kms.flatMap(actionsOf).sort() }).toEqual({ name, actions: kmsActions });
      expect({ name, keys: kms.flatMap((s) => referencedIds(s.Resource)) }).toEqual({ name, keys: [keyId] });
    }
  });
});
