/**
 * The demo handler Lambda: the task types the local runtime and the CDK app register.
 * - `demo.echo`: succeeds at once; its result is its parameters as JSON.
 * - `demo.work`: `steps` steps of `stepMs` each, progress after every step, stops between steps
 *   when cancelled; throws at step `failAt` when given.
 * - `demo.fail`: always throws `Error("demo failure")`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createTaskHandler, defineTask } from '../../src/task/index.js';

export const echo = defineTask({
  description: 'Succeeds at once; returns its parameters',
  async run(ctx) {
    return ctx.parameters;
  },
});

export const work = defineTask({
  description: 'Works in steps with progress; stops when cancelled',
  parameters: z.object({
    steps: z.number().int().min(1).max(10_000).default(10),
    stepMs: z.number().int().min(0).max(60_000).default(500),
    failAt: z.number().int().min(1).optional(),
  }),
  async run(ctx) {
    const { steps, stepMs, failAt } = ctx.parameters;
    for (let step = 1; step <= steps; step++) {
      // Rejects with an AbortError as soon as the run is cancelled, so the run ends `cancelled`.
      await sleep(stepMs, undefined, { signal: ctx.signal });
      if (step === failAt) throw new Error(`demo.work failed at step ${step} of ${steps}`);
      ctx.setProgress(step, steps, `step ${step} of ${steps} done`);
    }
    ctx.logger.info('all steps done', { steps });
    return { steps };
  },
});

export const fail = defineTask({
  description: 'Always fails',
  async run() {
    throw new Error('demo failure');
  },
});

/** The demo types by name: the handler serves them, the CDK app and the local runtime register them. */
export const tasks = { 'demo.echo': echo, 'demo.work': work, 'demo.fail': fail };

export const handler = createTaskHandler(tasks);
