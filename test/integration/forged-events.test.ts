/**
 * A run starts only from its lease (DynamoDB Local, the real tick and the real handler): run
 * events that no lease holds as sent are refused with a warning and a metric, write nothing, and
 * leave the real delivery to run with what the tick recorded.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import type { Parameters } from '../../src/core/model.js';
import type { RunEvent, TaskInvoker } from '../../src/core/ports.js';
import { createTaskHandler, type TaskHandler } from '../../src/task/index.js';
import { TaskTypeRegistry } from '../../src/tick/registry.js';
import { runTick } from '../../src/tick/run-tick.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps } from '../support/deps.js';
import { createTestTable } from '../support/dynamo.js';

const context = () => ({ awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 600_000 });

/** Keeps the events the tick sends; nothing is delivered until the test says so. */
class HeldInvoker implements TaskInvoker {
  readonly events: RunEvent[] = [];
  async invoke(_fn: string, event: RunEvent) {
    this.events.push(JSON.parse(JSON.stringify(event)) as RunEvent);
    return { accepted: true as const };
  }
}

async function setup() {
  const { store } = await createTestTable('forged');
  await store.putTaskType({ name: 'forge.echo', functionName: 'in-process' });
  const warnings: { message: string; fields: Record<string, unknown> }[] = [];
  const logger = new Logger({ serviceName: 'forged-test', logLevel: 'SILENT' });
  const child = {
    info: () => {},
    warn: (message: string, fields: Record<string, unknown> = {}) => warnings.push({ message, fields }),
    error: () => {},
  };
  logger.createChild = () => child as unknown as Logger;
  const metricNames: string[] = [];
  const metrics = {
    addMetric: (name: string) => metricNames.push(name),
    publishStoredMetrics: () => {},
  } as unknown as Metrics;
  const bodies: Parameters[] = [];
  const handler: TaskHandler = createTaskHandler(
    {
      'forge.echo': async (ctx) => {
        bodies.push(ctx.parameters as Parameters);
        return ctx.parameters;
      },
    },
    { store, logger, metrics, heartbeatIntervalMs: 1_000 },
  );
  const invoker = new HeldInvoker();
  const clock = { now: () => new Date() };
  const registry = new TaskTypeRegistry(store, clock);
  await registry.refresh();
  const deps = makeTestDeps({ store, invoker, clock, registry });
  const now = new Date();
  const task = aTask({
    type: 'forge.echo',
    schedule: '0 0 1 1 *',
    parameters: { account: 'real' },
    nextSlotAt: new Date(now.getTime() - 1_000),
    createdAt: now,
    updatedAt: now,
  });
  await store.createTask(task);
  const report = await runTick(deps, { now, recordTick: false });
  expect(report.started).toBe(1);
  const real = invoker.events[0];
  if (!real) throw new Error('the tick sent no event');
  return { store, handler, real, warnings, metricNames, bodies, task, deps };
}

