/** `tickwork replay`: a new run of an earlier one, with its parameters. */
import type { Command } from '../command.js';
import { emit } from '../print.js';
import { waitForRun } from './runs.js';

const replay: Command = {
  name: 'replay',
  usage: 'tickwork replay <id> <runId> [--wait]',
  summary: "Replay a run: a new run with the original's parameters and slot (trigger replay)",
  details: `  --wait, -w         follow the new run until it ends; exit 1 unless it succeeds
  The new run names the original in replayOf and keeps its slot, so its idempotency key.`,
  options: { wait: { type: 'boolean', short: 'w' } },
  args: 2,
  async run(ctx, [id, runId], values) {
    const taskId = id as string;
    const accepted = await ctx.client().replay(taskId, runId as string);
    if (!values.wait) {
      emit(ctx, accepted, () => `run ${accepted.runId} ${accepted.status} (replay of ${accepted.replayOf})`, {
        compact: true,
      });
      return 0;
    }
    if (!ctx.structured)
      ctx.io.err(`run ${accepted.runId} ${accepted.status} (replay of ${accepted.replayOf})`);
    return waitForRun(ctx, taskId, accepted.runId);
  },
};

export const replayCommands: Command[] = [replay];
