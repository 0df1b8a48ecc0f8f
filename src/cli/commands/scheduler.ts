/** `tickwork pause|resume|status`: the scheduler as a whole. */
import type { Command } from '../command.js';
import { fields } from '../format.js';
import { emit } from '../print.js';

const pause: Command = {
  name: 'pause',
  usage: 'tickwork pause',
  summary: 'Pause the whole scheduler',
  args: 0,
  async run(ctx) {
    const state = await ctx.client().pause();
    emit(ctx, state, () => `scheduler ${state.state}`, { compact: true });
    return 0;
  },
};

const resume: Command = {
  name: 'resume',
  usage: 'tickwork resume',
  summary: 'Resume the scheduler',
  args: 0,
  async run(ctx) {
    const state = await ctx.client().resume();
    emit(ctx, state, () => `scheduler ${state.state}`, { compact: true });
    return 0;
  },
};

const status: Command = {
  name: 'status',
  usage: 'tickwork status',
  summary: "The scheduler's state and last tick",
  args: 0,
  async run(ctx) {
    const state = await ctx.client().scheduler();
    emit(ctx, state, () => fields(Object.entries(state)), { compact: true });
    return 0;
  },
};

/** The scheduler commands. */
export const schedulerCommands: Command[] = [pause, resume, status];
