/** `tickwork types`: the task types the deployment knows. */
import type { Command } from '../command.js';
import { table } from '../format.js';
import { emit } from '../print.js';

const types: Command = {
  name: 'types',
  usage: 'tickwork types',
  summary: 'Registered task types',
  args: 0,
  async run(ctx) {
    const { items } = await ctx.client().taskTypes();
    emit(ctx, items, (wide) =>
      wide
        ? table(
            ['type', 'function', 'timeout', 'description'],
            items.map((t) => [
              t.name,
              t.functionName,
              t.timeoutSeconds === null ? null : `${t.timeoutSeconds} s`,
              t.description,
            ]),
          )
        : table(
            ['type', 'function', 'description'],
            items.map((t) => [t.name, t.functionName, t.description]),
          ),
    );
    return 0;
  },
};

/** The task type commands. */
export const typeCommands: Command[] = [types];
