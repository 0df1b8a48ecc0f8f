/**
 * Builders for the CDK tests: a stack holding a `Tickwork` with the repository's feature flags
 * (cdk.json), bundling skipped and assets left where they are, so a synth takes milliseconds. The
 * tick and the API come from the prebuilt bundles the global setup builds (`bundles.test.ts`).
 */
import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type TaskTypeOptions, Tickwork, type TickworkProps } from '../../infra/tickwork.js';

/** The `context` of cdk.json: the feature flags `cdk synth` uses. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * An App that never bundles (NodejsFunction skips esbuild for stacks not in `bundling-stacks`)
 * nor copies assets into its output (the prebuilt bundles are megabytes).
 */
export function aNonBundlingApp(): App {
  return new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true },
  });
}

/** A plain task function (inline code: no bundling, no entry file). */
export function aTaskFunction(stack: Stack, id: string): LambdaFunction {
  return new LambdaFunction(stack, id, {
    runtime: Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: Code.fromInline('export const handler = async () => ({});'),
  });
}

export interface TickworkFixture {
  stack: Stack;
  tickwork: Tickwork;
  template: Template;
  /** Task functions, by construct id. */
  tasks: Record<string, LambdaFunction>;
}

/**
 * A stack with a `Tickwork` and, by default, two task functions serving three types, plus an
 * unrelated function the scheduler must not be able to invoke.
 */
export function aTickworkStack(
  props: TickworkProps = {},
  options: {
    types?: { name: string; fn: string; options?: TaskTypeOptions }[];
    /** Builds props that need the stack (an SNS topic, say); merged over `props`. */
    withStack?: (stack: Stack) => Partial<TickworkProps>;
  } = {},
): TickworkFixture {
  const app = aNonBundlingApp();
  const stack = new Stack(app, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const tickwork = new Tickwork(stack, 'Tickwork', { ...props, ...options.withStack?.(stack) });
  const types = options.types ?? [
    { name: 'reports.daily', fn: 'ReportFn' },
    { name: 'cleanup.files', fn: 'CleanupFn' },
    { name: 'cleanup.logs', fn: 'CleanupFn' },
  ];
  const tasks: Record<string, LambdaFunction> = {};
  for (const type of types) {
    tasks[type.fn] ??= aTaskFunction(stack, type.fn);
    tickwork.addTaskType(type.name, tasks[type.fn] as LambdaFunction, type.options);
  }
  aTaskFunction(stack, 'UnrelatedFn');
  return { stack, tickwork, template: Template.fromStack(stack), tasks };
}

let defaultFixture: TickworkFixture | undefined;

/** `aTickworkStack()` built once per test file: tests only read its template. */
export function theDefaultStack(): TickworkFixture {
  defaultFixture ??= aTickworkStack();
  return defaultFixture;
}

/** The logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild;
  if (!child) throw new Error('construct without a default child');
  return stack.getLogicalId(child as Parameters<Stack['getLogicalId']>[0]);
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** Every statement of the inline policies attached to a role (by the role's logical id). */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleId }]) },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

/** The logical id of the role of a function (by the function's logical id). */
export function roleOfFunction(template: Template, functionId: string): string {
  const fn = template.toJSON().Resources[functionId] as {
    Properties: { Role: { 'Fn::GetAtt': [string, string] } };
  };
  return fn.Properties.Role['Fn::GetAtt'][0];
}

/** Actions of a statement as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Resources of a statement as an array. */
export function resourcesOf(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Logical ids a CloudFormation value refers to (`Ref`, `Fn::GetAtt`), at any depth. */
export function referencedIds(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(referencedIds);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  if (typeof record.Ref === 'string') return [record.Ref];
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]];
  return Object.values(record).flatMap(referencedIds);
}

/** The literal strings of a CloudFormation value (`Fn::Join` parts), at any depth. */
export function literalParts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(literalParts);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  if ('Ref' in record || 'Fn::GetAtt' in record) return [];
  return Object.values(record).flatMap(literalParts);
}

/** One grant on the table: its actions on the table or one index, under one partition condition. */
export interface TableAccess {
  /** `table`, or `index/<name>`. */
  on: string;
  /** The `dynamodb:LeadingKeys` patterns of a `ForAllValues:StringLike` condition; none when absent. */
  partitions?: string[];
  actions: string[];
}

/**
 * A role's DynamoDB access, whatever way CDK merged its statements: per resource and condition,
 * the sorted actions. Fails on a resource that is not the table or one of its indexes, and on any
 * other kind of condition.
 */
export function tableAccessOf(statements: Statement[], tableId: string): TableAccess[] {
  const grouped = new Map<string, TableAccess>();
  for (const s of statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')))) {
    const condition = s.Condition as
      | { 'ForAllValues:StringLike'?: { 'dynamodb:LeadingKeys'?: string | string[] } }
      | undefined;
    if (condition && Object.keys(condition).join() !== 'ForAllValues:StringLike') {
      throw new Error(`unexpected condition ${JSON.stringify(condition)}`);
    }
    const keys = condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
    const partitions = keys === undefined ? undefined : Array.isArray(keys) ? keys : [keys];
    for (const resource of resourcesOf(s)) {
      if (referencedIds(resource).join() !== tableId)
        throw new Error(`not the table: ${JSON.stringify(resource)}`);
      const suffix = literalParts(resource).join('');
      const on = suffix === '' ? 'table' : suffix.replace(/^\//, '');
      const key = JSON.stringify([on, partitions]);
      const entry = grouped.get(key) ?? { on, ...(partitions ? { partitions } : {}), actions: [] };
      entry.actions = [...new Set([...entry.actions, ...actionsOf(s)])].sort();
      grouped.set(key, entry);
    }
  }
  return [...grouped.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
