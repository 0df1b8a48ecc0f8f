/** The deployable app (infra/app.ts): the demo task types on one function. */
import { readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { cdkJsonContext } from './support.js';

/** The app's stack, synthesized the way `cdk synth` does (context from the environment), no bundling. */
async function synthApp(context: Record<string, unknown> = {}): Promise<Template> {
  process.env.CDK_CONTEXT_JSON = JSON.stringify({
    ...cdkJsonContext(),
    'aws:cdk:bundling-stacks': [],
    ...context,
  });
  vi.resetModules();
  try {
    const { stack } = await import('../../infra/app.js');
    return Template.fromStack(stack);
  } finally {
    delete process.env.CDK_CONTEXT_JSON;
  }
}

describe('the app', () => {
  let template: Template;
  beforeAll(async () => {
    template = await synthApp();
  });

  it('registers the three demo task types on one function with async retries off', () => {
    const types = Object.values(template.findResources('Custom::TickworkTaskType')).map((r) =>
      JSON.stringify((r as { Properties: { Create: unknown } }).Properties.Create),
    );
    expect(types).toHaveLength(3);
    for (const name of ['demo.echo', 'demo.work', 'demo.fail']) {
      expect(types.some((create) => create.includes(`TYPE#${name}`))).toBe(true);
    }
    // The tick's and the demo function's: one per function, however many types it serves.
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 2);
    template.hasOutput('ApiUrl', {});
    // One demo task declared as code, through the API function.
    const declared = Object.values(template.findResources('Custom::TickworkTask')).map(
      (r) => JSON.parse((r as { Properties: { TickworkTask: string } }).Properties.TickworkTask) as object,
    );
    expect(declared).toEqual([
      expect.objectContaining({ id: 'demo-hourly-work', type: 'demo.work', system: false }),
    ]);
    template.hasOutput('TickScheduleName', {});
    template.hasOutput('TaskDeadLetterQueueUrl', {});
    template.hasOutput('ApiAccessLogGroup', {});
  });

  // The fixture was written from the construct before it was split into builder files: a deployed
  // stack must keep every resource (a changed logical id would replace it, the table included).
  // Resources may be added, none may disappear or change type. Added since: the task provider
  // (TickworkTaskProvider*: its framework function, role, policy, log group) and the demo task
  // declared as code (TickworkTaskdemohourlywork*, Custom::TickworkTask).
  it('keeps every logical id and resource type of logical-ids.before.json', () => {
    const before = JSON.parse(
      readFileSync(new URL('./logical-ids.before.json', import.meta.url), 'utf8'),
    ) as Record<string, string>;
    const now = template.toJSON().Resources as Record<string, { Type: string }>;

    const lost = Object.entries(before).filter(([id, type]) => now[id]?.Type !== type);

    expect(lost).toEqual([]);
  });

  it('splits the tick over shard groups with -c tickShardGroups', async () => {
    const split = await synthApp({ tickShardGroups: '2' });

    const schedules = Object.values(split.findResources('AWS::Scheduler::Schedule'));

    expect(
      schedules.map((r) =>
        JSON.parse((r as { Properties: { Target: { Input: string } } }).Properties.Target.Input),
      ),
    ).toEqual([{ shards: [0, 2] }, { shards: [1, 3] }]);
  });
});
