/**
 * Two runtimes sharing one table (`--dynamodb-endpoint`, as several deployments would): each
 * slot of a task starts exactly once between them. Uses the test run's DynamoDB Local.
 */
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoEndpoint } from '../support/dynamo.js';
import { waitFor } from '../support/wait.js';
import { apiOf, taskId } from './api.js';
import { type DevProcess, onLocalStack, spawnDev } from './target.js';

/** Runs each runtime's tick lines say it started. */
function startedBy(runtime: DevProcess): number {
  return [...runtime.output().matchAll(/tick: (\d+) started/g)].reduce((n, m) => n + Number(m[1]), 0);
}

describe.skipIf(onLocalStack)('two runtimes on one table', () => {
  let a: DevProcess;
  let b: DevProcess;

  beforeAll(async () => {
    const args = [
      '--dynamodb-endpoint',
      dynamoEndpoint(),
      '--table',
      `e2e-shared-${ulid().toLowerCase()}`,
      '--tick-every',
      '1s',
      '--no-demo',
      '--grace',
      '1s',
    ];
    [a, b] = await Promise.all([spawnDev(args), spawnDev(args)]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  }, 20_000);

  it('starts each slot exactly once between them', async () => {
    const id = taskId('shared');
    await apiOf(a).createTask({ id, name: 'shared', type: 'demo.echo', schedule: '* * * * * *' });
    const api = apiOf(b);
    await waitFor(
      async () => (await api.runs(id)).filter((r) => r.status === 'succeeded').length >= 6,
      20_000,
      {
        intervalMs: 250,
        what: 'six succeeded runs',
      },
    );
    await api.patchTask(id, { enabled: false });
    // Let runs dispatched before the disable finish, then read the whole history.
    await new Promise((r) => setTimeout(r, 1_500));
    const runs = await api.runs(id);
    const slots = runs
      .filter((r) => r.trigger === 'schedule' && r.status !== 'skipped' && r.status !== 'cancelled')
      .map((r) => r.scheduledFor);
    expect(new Set(slots).size, `duplicate slots in ${JSON.stringify(slots)}`).toBe(slots.length);
    const statuses = runs.map((r) => `${r.scheduledFor} ${r.status} ${r.note ?? ''}`);
    // A lease taken ahead of the disable is withdrawn, never started (look-ahead).
    const withdrawn = (r: (typeof runs)[number]) =>
      r.status === 'cancelled' && r.note === 'the task was disabled before its slot' && r.startedAt === null;
    expect(
      runs.every((r) => r.status === 'succeeded' || r.status === 'skipped' || withdrawn(r)),
      statuses.join('\n'),
    ).toBe(true);
    // Every run either runtime's tick started is in the history once: none started twice. A
    // withdrawn lease is still invoked at its instant (its claim drops it), so it may count too.
    const invoked = startedBy(a) + startedBy(b);
    const started = runs.filter((r) => r.startedAt !== null).length;
    const context = `${statuses.join('\n')}\n${a.output().slice(-1_500)}\n${b.output().slice(-1_500)}`;
    expect(invoked, context).toBeGreaterThanOrEqual(started);
    expect(invoked, context).toBeLessThanOrEqual(started + runs.filter(withdrawn).length);
    console.info(`runtime A started ${startedBy(a)} runs, runtime B ${startedBy(b)}`);
  }, 60_000);
});
