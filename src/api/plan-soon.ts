/**
 * A write that makes a task due before the next scheduled tick would plan it (a new sub-minute
 * task, a schedule edit whose leases ahead were withdrawn, a task enabled again, the scheduler
 * resumed) asks a tick to plan it now, so its slot still starts on its second. Best effort: a
 * request that fails is logged and the next scheduled tick plans the task, late.
 */
import { dueAtOf } from '../core/due.js';
import type { TaskState } from '../core/model.js';
import type { ApiDeps } from './deps.js';

/**
 * Tasks due this soon are handed to a tick at once: the construct's look-ahead (2 s into the
 * minute after next, 122 s from the start of a minute) and a margin. Later ones are in the window
 * of a scheduled tick still to come.
 */
export const PLAN_SOON_WITHIN_MS = 125_000;

/** Asks a tick to plan `task` when it is due within {@link PLAN_SOON_WITHIN_MS}. Never throws. */
export async function planSoon(deps: ApiDeps, task: TaskState): Promise<void> {
  if (!deps.tickPlanner) return;
  const due = dueAtOf(task);
  if (!due || due.getTime() > deps.clock.now().getTime() + PLAN_SOON_WITHIN_MS) return;
  await ask(deps, [task.id]);
}

/** After a resume: every due task, as a scheduled tick would (the paused ticks withdrew their runs). */
export async function planAllSoon(deps: ApiDeps): Promise<void> {
  if (deps.tickPlanner) await ask(deps);
}

async function ask(deps: ApiDeps, taskIds?: string[]): Promise<void> {
  try {
    await deps.tickPlanner?.plan(taskIds);
  } catch (error) {
    deps.logger?.warn('asking a tick to plan now failed; the next scheduled tick will', {
      ...(taskIds ? { taskIds } : {}),
      error: (error as Error).message,
    });
  }
}
