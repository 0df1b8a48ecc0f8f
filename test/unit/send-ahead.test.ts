/**
 * Sending ahead (`src/tick/agenda.ts`): how early a burst of one instant starts, from the pace of
 * invokes this process learned, and that a small instant is never sent early.
 */
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { MemoryTaskStore } from '../../src/store/memory-task-store.js';
import { Agenda, clockSleep, InvokePace } from '../../src/tick/agenda.js';

const clock = { now: () => new Date() };

function agenda(pace: InvokePace, maxMs = 3_000) {
  return new Agenda({ clock, store: new MemoryTaskStore() }, pLimit(8), clockSleep(clock), () => undefined, {
    maxMs,
    tailMs: 250,
    pace,
  });
}

describe('the send-ahead lead', () => {
  it('is what the burst takes past its tail at the learned pace, capped', () => {
    const a = agenda(new InvokePace(2));
    expect(a.leadFor(100)).toBe(0);
    expect(a.leadFor(125)).toBe(0);
    expect(a.leadFor(1_000)).toBe(1_750);
    expect(a.leadFor(10_000)).toBe(3_000);
    expect(agenda(new InvokePace(2), 0).leadFor(10_000), 'off').toBe(0);
  });

  it('learns the pace from bursts of 50 or more, not from a few invokes', () => {
    const pace = new InvokePace(1);
    pace.observe(10, 500);
    expect(pace.msPerInvoke).toBe(1);
    pace.observe(100, 150);
    expect(pace.msPerInvoke).toBe(1.25);
    pace.observe(100, 50);
    expect(pace.msPerInvoke).toBe(0.9375);
  });

  it('moves by at most half or double a burst, so one slow burst cannot hold the next for seconds', () => {
    const pace = new InvokePace(1);
    pace.observe(1_000, 60_000);
    expect(pace.msPerInvoke).toBe(1.5);
    pace.observe(1_000, 1);
    expect(pace.msPerInvoke).toBe(1.125);
  });
});

describe('an agenda that sends ahead', () => {
  it('starts a large instant early, in priority order, and a small one on its instant', async () => {
    const a = agenda(new InvokePace(10));
    const ran: { priority: number; at: number }[] = [];
    const entry = (priority: number) => ({
      priority,
      run: async () => {
        ran.push({ priority, at: Date.now() });
      },
      withdraw: async () => undefined,
    });
    const big = Date.now() + 1_500;
    const small = big + 500;
    const bigRuns = Array.from({ length: 100 }, (_, i) => a.at(new Date(big), entry(i % 10)));
    const smallRuns = Array.from({ length: 5 }, () => a.at(new Date(small), entry(-1)));
    await Promise.all([...bigRuns, ...smallRuns]);

    const first = ran.slice(0, 100);
    // 100 runs at 10 ms: 750 ms past the 250 ms tail, so sent from 750 ms before the instant.
    expect(Math.min(...first.map((r) => r.at))).toBeLessThan(big - 600);
    expect(first.map((r) => r.priority)).toEqual([...first.map((r) => r.priority)].sort((x, y) => y - x));
    expect(Math.min(...ran.slice(100).map((r) => r.at))).toBeGreaterThanOrEqual(small);
  });
});
