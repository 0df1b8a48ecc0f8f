/**
 * The app's task types, declared once: the handler serves this map, `tickwork dev` registers it
 * (tickwork.config.ts) and the CDK stack registers it (cdk/app.ts), parameter schemas included.
 */
import { defineTask } from 'tickwork/task';
import { z } from 'zod';

export const buildReport = defineTask({
  description: 'Builds the sales report of one region for the last few days',
  parameters: z.object({
    region: z.enum(['eu', 'us', 'apac']),
    days: z.number().int().min(1).max(31).default(7),
  }),
  async run(ctx) {
    const { region, days } = ctx.parameters;
    for (let day = 1; day <= days; day++) {
      ctx.throwIfCancelled();
      ctx.setProgress(day, days, `day ${day} of ${days}`);
    }
    ctx.logger.info('report built', { region, days });
    return { region, days, rows: days * 100 };
  },
});

export const tasks = { 'Acme.BuildReport': buildReport };
