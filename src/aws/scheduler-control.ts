import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
  UpdateScheduleCommand,
  type UpdateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import type { SchedulerControl } from '../core/ports.js';

/**
 * Pauses and resumes the tick by disabling and enabling its EventBridge Scheduler schedule.
 *
 * UpdateSchedule replaces the whole schedule (fields left out are reset), so the update is built
 * from GetSchedule's answer with only `State` changed.
 */
export class EventBridgeSchedulerControl implements SchedulerControl {
  constructor(
    private readonly client: SchedulerClient,
    private readonly schedule: { name: string; groupName?: string },
  ) {}

  private async read(): Promise<GetScheduleCommandOutput> {
    return this.client.send(
      new GetScheduleCommand({ Name: this.schedule.name, GroupName: this.schedule.groupName ?? 'default' }),
    );
  }

  async state(): Promise<'running' | 'paused'> {
    return (await this.read()).State === 'DISABLED' ? 'paused' : 'running';
  }

  async pause(): Promise<void> {
    await this.setState('DISABLED');
  }

  async resume(): Promise<void> {
    await this.setState('ENABLED');
  }

  private async setState(state: 'ENABLED' | 'DISABLED'): Promise<void> {
    const current = await this.read();
    if (current.State === state) return;
    await this.client.send(new UpdateScheduleCommand(updateInputOf(current, state)));
  }
}

/** The UpdateSchedule input that changes only `State` of a schedule as GetSchedule returned it. */
export function updateInputOf(
  current: GetScheduleCommandOutput,
  state: 'ENABLED' | 'DISABLED',
): UpdateScheduleCommandInput {
  const { Name, ScheduleExpression, FlexibleTimeWindow, Target } = current;
  if (!Name || !ScheduleExpression || !FlexibleTimeWindow || !Target) {
    throw new Error(`schedule ${Name ?? '(unnamed)'} is missing fields UpdateSchedule requires`);
  }
  const input: UpdateScheduleCommandInput = {
    Name,
    GroupName: current.GroupName,
    ScheduleExpression,
    ScheduleExpressionTimezone: current.ScheduleExpressionTimezone,
    StartDate: current.StartDate,
    EndDate: current.EndDate,
    Description: current.Description,
    FlexibleTimeWindow,
    Target,
    KmsKeyArn: current.KmsKeyArn,
    ActionAfterCompletion: current.ActionAfterCompletion,
    State: state,
  };
  // Absent stays absent (an explicit undefined would serialize the same, but reads worse in tests).
  for (const key of Object.keys(input) as (keyof UpdateScheduleCommandInput)[]) {
    if (input[key] === undefined) delete input[key];
  }
  return input;
}
