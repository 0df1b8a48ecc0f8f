/** The deployable app (infra/app.ts): the demo task types on one function. */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it, vi } from 'vitest';
import { cdkJsonContext } from './support.js';

describe('the app', () => {
  it('registers the three demo task types on one function with async retries off', async () => {
    // Arrange: the app reads its context from the environment, as under `cdk synth`; no bundling.
    process.env.CDK_CONTEXT_JSON = JSON.stringify({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] });
    try {
      const { stack } = await import('../../infra/app.js');

      // Act
      const template = Template.fromStack(stack);

      // Assert
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
      template.hasOutput('TickScheduleName', {});
    } finally {
      delete process.env.CDK_CONTEXT_JSON;
    }
  });

  it('splits the tick over shard groups with -c tickShardGroups', async () => {
    process.env.CDK_CONTEXT_JSON = JSON.stringify({
      ...cdkJsonContext(),
      'aws:cdk:bundling-stacks': [],
      tickShardGroups: '2',
    });
    vi.resetModules();
    try {
      const { stack } = await import('../../infra/app.js');

      const schedules = Object.values(Template.fromStack(stack).findResources('AWS::Scheduler::Schedule'));

      expect(
        schedules.map((r) =>
          JSON.parse((r as { Properties: { Target: { Input: string } } }).Properties.Target.Input),
        ),
      ).toEqual([{ shards: [0, 2] }, { shards: [1, 3] }]);
    } finally {
      delete process.env.CDK_CONTEXT_JSON;
    }
  });
});
