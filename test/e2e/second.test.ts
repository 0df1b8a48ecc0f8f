/**
 * The local runtime's default design, end to end: a tick every minute with look-ahead (no
 * `--tick-every`), and a sub-minute task still started on its second, from the moment it is
 * created (the API asks a tick to plan it at once) through the next minute's tick. Against
 * DynamoDB Local, through HTTP only (local target only: LocalStack has no minute tick of ours).
 */
import { describe, expect, it } from 'vitest';
import { apiOf, taskId } from './api.js';
import { onLocalStack, spawnDev } from './target.js';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, Math.max(0, ms)));

describe.skipIf(onLocalStack)('local runtime on its default one-minute tick', () => {
  it('starts an every-2-seconds task on its second, from its creation through the next minute', async () => {
    const dev = await spawnDev(['--in-memory', '--no-demo', '--grace', '1s']);
    try {
      const api = apiOf(dev);
      const id = taskId('second');
      await api.createTask({ id, name: 'every 2 s', type: 'demo.echo', schedule: '*/2 * * * * *' });
      // After the answer: the API's clock read at creation, which sets the first slot, is before it.
      const createdAt = Date.now();
      // Past the next minute's tick, so both the plan asked at creation and that tick are seen.
      const until = Math.ceil(createdAt / 60_000) * 60_000 + 6_000;
      await sleep(until - Date.now());
      await api.patchTask(id, { enabled: false });
      const runs = (await api.runs(id)).filter((r) => r.trigger === 'schedule');

      const first = Math.ceil((createdAt + 1) / 2_000) * 2_000;
      const expected: string[] = [];
      for (let slot = first; slot <= until - 2_000; slot += 2_000)
        expected.push(new Date(slot).toISOString());
      const bySlot = new Map(runs.map((r) => [r.scheduledFor, r]));
      expect(runs.length, 'one run per slot').toBe(bySlot.size);
      const history = `${JSON.stringify(runs.map((r) => [r.scheduledFor, r.status, r.latenessMs]))}\n${dev.output().slice(-2_000)}`;
      let started = 0;
      for (const slot of expected) {
        const run = bySlot.get(slot);
        expect(run, `the slot ${slot} ran: ${history}`).toBeDefined();
        // A slow machine may still be running the previous run: the default overlap skips the slot.
        if (run?.status === 'skipped') {
          expect(run.note, `${slot}: ${history}`).toMatch(/^overlap policy skip/);
          continue;
        }
        started++;
        expect(run?.status, `${slot}: ${history}`).toMatch(/^(succeeded|running)$/);
        // Seconds, not the minute a slot waited before (the bench measures the milliseconds): a
        // loaded machine delays a local worker's start by a second or two.
        expect(run?.latenessMs ?? Number.POSITIVE_INFINITY, `lateness of ${slot}: ${history}`).toBeLessThan(
          3_000,
        );
      }
      expect(started, 'most slots started').toBeGreaterThanOrEqual(Math.ceil(expected.length * 0.8));
    } finally {
      await dev.stop();
    }
  }, 150_000);
});
