import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  type SchedulerClient,
  UpdateScheduleCommand,
  type UpdateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { UnavailableError } from '../core/errors.js';
import type { SchedulerControl } from '../core/ports.js';

/** EventBridge Scheduler errors that mean "busy or failing for a while", not "refused". */
const unavailableNames = new Set(['ThrottlingException', 'InternalServerException']);

/** A throttling or service error as an {@link UnavailableError}; anything else as it was. */
function translateError(error: unknown): unknown {
  return error instanceof Error && unavailableNames.has(error.name)
    ? new UnavailableError(`EventBridge Scheduler is unavailable (${error.name}); retry later`, {
        cause: error,
      })
    : error;
}

/**
 * Pauses and resumes the tick by disabling and enabling its EventBridge Scheduler schedule, or
 * all of them when the tick is split over shard groups (one schedule per group).
 *
 * UpdateSchedule replaces the whole schedule (fields left out are reset), so the update is built
 * from GetSchedule's answer with only `State` changed. The scheduler is `paused` only when every
 * schedule is disabled: after a pause that failed half-way it reads `running` (some ticks still
 * fire), and pausing again disables the rest.
 */
export class EventBridgeSchedulerControl implements SchedulerControl {
  private readonly names: string[];
  private readonly groupName: string;

  /** `name`: one schedule, or several as an array or a comma-separated list. */
  constructor(
    private readonly client: SchedulerClient,
    schedule: { name: string | readonly string[]; groupName?: string },
  ) {
    const names = typeof schedule.name === 'string' ? schedule.name.split(',') : [...schedule.name];
    this.names = names.map((n) => n.trim()).filter((n) => n.length > 0);
    if (this.names.length === 0)
      throw new Error('EventBridgeSchedulerControl needs at least one schedule name');
    this.groupName = schedule.groupName ?? 'default';
  }

  private async read(name: string): Promise<GetScheduleCommandOutput> {
    try {
      return await this.client.send(new GetScheduleCommand({ Name: name, GroupName: this.groupName }));
    } catch (error) {
      throw translateError(error);
    }
  }

  async state(): Promise<'running' | 'paused'> {
    const schedules = await Promise.all(this.names.map((name) => this.read(name)));
    return schedules.every((s) => s.State === 'DISABLED') ? 'paused' : 'running';
  }

  async pause(): Promise<void> {
    await this.setState('DISABLED');
  }

  async resume(): Promise<void> {
    await this.setState('ENABLED');
  }

  private async setState(state: 'ENABLED' | 'DISABLED'): Promise<void> {
    // Every schedule is attempted even when one fails, so a retry has the least left to do.
    const results = await Promise.allSettled(
      this.names.map(async (name) => {
        const current = await this.read(name);
        if (current.State === state) return;
        try {
          await this.client.send(new UpdateScheduleCommand(updateInputOf(current, state)));
        } catch (error) {
          throw translateError(error);
        }
      }),
    );
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) {
      throw new AggregateError(
        failed,
        `${failed.length} of ${this.names.length} tick schedules were not updated`,
      );
    }
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
