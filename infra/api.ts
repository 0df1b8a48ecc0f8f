/**
 * The HTTP API: its function (from the prebuilt bundle), its log group and the API Gateway HTTP
 * API in front of it. Direct children of the `Tickwork` construct under their historical ids.
 */
import { Duration, Fn } from 'aws-cdk-lib';
import {
  CfnStage,
  CorsHttpMethod,
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Schedule } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { DEFAULT_SCOPE_PREFIX, roleTable, scopesFor } from '../src/api/roles.js';
import { bundledFunction } from './bundled-function.js';
import { lambdaEnvironment } from './environment.js';
import { METRICS_NAMESPACE, MIN_SCHEDULE_INTERVAL, serviceNames, TICK_INTERVAL } from './names.js';
import type { ApiAuth, ApiFunctionEnv, TickworkProps, TickworkSettings } from './props.js';
import { grantStore } from './table.js';

/** What the API function is built from. */
export interface ApiInputs {
  readonly table: Table;
  /** The table's customer-managed key, when it has one. */
  readonly encryptionKey?: IKey | undefined;
  /** The tick's schedules, which pause and resume act on, and the role they pass. */
  readonly tickSchedules: Schedule[];
  readonly tickScheduleRole: Role;
  /** The tick function, which the API asks to plan a task now (`{ "tasks": [...] }`, async). */
  readonly tickFunction: LambdaFunction;
  readonly settings: TickworkSettings;
  readonly dashboardOrigin: TickworkProps['dashboardOrigin'];
}

/** The API function and its log group (`Api`, `ApiLogs`), with their permissions. */
export function buildApiFunction(
  scope: Construct,
  inputs: ApiInputs,
): { fn: LambdaFunction; logGroup: LogGroup } {
  const { table, tickSchedules, settings } = inputs;
  const env: ApiFunctionEnv = {
    TICKWORK_TABLE: table.tableName,
    TICKWORK_SHARDS: settings.shardCount,
    TICKWORK_DUE_KEY_HOLD_MS: TICK_INTERVAL.toMilliseconds(),
    TICKWORK_TICK_SCHEDULE_NAME:
      tickSchedules.length === 1
        ? (tickSchedules[0] as Schedule).scheduleName
        : Fn.join(
            ',',
            tickSchedules.map((schedule) => schedule.scheduleName),
          ),
    TICKWORK_TICK_SCHEDULE_GROUP: 'default',
    TICKWORK_TICK_FUNCTION_NAME: inputs.tickFunction.functionName,
    TICKWORK_MIN_INTERVAL_MS: MIN_SCHEDULE_INTERVAL.toMilliseconds(),
    TICKWORK_CORS_ORIGIN: inputs.dashboardOrigin,
    TICKWORK_API_AUTH: settings.apiAuth.type,
    TICKWORK_SCOPE_PREFIX: scopePrefixOf(settings.apiAuth),
    TICKWORK_AUDIT_RETENTION_DAYS: settings.auditRetentionDays,
    ...dashboardLoginEnv(settings.dashboardLogin),
    POWERTOOLS_SERVICE_NAME: serviceNames.api,
    POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
  };
  const logGroup = new LogGroup(scope, 'ApiLogs', { retention: settings.logRetention });
  const fn = bundledFunction(scope, 'Api', 'api', {
    description: 'Tickwork HTTP API',
    timeout: Duration.seconds(29),
    environment: lambdaEnvironment(env),
    logGroup,
  });
  grantStore({ table, encryptionKey: inputs.encryptionKey }, fn, 'api');
  // A write that makes a task due before the next tick asks the tick to plan it now.
  inputs.tickFunction.grantInvoke(fn);
  // Pause and resume: read and rewrite exactly the tick's schedules, passing their own role.
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['scheduler:GetSchedule', 'scheduler:UpdateSchedule'],
      resources: tickSchedules.map((schedule) => schedule.scheduleArn),
    }),
  );
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [inputs.tickScheduleRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  );
  return { fn, logGroup };
}

/** The API function's variables for the dashboard's sign-in (none without it). */
function dashboardLoginEnv(login: TickworkSettings['dashboardLogin']): Partial<ApiFunctionEnv> {
  if (!login) return {};
  return {
    TICKWORK_OIDC_ISSUER: login.issuer,
    TICKWORK_OIDC_CLIENT_ID: login.clientId,
    TICKWORK_OIDC_SCOPES: login.scopes.join(' '),
    TICKWORK_OIDC_AUTHORIZATION_ENDPOINT: login.authorizationEndpoint,
    TICKWORK_OIDC_TOKEN_ENDPOINT: login.tokenEndpoint,
    TICKWORK_OIDC_REDIRECT_URI: login.redirectUri,
  };
}

/**
 * The HTTP API (`HttpApi`): two catch-all routes to the function, which routes itself, under the
 * default authorizer; with JWT, `GET /` (the dashboard page, which holds no data) and
 * `GET /dashboard-config` (where it signs in) are open. Its
 * default stage is throttled and logs every request to `ApiAccessLogs` (see {@link configureStage}).
 */
