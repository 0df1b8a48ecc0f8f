import { describe, expect, it } from 'vitest';
import { optionalTaskAttributes, taskToItem } from '../../src/store/dynamo-items.js';
import { aTask, at } from '../support/builders.js';

describe('the task item', () => {
  it('lists as optional exactly the attributes a task item can go without', () => {
    // A batched save is an UPDATE: it must REMOVE what the new item lacks, so the list of
    // optional attributes must follow `taskToItem`. Every optional field set, then none.
    const full = taskToItem(
      aTask({
        description: 'nightly',
        startAt: at(-60_000),
        endAt: at(86_400_000),
        maxRuns: 3,
        disabledReason: 'paused',
        nextSlotAt: at(60_000),
        mustSucceedEvery: '26h',
        mustSucceedSetAt: at(0),
        lastSucceededAt: at(-1_000),
        overdueReportedAt: at(-500),
        idempotent: true,
        listSucceeded: false,
      }),
      4,
    );
    const bare = taskToItem(aTask({ nextSlotAt: undefined, enabled: false }), 4);

    const missing = Object.keys(full).filter((name) => !(name in bare));
    expect(new Set(missing)).toEqual(new Set(optionalTaskAttributes));
    expect(Object.keys(bare).filter((name) => !(name in full))).toEqual([]);
  });
});
