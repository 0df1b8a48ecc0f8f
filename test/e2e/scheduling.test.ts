/**
 * The scheduler end to end, through HTTP only, against one shared target: a `tickwork dev`
 * process ticking every second (or a LocalStack deployment, see `target.ts`). Tests use unique
 * task ids and disable their tasks when done; the pause test runs last (it pauses everyone).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { type Api, apiOf, type Run, started, taskId } from './api.js';
import { startTarget, type Target } from './target.js';

const farAway = '0 0 1 1 *'; // once a year: tasks that only run when asked

describe('scheduler end to end', () => {
  let target: Target;
  let api: Api;

  beforeAll(async () => {
    target = await startTarget();
    api = apiOf(target);
  }, 60_000);

  afterAll(async () => {
    await target?.stop();
  }, 20_000);

  it('runs a 2-second schedule once per slot', async () => {
    const id = taskId('slots');
    await api.createTask({
      id,
      name: 'slots',
      type: 'demo.echo',
      schedule: '*/2 * * * * *',
      parameters: { n: 1 },
    });
    const runs = await waitFor(
      async () => {
        const all = await api.runs(id);
        return all.filter((r) => r.status === 'succeeded').length >= 3 ? all : undefined;
      },
      15_000,
      { intervalMs: 250, what: 'three succeeded scheduled runs' },
    );
    await api.patchTask(id, { enabled: false });
    const scheduled = runs.filter((r) => r.trigger === 'schedule');
    const slots = scheduled.map((r) => r.scheduledFor);
    expect(new Set(slots).size).toBe(slots.length);
    for (const slot of slots) expect(new Date(slot).getUTCSeconds() % 2).toBe(0);
    const succeeded = runs.find((r) => r.status === 'succeeded');
    expect(JSON.parse(succeeded?.result ?? 'null')).toEqual({ n: 1 });
  });

  it('starts a run-now within a second, shows its progress while it goes, and keeps its logs', async () => {
    const id = taskId('progress');
    await api.createTask({ id, name: 'progress', type: 'demo.work', schedule: farAway });
    const askedAt = Date.now();
    const { runId } = await api.runNow(id, { steps: 8, stepMs: 400 });
    const running = await api.waitForRun(id, runId, (r) => r.startedAt !== null, 5_000, 'the run to start');
    expect(new Date(running.startedAt as string).getTime() - askedAt).toBeLessThan(1_000);

    const midway = await api.waitForRun(
      id,
      runId,
      (r) => r.status === 'running' && (r.progress?.value ?? 0) >= 1,
      6_000,
      'progress while running',
    );
    expect(midway.progress).toMatchObject({ max: 8, message: expect.stringMatching(/^step \d of 8 done$/) });

    const done = await api.waitForRun(
      id,
      runId,
      (r) => r.status === 'succeeded',
      10_000,
      'the run to succeed',
    );
    expect(done.progress).toMatchObject({ value: 8, max: 8, percent: 100 });
    const logs = await waitFor(
      async () => {
        const l = await api.logs(id, runId).catch(() => undefined);
        return l?.lines?.some((line) => line.message.startsWith('REPORT')) ? l : undefined;
      },
      5_000,
      { what: 'the run log' },
    );
    const messages = logs.lines?.map((l) => l.message) ?? [];
    expect(messages).toContain('run claimed');
    expect(messages.some((m) => m.startsWith('all steps done'))).toBe(true);
  });

  it('cancels a running run: it ends cancelled', async () => {
    const id = taskId('cancel');
    await api.createTask({ id, name: 'cancel', type: 'demo.work', schedule: farAway });
    const { runId } = await api.runNow(id, { steps: 100, stepMs: 200 });
    await api.waitForRun(id, runId, (r) => r.status === 'running', 5_000, 'the run to start');
    const cancel = await api.cancel(id);
    expect(cancel).toEqual({ runId, status: 'running' });
    const ended = await api.waitForRun(id, runId, (r) => r.status !== 'running', 10_000, 'the run to stop');
    expect(ended.status).toBe('cancelled');
    expect(ended.progress?.value ?? 0).toBeLessThan(100);
  });

  it('retries a failing task, then disables it when stopOnError is set', async () => {
    const id = taskId('fail');
    await api.createTask({
      id,
      name: 'fail',
      type: 'demo.fail',
      schedule: farAway,
      retry: { maxAttempts: 2, backoffSeconds: 1 },
      stopOnError: true,
    });
    await api.runNow(id);
    const runs = await waitFor(
      async () => {
        const all = await api.runs(id);
        return all.filter((r) => r.status === 'failed').length >= 2 ? all : undefined;
      },
      15_000,
      { intervalMs: 200, what: 'two failed attempts' },
    );
    const failed = runs.filter((r) => r.status === 'failed').sort((a, b) => a.attempt - b.attempt);
    expect(failed.map((r) => [r.attempt, r.trigger])).toEqual([
      [1, 'manual'],
      [2, 'retry'],
    ]);
    expect(failed[0]?.error).toMatchObject({ name: 'Error', message: 'demo failure' });
    expect(failed[0]?.error?.stack).toMatch(/^Error: demo failure\n\s+at /);
    const task = await waitFor(
      async () => {
        const t = await api.getTask(id);
        return t.enabled ? undefined : t;
      },
      5_000,
      { what: 'the task to be disabled' },
    );
    expect(task.enabled).toBe(false);
  });

  it('with overlap skip, never runs two at once and records the skipped slots', async () => {
    const id = taskId('overlap');
    await api.createTask({
      id,
      name: 'overlap',
      type: 'demo.work',
      schedule: '* * * * * *',
      overlap: 'skip',
      parameters: { steps: 5, stepMs: 500 },
    });
    const seenRunning = new Set<number>();
    const runs = await waitFor(
      async () => {
        const all = await api.runs(id);
        seenRunning.add(all.filter((r) => r.status === 'running' || r.status === 'dispatched').length);
        const finished = all.filter((r) => r.status === 'succeeded').length;
        const skipped = all.filter((r) => r.status === 'skipped').length;
        return finished >= 2 && skipped >= 2 ? all : undefined;
      },
      20_000,
      { intervalMs: 150, what: 'two runs and two skipped slots' },
    );
    await api.patchTask(id, { enabled: false });
    expect(Math.max(...seenRunning)).toBeLessThanOrEqual(1);
    const ran = started(runs).sort(
      (a, b) => Date.parse(a.startedAt as string) - Date.parse(b.startedAt as string),
    );
    for (let i = 1; i < ran.length; i++) {
      const previous = ran[i - 1] as Run;
      const current = ran[i] as Run;
      expect(
        previous.finishedAt,
        `run ${previous.runId} still going when ${current.runId} started`,
      ).not.toBeNull();
      expect(Date.parse(current.startedAt as string)).toBeGreaterThanOrEqual(
        Date.parse(previous.finishedAt as string),
      );
    }
  });

  it('stops scheduled runs while paused (run-now still works) and restarts them on resume', async () => {
    const id = taskId('pause');
    await api.createTask({ id, name: 'pause', type: 'demo.echo', schedule: '*/2 * * * * *' });
    await waitFor(async () => (await api.runs(id)).some((r) => r.status === 'succeeded'), 10_000, {
      what: 'a first scheduled run',
    });
    await api.pause();
    expect((await api.scheduler()).state).toBe('paused');
    const pausedAt = Date.now();
    // A tick that began before the pause may still start one slot.
    await new Promise((r) => setTimeout(r, 1_500));
    const before = (await api.runs(id)).length;
    await new Promise((r) => setTimeout(r, 4_000));
    const during = await api.runs(id);
    expect(during.length, 'no run while paused').toBe(before);
    expect(during.every((r) => Date.parse(r.dispatchedAt ?? r.scheduledFor) < pausedAt + 1_500)).toBe(true);

    const manual = await api.runNow(id, { while: 'paused' });
    await api.waitForRun(id, manual.runId, (r) => r.status === 'succeeded', 5_000, 'run-now while paused');

    await api.resume();
    expect((await api.scheduler()).state).toBe('running');
    const resumedAt = Date.now();
    await waitFor(
      async () =>
        (await api.runs(id)).some(
          (r) => r.trigger !== 'manual' && r.startedAt !== null && Date.parse(r.startedAt) >= resumedAt,
        ),
      6_000,
      { what: 'a scheduled run after resume' },
    );
    await api.patchTask(id, { enabled: false });
  });
});
