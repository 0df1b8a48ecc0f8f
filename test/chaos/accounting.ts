/**
 * Counting slots against records. A slot a task's schedule produced (while it was enabled) is
 * accounted for when it ends in a run, a `skipped` record, a `missed` record, or a catch-up run's
 * record that names it. Which slots a record names is pluggable ({@link SlotNaming}): the default
 * reads a span (`firstSlotAt` .. `lastSlotAt`) when a record carries one, and otherwise
 * `slotCount` slots of a skipped or missed record, or the record's own `scheduledFor`.
 */
import { isTerminal, type RunRecord, RunStatus, type TaskState } from '../../src/core/model.js';
import { nextSlot, type Schedule } from '../../src/core/schedule.js';
import { scheduleFor } from '../../src/core/schedule-cache.js';

/** The slots (epoch ms) a record stands for. */
export type SlotNaming = (record: RunRecord, schedule: Schedule) => number[];

/** `count` slots of `schedule` from `first` on (`first` included). */
function slotsFrom(schedule: Schedule, first: Date, count: number): number[] {
  const out = [first.getTime()];
  let cursor: Date | undefined = first;
  while (out.length < count && cursor) {
    cursor = nextSlot(schedule, cursor);
    if (cursor) out.push(cursor.getTime());
  }
  return out;
}

/** The slots of `schedule` from `first` through `last`, both included. */
function slotsThrough(schedule: Schedule, first: Date, last: Date): number[] {
  const out: number[] = [];
  for (let c: Date | undefined = first; c && c.getTime() <= last.getTime(); c = nextSlot(schedule, c)) {
    out.push(c.getTime());
  }
  return out;
}

/** `count` slots of `schedule` that end at `last` (`last` included). */
function slotsEndingAt(schedule: Schedule, last: Date, count: number, earliest: Date): number[] {
  const all = slotsThrough(schedule, earliest, last);
  return all.slice(Math.max(0, all.length - count));
}

/**
 * The default naming: a span when the record has one (a catch-up run or a record standing for
 * several slots); else a skipped or missed record's `slotCount` slots, from `scheduledFor` on,
 * except an overlap-skipped `run-once` catch-up, whose `scheduledFor` is the latest of its slots;
 * else `scheduledFor` alone.
 */
export const defaultSlotNaming: SlotNaming = (record, schedule) => {
  const span = record as RunRecord & { firstSlotAt?: Date; lastSlotAt?: Date };
  if (span.firstSlotAt instanceof Date && span.lastSlotAt instanceof Date) {
    return slotsThrough(schedule, span.firstSlotAt, span.lastSlotAt);
  }
  const count = record.slotCount ?? 1;
  if (count > 1 && (record.status === RunStatus.Skipped || record.status === RunStatus.Missed)) {
    if (record.note?.startsWith('overlap policy')) {
      const earliest = new Date(record.scheduledFor.getTime() - count * 24 * 3600_000);
      return slotsEndingAt(schedule, record.scheduledFor, count, earliest);
    }
    return slotsFrom(schedule, record.scheduledFor, count);
  }
  return [record.scheduledFor.getTime()];
};

/** What a task's history says, checked against the slots its schedule produced. */
export interface TaskAccount {
  /** Slots the schedule produced from the task's first slot through the horizon. */
  slots: number;
  ran: number;
  skipped: number;
  missed: number;
  unaccounted: number[];
  /** Slots started more than once as a first attempt (two runs for one slot). */
  startedTwice: number;
}

/**
 * Counts the slots of `task`'s schedule from `firstSlot` through `horizon` against its records.
 * A slot is `ran` when some run record (any terminal status but skipped or missed) names it.
 */
export function accountTask(
  task: TaskState,
  records: RunRecord[],
  firstSlot: Date,
  horizon: Date,
  naming: SlotNaming = defaultSlotNaming,
): TaskAccount {
  const schedule = scheduleFor(task);
  const expected = slotsThrough(schedule, firstSlot, horizon);
  const ran = new Set<number>();
  const skipped = new Set<number>();
  const missed = new Set<number>();
  const firstAttempts = new Map<number, number>();
  for (const record of records) {
    if (!isTerminal(record.status)) continue;
    const named = naming(record, schedule);
    const into = record.status === 'skipped' ? skipped : record.status === 'missed' ? missed : ran;
    for (const slot of named) into.add(slot);
    if (into === ran && record.attempt === 1 && record.trigger !== 'manual') {
      firstAttempts.set(
        record.scheduledFor.getTime(),
        (firstAttempts.get(record.scheduledFor.getTime()) ?? 0) + 1,
      );
    }
  }
  const account: TaskAccount = {
    slots: expected.length,
    ran: 0,
    skipped: 0,
    missed: 0,
    unaccounted: [],
    startedTwice: 0,
  };
  for (const slot of expected) {
    if (ran.has(slot)) account.ran++;
    else if (skipped.has(slot)) account.skipped++;
    else if (missed.has(slot)) account.missed++;
    else account.unaccounted.push(slot);
    if ((firstAttempts.get(slot) ?? 0) > 1) account.startedTwice++;
  }
  return account;
}