export function buildHttpApi(
  scope: Construct,
  fn: LambdaFunction,
  settings: Pick<TickworkSettings, 'apiAuth' | 'apiThrottle' | 'logRetention'>,
  dashboardOrigin: string | undefined,
): { httpApi: HttpApi; accessLogGroup: LogGroup } {
  const auth = settings.apiAuth;
  const httpApi = new HttpApi(scope, 'HttpApi', {
    description: 'Tickwork API',
    defaultAuthorizer: apiAuthorizer(auth),
    ...(dashboardOrigin
      ? {
          corsPreflight: {
            allowOrigins: [dashboardOrigin],
            allowMethods: [CorsHttpMethod.ANY],
            allowHeaders: [
              'authorization',
              'content-type',
              'x-amz-date',
              'x-amz-security-token',
              'x-amz-content-sha256',
            ],
            maxAge: Duration.hours(1),
          },
        }
      : {}),
  });
  const integration = new HttpLambdaIntegration('ApiIntegration', fn);
  httpApi.addRoutes({ path: '/', methods: [HttpMethod.ANY], integration });
  httpApi.addRoutes({ path: '/{proxy+}', methods: [HttpMethod.ANY], integration });
  if (auth.type === 'jwt') {
    // A browser opening the dashboard cannot send its token yet, nor while it learns where to sign
    // in (public settings only); every other call the page makes does.
    for (const path of ['/', '/dashboard-config']) {
      httpApi.addRoutes({
        path,
        methods: [HttpMethod.GET],
        integration,
        authorizer: new HttpNoneAuthorizer(),
      });
    }
    addScopedRoutes(httpApi, integration, scopePrefixOf(auth));
  }
  const accessLogGroup = new LogGroup(scope, 'ApiAccessLogs', { retention: settings.logRetention });
  configureStage(httpApi, settings, accessLogGroup);
  return { httpApi, accessLogGroup };
}

/** The prefix of the role scopes (`tickwork/` unless the JWT settings say otherwise). */
export function scopePrefixOf(auth: ApiAuth): string {
  return auth.type === 'jwt' ? (auth.scopePrefix ?? DEFAULT_SCOPE_PREFIX) : DEFAULT_SCOPE_PREFIX;
}

/**
 * With JWT authorization, one route per API route, each requiring any scope that grants its role
 * (`read` routes take `read`, `operate` or `admin`): API Gateway refuses a token without one
 * (403) before the function runs, and the function checks again (`src/api/roles.ts`). Paths no
 * route names fall to the catch-all, where the function answers 404, 405 or 403.
 */
function addScopedRoutes(httpApi: HttpApi, integration: HttpLambdaIntegration, prefix: string): void {
  for (const { route, role } of roleTable()) {
    if (role === 'public') continue;
    const [method, path] = route.split(' ') as [keyof typeof HttpMethod, string];
    httpApi.addRoutes({
      path,
      methods: [HttpMethod[method]],
      integration,
      authorizationScopes: scopesFor(role, prefix),
    });
  }
}

/**
 * One JSON line per request: who called (the IAM caller's ARN, or the JWT's subject), from where,
 * which route, the answer and how long it took.
 */
export function accessLogFormat(auth: ApiAuth): Record<string, string> {
  return {
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    method: '$context.httpMethod',
    path: '$context.path',
    route: '$context.routeKey',
    status: '$context.status',
    latency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    responseLength: '$context.responseLength',
    integrationError: '$context.integrationErrorMessage',
    ...(auth.type === 'iam'
      ? { caller: '$context.identity.userArn', callerAccount: '$context.identity.accountId' }
      : { caller: '$context.authorizer.claims.sub', issuer: '$context.authorizer.claims.iss' }),
  };
}

/**
 * Throttling and the access log of the default stage. The HttpApi L2 creates that stage without
 * either option, so they are set on its `CfnStage` (the stage keeps its construct and logical id).
 */
function configureStage(
  httpApi: HttpApi,
  settings: Pick<TickworkSettings, 'apiAuth' | 'apiThrottle'>,
  accessLogGroup: LogGroup,
): void {
  const stage = httpApi.defaultStage?.node.defaultChild;
  if (!(stage instanceof CfnStage)) throw new Error('Tickwork: the HTTP API has no default stage');
  stage.defaultRouteSettings = {
    throttlingRateLimit: settings.apiThrottle.rateLimit,
    throttlingBurstLimit: settings.apiThrottle.burstLimit,
  };
  stage.accessLogSettings = {
    destinationArn: accessLogGroup.logGroupArn,
    format: JSON.stringify(accessLogFormat(settings.apiAuth)),
  };
}

/** The default authorizer of every route. */
function apiAuthorizer(auth: ApiAuth): IHttpRouteAuthorizer {
  switch (auth.type) {
    case 'iam':
      return new HttpIamAuthorizer();
    case 'jwt':
      return new HttpJwtAuthorizer('JwtAuthorizer', auth.issuer, { jwtAudience: auth.audience });
  }
}
