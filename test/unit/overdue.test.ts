import { describe, expect, it } from 'vitest';
import { detailOf, detailTypes } from '../../src/aws/eventbridge-notifier.js';
import { dueAtOf, dueIndexKey } from '../../src/core/due.js';
import type { ActiveRun, TaskState } from '../../src/core/model.js';
import { markOverdue, successDeadline, successIntervalMs } from '../../src/core/overdue.js';
import { type PlanInput, planTask } from '../../src/core/plan.js';
import type { TaskOverdueNotice } from '../../src/core/ports.js';
import { parseSchedule } from '../../src/core/schedule.js';
import { overdueNoticeOf } from '../../src/tick/dispatch.js';
import { aRun, aTask } from '../support/builders.js';

const instant = (iso: string) => new Date(iso);
const created = instant('2026-03-29T00:00:00Z');

/** A nightly task promising a success every 26 hours, created at midnight. */
function promising(overrides: Partial<TaskState> = {}): TaskState {
  return aTask({
    schedule: '0 2 * * *',
    nextSlotAt: instant('2026-03-29T02:00:00Z'),
    createdAt: created,
    updatedAt: created,
    mustSucceedEvery: '26h',
    ...overrides,
  });
}

function input(task: TaskState, now: Date, overrides: Partial<PlanInput> = {}): PlanInput {
  let n = 0;
  return {
    now,
    schedule: parseSchedule(task.schedule, { timezone: task.timezone }),
    runs: new Map(),
    newRunId: () => `run-${++n}`,
    reportOverdue: true,
    ...overrides,
  };
}

describe('successIntervalMs', () => {
  it('reads a whole number and a unit', () => {
    expect(successIntervalMs('26h')).toBe(26 * 3_600_000);
    expect(successIntervalMs('90m')).toBe(90 * 60_000);
    expect(successIntervalMs('2d')).toBe(2 * 86_400_000);
    expect(successIntervalMs('60s')).toBe(60_000);
  });

  it('refuses anything else with a message that says why', () => {
    expect(() => successIntervalMs('30s')).toThrow('below 1 minute');
    expect(() => successIntervalMs('0m')).toThrow('below 1 minute');
    expect(() => successIntervalMs('400d')).toThrow('over 366 days');
    for (const bad of ['', '26', 'h', '1.5h', '-2h', '26 h', '1h30m', 'PT26H'])
      expect(() => successIntervalMs(bad), bad).toThrow('is not a duration');
  });
});

describe('the promise in the due index', () => {
  it('keeps a disabled task with a promise in the index at its deadline', () => {
    const task = promising({ enabled: false });

    expect(successDeadline(task)).toEqual(instant('2026-03-30T02:00:00Z'));
    expect(dueAtOf(task)).toEqual(instant('2026-03-30T02:00:00Z'));
    expect(dueIndexKey(task)).toEqual(instant('2026-03-30T02:00:00Z'));
  });

  it('counts from the last success, or from when the promise was set when later', () => {
    const succeeded = promising({ enabled: false, lastSucceededAt: instant('2026-03-29T02:05:00Z') });
    expect(dueAtOf(succeeded)).toEqual(instant('2026-03-30T04:05:00Z'));

    const setLater = promising({
      enabled: false,
      lastSucceededAt: instant('2026-03-29T02:05:00Z'),
      mustSucceedSetAt: instant('2026-03-29T12:00:00Z'),
    });
    expect(dueAtOf(setLater)).toEqual(instant('2026-03-30T14:00:00Z'));
  });

  it('is the earliest instant: a slot before the deadline wins, a deadline before the slot wins', () => {
    const slotFirst = promising();
    expect(dueAtOf(slotFirst)).toEqual(instant('2026-03-29T02:00:00Z'));

    const deadlineFirst = promising({ mustSucceedEvery: '90m' });
    expect(dueAtOf(deadlineFirst)).toEqual(instant('2026-03-29T01:30:00Z'));
  });

  it('leaves the index once the episode is reported, and a held key never hides the deadline', () => {
    const reported = promising({ enabled: false, overdueReportedAt: instant('2026-03-30T02:00:10Z') });
    expect(dueAtOf(reported)).toBeUndefined();

    // A key in view and a deadline within one tick: the key is held, never later than the deadline.
    const soon = promising({
      enabled: false,
      mustSucceedEvery: '61m',
      updatedAt: instant('2026-03-29T01:00:30Z'),
      dueKey: instant('2026-03-29T01:00:00Z'),
    });
    const key = dueIndexKey(soon);
    expect(key?.getTime()).toBeLessThanOrEqual(instant('2026-03-29T01:01:00Z').getTime());
  });

  it('promises nothing without the field', () => {
    const task = aTask({ enabled: false });
    expect(successDeadline(task)).toBeUndefined();
    expect(dueAtOf(task)).toBeUndefined();
  });
});

