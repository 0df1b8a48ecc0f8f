/**
 * The EventBridge Scheduler adapter. A mock is right here: no Scheduler engine runs locally.
 * UpdateSchedule replaces the whole schedule, so the update must carry every field back.
 */
import { GetScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeSchedulerControl } from '../../src/aws/scheduler-control.js';

const scheduler = mockClient(SchedulerClient);

const current = {
  Arn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/tickwork/tick',
  Name: 'tick',
  GroupName: 'tickwork',
  ScheduleExpression: 'rate(1 minute)',
  ScheduleExpressionTimezone: 'UTC',
  Description: 'Tickwork tick',
  State: 'ENABLED' as const,
  FlexibleTimeWindow: { Mode: 'OFF' as const },
  Target: {
    Arn: 'arn:aws:lambda:eu-west-1:123456789012:function:tick',
    RoleArn: 'arn:aws:iam::123456789012:role/tick-scheduler',
    RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
    DeadLetterConfig: { Arn: 'arn:aws:sqs:eu-west-1:123456789012:tick-dlq' },
    Input: '{}',
  },
  KmsKeyArn: 'arn:aws:kms:eu-west-1:123456789012:key/abc',
  ActionAfterCompletion: 'NONE' as const,
  CreationDate: new Date('2026-01-01T00:00:00Z'),
  LastModificationDate: new Date('2026-01-02T00:00:00Z'),
};

describe('EventBridgeSchedulerControl', () => {
  beforeEach(() => scheduler.reset());
  const control = () =>
    new EventBridgeSchedulerControl(new SchedulerClient({ region: 'eu-west-1' }), {
      name: 'tick',
      groupName: 'tickwork',
    });

  it('pause: GetSchedule, then UpdateSchedule with State DISABLED and every other field as it was', async () => {
    scheduler.on(GetScheduleCommand).resolves(current);
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: current.Arn });
    await control().pause();
    expect(scheduler.commandCalls(GetScheduleCommand)[0]?.args[0].input).toEqual({
      Name: 'tick',
      GroupName: 'tickwork',
    });
    const update = scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input;
    expect(update).toEqual({
      Name: 'tick',
      GroupName: 'tickwork',
      ScheduleExpression: 'rate(1 minute)',
      ScheduleExpressionTimezone: 'UTC',
      Description: 'Tickwork tick',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: current.Target,
      KmsKeyArn: current.KmsKeyArn,
      ActionAfterCompletion: 'NONE',
      State: 'DISABLED',
    });
  });

  it('resume enables a disabled schedule; state() reads it; no update when already in that state', async () => {
    scheduler.on(GetScheduleCommand).resolves({ ...current, State: 'DISABLED' });
    scheduler.on(UpdateScheduleCommand).resolves({});
    expect(await control().state()).toBe('paused');
    await control().resume();
    expect(scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input.State).toBe('ENABLED');
    await control().pause();
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(1);
  });

  it('split over shard groups: pauses every schedule, and reads paused only when all are disabled', async () => {
    const states: Record<string, 'ENABLED' | 'DISABLED'> = { tick: 'ENABLED', 'tick-2': 'DISABLED' };
    scheduler.on(GetScheduleCommand).callsFake((input: { Name: string }) => ({
      ...current,
      Name: input.Name,
      State: states[input.Name],
    }));
    scheduler
      .on(UpdateScheduleCommand)
      .callsFake((input: { Name: string; State: 'ENABLED' | 'DISABLED' }) => {
        states[input.Name] = input.State;
        return {};
      });
    const split = new EventBridgeSchedulerControl(new SchedulerClient({ region: 'eu-west-1' }), {
      name: 'tick, tick-2',
      groupName: 'tickwork',
    });
    // Half paused (a pause that failed half-way): ticks still fire, so it is not paused.
    expect(await split.state()).toBe('running');
    await split.pause();
    expect(states).toEqual({ tick: 'DISABLED', 'tick-2': 'DISABLED' });
    expect(await split.state()).toBe('paused');
    await split.resume();
    expect(states).toEqual({ tick: 'ENABLED', 'tick-2': 'ENABLED' });
    expect(scheduler.commandCalls(UpdateScheduleCommand).map((c) => c.args[0].input.Name)).toEqual([
      'tick',
      'tick',
      'tick-2',
    ]);
  });

  it('tries every schedule when one update fails, then reports the failure', async () => {
    scheduler
      .on(GetScheduleCommand)
      .callsFake((input: { Name: string }) => ({ ...current, Name: input.Name }));
    scheduler
      .on(UpdateScheduleCommand, { Name: 'tick' })
      .rejects(new Error('ThrottlingException'))
      .on(UpdateScheduleCommand, { Name: 'tick-2' })
      .resolves({});
    const split = new EventBridgeSchedulerControl(new SchedulerClient({ region: 'eu-west-1' }), {
      name: ['tick', 'tick-2'],
    });
    await expect(split.pause()).rejects.toThrow('ThrottlingException');
    expect(scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(2);
  });

  it('needs a schedule name', () => {
    expect(() => new EventBridgeSchedulerControl(new SchedulerClient({}), { name: ' , ' })).toThrow(
      'EventBridgeSchedulerControl needs at least one schedule name',
    );
  });
});
