import { describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import { MemorySchedulerControl } from '../../src/api/memory-scheduler-control.js';
import { PLAN_SOON_WITHIN_MS, planAllSoon, planSoon } from '../../src/api/plan-soon.js';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { aTask } from '../support/builders.js';
import { makeTestDeps } from '../support/deps.js';

const now = new Date('2026-03-29T01:00:10Z');

function apiDeps(plan: (taskIds?: readonly string[]) => Promise<void>) {
  const warnings: unknown[][] = [];
  const deps: ApiDeps = {
    ...makeTestDeps({ store: new MemoryTaskStore(), clock: { now: () => now } }),
    scheduler: new MemorySchedulerControl(),
    minIntervalMs: 1_000,
    logger: { info: () => undefined, warn: (...args) => warnings.push(args), error: () => undefined },
    tickPlanner: { plan },
  };
  return { deps, warnings };
}

describe('asking a tick to plan a task now', () => {
  it('asks for a task due within the look-ahead, and not for one due later or not at all', async () => {
    const asked: (readonly string[] | undefined)[] = [];
    const { deps } = apiDeps(async (ids) => {
      asked.push(ids);
    });
    await planSoon(deps, aTask({ id: 'soon', nextSlotAt: new Date(now.getTime() + 30_000) }));
    await planSoon(deps, aTask({ id: 'edge', nextSlotAt: new Date(now.getTime() + PLAN_SOON_WITHIN_MS) }));
    await planSoon(
      deps,
      aTask({ id: 'later', nextSlotAt: new Date(now.getTime() + PLAN_SOON_WITHIN_MS + 1) }),
    );
    await planSoon(deps, aTask({ id: 'off', enabled: false, nextSlotAt: new Date(now.getTime() + 1_000) }));
    await planAllSoon(deps);
    expect(asked).toEqual([['soon'], ['edge'], undefined]);
  });

  it('logs a failed request and never throws: the next scheduled tick plans the task', async () => {
    const { deps, warnings } = apiDeps(async () => {
      throw new Error('Rate exceeded');
    });
    await expect(planSoon(deps, aTask({ id: 'soon', nextSlotAt: now }))).resolves.toBeUndefined();
    expect(warnings).toEqual([
      [
        'asking a tick to plan now failed; the next scheduled tick will',
        { taskIds: ['soon'], error: 'Rate exceeded' },
      ],
    ]);
  });
});
