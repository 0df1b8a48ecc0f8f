/** Which successes are listed across tasks: src/core/listing.ts. */
import { describe, expect, it } from 'vitest';
import { type EndedRun, isEndListed, successListingOf } from '../../src/core/listing.js';
import { RunStatus, type TaskState, Trigger } from '../../src/core/model.js';
import { aTask } from '../support/builders.js';

const at = (iso: string) => new Date(iso);
const noon = at('2026-03-27T12:00:00Z');

function ended(overrides: Partial<EndedRun> = {}): EndedRun {
  return { status: RunStatus.Succeeded, trigger: Trigger.Schedule, scheduledFor: noon, ...overrides };
}

function task(schedule: string, overrides: Partial<TaskState> = {}): TaskState {
  return aTask({ schedule, ...overrides });
}

describe('isEndListed', () => {
  it('leaves out a scheduled success of a task due every minute or more often, by default', () => {
    for (const schedule of ['* * * * *', '*/30 * * * * *', 'rate(1 minute)', 'rate(10 seconds)'])
      expect(isEndListed(task(schedule), ended()), schedule).toBe(false);
  });

  it('lists a scheduled success of a task due less often', () => {
    for (const schedule of ['*/2 * * * *', '0 * * * *', 'rate(2 minutes)', '0 0 1 1 *'])
      expect(isEndListed(task(schedule), ended()), schedule).toBe(true);
    // A one-off slot has no next one.
    expect(isEndListed(task('at(2026-03-27T12:00:00)'), ended())).toBe(true);
  });

  it('judges the slot: the last of a working day on an every-minute schedule is listed', () => {
    const working = task('* 9-17 * * *');
    expect(isEndListed(working, ended({ scheduledFor: at('2026-03-27T12:00:00Z') }))).toBe(false);
    expect(isEndListed(working, ended({ scheduledFor: at('2026-03-27T17:59:00Z') }))).toBe(true);
  });

  it('lists every run someone asked for, and every retry and catch-up, of a frequent task', () => {
    for (const trigger of [Trigger.Manual, Trigger.Retry, Trigger.CatchUp, Trigger.Replay, Trigger.Backfill])
      expect(isEndListed(task('* * * * *'), ended({ trigger })), trigger).toBe(true);
  });

  it('lists every end that is not a success, whatever the task says', () => {
    for (const status of [RunStatus.Failed, RunStatus.TimedOut, RunStatus.Cancelled, RunStatus.Skipped])
      for (const listSucceeded of [undefined, false])
        expect(isEndListed(task('* * * * *', { listSucceeded }), ended({ status }))).toBe(true);
  });

  it('obeys listSucceeded when set, and lists the run of a task that is gone', () => {
    expect(isEndListed(task('* * * * *', { listSucceeded: true }), ended())).toBe(true);
    expect(isEndListed(task('0 0 1 1 *', { listSucceeded: false }), ended())).toBe(false);
    expect(isEndListed(task('0 0 1 1 *', { listSucceeded: false }), ended({ trigger: Trigger.Manual }))).toBe(
      false,
    );
    expect(isEndListed(undefined, ended())).toBe(true);
  });
});

describe('successListingOf', () => {
  it('names what a task lists, judged at its next slot', () => {
    expect(successListingOf(task('* * * * *'), noon)).toBe('except-scheduled');
    expect(successListingOf(task('*/5 * * * *'), noon)).toBe('all');
    expect(successListingOf(task('* * * * *', { listSucceeded: true }), noon)).toBe('all');
    expect(successListingOf(task('*/5 * * * *', { listSucceeded: false }), noon)).toBe('none');
    // From 17:59:30 the next slot is 09:00 the next day, followed a minute later.
    expect(successListingOf(task('* 9-17 * * *'), at('2026-03-27T17:59:30Z'))).toBe('except-scheduled');
    // Not a slot: an hourly task at 10:59:30 is not "due in 30 s".
    expect(successListingOf(task('0 * * * *'), at('2026-03-27T10:59:30Z'))).toBe('all');
    expect(successListingOf(task('at(2026-03-27T12:00:00)'), at('2026-03-28T00:00:00Z'))).toBe('all');
  });
});