describe('a run starts only from its lease', () => {
  it.each([
    ['other parameters, token and attempt', { parameters: { account: 'attacker' }, token: 99, attempt: 2 }],
    ['other parameters with the right token', { parameters: { account: 'attacker' } }],
    ['another trigger and slot', { trigger: 'manual', scheduledFor: '2020-01-01T00:00:00.000Z' }],
    ['another type', { type: 'forge.other' }],
  ] as const)(
    'refuses an event for a dispatched run with %s; the real delivery still runs',
    async (_name, forged) => {
      const h = await setup();

      const refused = await h.handler({ ...h.real, ...forged }, context());

      expect(refused).toMatchObject({ claimed: false, refused: 'mismatch' });
      expect(h.bodies).toEqual([]);
      expect(await h.store.getRun(h.real.taskId, h.real.runId)).toBeUndefined();
      expect(h.warnings.map((w) => w.message)).toEqual([expect.stringContaining('run event refused')]);
      expect(h.warnings[0]?.fields).toMatchObject({ refused: 'mismatch' });
      expect(h.metricNames).toEqual(['RefusedRunEvents']);

      const delivered = await h.handler(h.real, context());

      expect(delivered).toMatchObject({ claimed: true, status: 'succeeded', recorded: true });
      expect(h.bodies).toEqual([{ account: 'real' }]);
      expect(await h.store.getRun(h.real.taskId, h.real.runId)).toMatchObject({
        status: 'succeeded',
        parameters: { account: 'real' },
        attempt: 1,
        trigger: 'schedule',
      });
    },
  );

  it('refuses a run id no tick dispatched, and writes no record for it', async () => {
    const h = await setup();
    const unscheduled = { ...h.real, runId: '01JZZZZZZZZZZZZZZZZZZZZZZZ' };

    const refused = await h.handler(unscheduled, context());

    expect(refused).toMatchObject({ claimed: false, refused: 'no-lease' });
    expect(h.bodies).toEqual([]);
    expect(await h.store.getRun(h.real.taskId, unscheduled.runId)).toBeUndefined();
    expect(h.metricNames).toEqual(['RefusedRunEvents']);
  });

  it('refuses a run of a task that no longer exists', async () => {
    const h = await setup();
    const current = await h.store.getTask(h.task.id);
    await h.store.deleteTask(h.task.id, { expectedVersion: current?.version ?? 0 });

    expect(await h.handler(h.real, context())).toMatchObject({ claimed: false, refused: 'no-lease' });
    expect(h.bodies).toEqual([]);
  });

  it('drops a late duplicate of a run whose lease was already folded, without a refusal', async () => {
    const h = await setup();
    await h.handler(h.real, context());
    // The next tick that sees the task folds the finished run: its lease leaves the task, its
    // record stays.
    await runTick(h.deps, { now: new Date(Date.parse(h.real.leaseExpiresAt) + 1_000), recordTick: false });
    expect((await h.store.getTask(h.task.id))?.active).toEqual([]);

    const late = await h.handler(h.real, context());

    expect(late).toMatchObject({ claimed: false, existingStatus: 'succeeded' });
    expect(h.metricNames).not.toContain('RefusedRunEvents');
    expect(h.bodies).toHaveLength(1);
  });

  it('reaps a running record that no lease holds, and leaves one a lease holds to the tick', async () => {
    const h = await setup();
    const past = new Date(Date.now() - 10 * 60_000);
    // A running record no lease holds: written as a claim made before claims came from the lease.
    const orphan = {
      taskId: h.task.id,
      runId: '01JORPHAN00000000000000000',
      type: 'forge.echo',
      token: 7,
      requestId: 'req-orphan',
      trigger: 'manual' as const,
      attempt: 1,
      scheduledFor: past,
      startedAt: past,
      leaseExpiresAt: new Date(past.getTime() + 60_000),
      parameters: {},
      expiresAt: new Date(Date.now() + 86_400_000),
    };
    expect((await h.store.claimRun(orphan)).claimed).toBe(true);
    // The real run, claimed from its lease and held by it (its own lease lapsed too).
    await h.store.claimRun({
      ...orphan,
      runId: h.real.runId,
      token: h.real.token,
      requestId: 'req-real',
      trigger: h.real.trigger,
    });
    // Both beat once before their holders died: that is what lists a run as `running`.
    const beat = { now: past, leaseExpiresAt: orphan.leaseExpiresAt };
    await h.store.heartbeat(h.task.id, orphan.runId, { token: 7, requestId: 'req-orphan' }, beat);
    await h.store.heartbeat(h.task.id, h.real.runId, { token: h.real.token, requestId: 'req-real' }, beat);

    const report = await runTick(h.deps, { now: new Date(), recordTick: false, reap: true });

    expect(report.reaped).toBe(1);
    expect(await h.store.getRun(h.task.id, orphan.runId)).toMatchObject({
      status: 'timed-out',
      note: 'no lease held this running run: reaped',
      error: { name: 'OrphanedRunError' },
    });
    // The lease-held run is the tick's to fold (a time-out of its own, through the task's lease).
    expect((await h.store.getRun(h.task.id, h.real.runId))?.status).not.toBe('succeeded');
    expect(report.errors).toEqual([]);
  });
});