describe('planTask: overdue episodes', () => {
  const deadline = instant('2026-03-30T02:00:00Z');

  it('marks a task overdue once at its deadline, and not before', () => {
    const task = promising({ enabled: false });

    expect(planTask(task, input(task, new Date(deadline.getTime() - 1))).changed).toBe(false);
    const plan = planTask(task, input(task, deadline));

    expect(plan.changed).toBe(true);
    expect(plan.overdue).toEqual({ overdueSince: deadline, countedFrom: created });
    expect(plan.task.overdueReportedAt).toEqual(deadline);
    // The next tick finds the episode reported: nothing to do, and the task left the index.
    const again = planTask(plan.task, input(plan.task, instant('2026-03-30T02:01:00Z')));
    expect(again.overdue).toBeUndefined();
    expect(dueAtOf(plan.task)).toBeUndefined();
  });

  it('marks nothing unless asked (run-now and settling leave it to the tick)', () => {
    const task = promising({ enabled: false });

    const plan = planTask(task, input(task, deadline, { reportOverdue: false }));

    expect(plan.overdue).toBeUndefined();
    expect(plan.task.overdueReportedAt).toBeUndefined();
  });

  it('folds a success that came before the deadline first: not overdue', () => {
    const active: ActiveRun = {
      runId: 'r1',
      token: 1,
      scheduledFor: instant('2026-03-30T01:00:00Z'),
      dispatchedAt: instant('2026-03-30T01:00:00Z'),
      expiresAt: instant('2026-03-30T02:30:00Z'),
      attempt: 1,
      trigger: 'manual',
      parameters: {},
    };
    const task = promising({ enabled: false, active: [active], fence: 1 });
    const runs = new Map([
      ['r1', aRun({ runId: 'r1', status: 'succeeded', finishedAt: instant('2026-03-30T01:59:00Z') })],
    ]);

    const plan = planTask(task, input(task, deadline, { runs }));

    expect(plan.overdue).toBeUndefined();
    expect(plan.task.lastSucceededAt).toEqual(instant('2026-03-30T01:59:00Z'));
    expect(dueAtOf(plan.task)).toEqual(instant('2026-03-31T03:59:00Z'));
  });

  it('a success ends the episode; a failure does not', () => {
    const reported = promising({
      enabled: false,
      overdueReportedAt: deadline,
      active: [
        {
          runId: 'r1',
          token: 1,
          scheduledFor: deadline,
          dispatchedAt: deadline,
          expiresAt: instant('2026-03-30T03:00:00Z'),
          attempt: 1,
          trigger: 'manual',
          parameters: {},
        },
      ],
    });
    const at = instant('2026-03-30T02:10:00Z');
    const failed = new Map([['r1', aRun({ runId: 'r1', status: 'failed', finishedAt: at })]]);
    expect(planTask(reported, input(reported, at, { runs: failed })).task.overdueReportedAt).toEqual(
      deadline,
    );

    const ok = new Map([['r1', aRun({ runId: 'r1', status: 'succeeded', finishedAt: at })]]);
    const plan = planTask(reported, input(reported, at, { runs: ok }));
    expect(plan.task.overdueReportedAt).toBeUndefined();
    expect(dueAtOf(plan.task)).toEqual(instant('2026-03-31T04:10:00Z'));
  });

  it('markOverdue is a no-op for a task without a promise', () => {
    const task = aTask();
    expect(markOverdue(task, instant('2030-01-01T00:00:00Z'))).toBeUndefined();
    expect(task.overdueReportedAt).toBeUndefined();
  });
});

describe('the Tickwork Task Overdue event', () => {
  it('has its detail-type, and a detail of the task, the promise and its instants in ISO 8601', () => {
    const task = promising({
      enabled: false,
      lastSucceededAt: instant('2026-03-29T02:05:01Z'),
      summary: { runCount: 2, lastRunAt: instant('2026-03-30T02:00:00Z'), lastStatus: 'failed' },
    });
    const detectedAt = instant('2026-03-30T04:05:01Z');
    const plan = planTask(task, input(task, detectedAt));
    const notice = overdueNoticeOf(plan, detectedAt);

    expect(notice && detailTypes[notice.status]).toBe('Tickwork Task Overdue');
    expect(JSON.parse(detailOf(notice as TaskOverdueNotice))).toEqual({
      status: 'overdue',
      taskId: task.id,
      taskName: 'Clean up files',
      type: 'Acme.CleanupFiles',
      mustSucceedEvery: '26h',
      overdueSince: '2026-03-30T04:05:01.000Z',
      countedFrom: '2026-03-29T02:05:01.000Z',
      lastSucceededAt: '2026-03-29T02:05:01.000Z',
      lastRunAt: '2026-03-30T02:00:00.000Z',
      lastStatus: 'failed',
      enabled: false,
      detectedAt: '2026-03-30T04:05:01.000Z',
    });
  });

  it('leaves out what a task that never ran has not, and is not made for a plan without an episode', () => {
    const task = promising({ enabled: false });
    const plan = planTask(task, input(task, instant('2026-03-30T02:00:00Z')));

    const detail = JSON.parse(
      detailOf(overdueNoticeOf(plan, instant('2026-03-30T02:00:00Z')) as TaskOverdueNotice),
    );

    expect(Object.keys(detail)).not.toContain('lastSucceededAt');
    expect(Object.keys(detail)).not.toContain('lastRunAt');
    expect(overdueNoticeOf(planTask(task, input(task, created)), created)).toBeUndefined();
  });
});
