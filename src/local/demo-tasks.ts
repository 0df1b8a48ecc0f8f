/**
 * The demo tasks a first start of the local runtime seeds, so a new user sees scheduled runs at
 * once: a minutely heartbeat (`demo.echo`) and a slow import with progress every five minutes
 * (`demo.work`). Seeded only into a table with no tasks, with fixed ids, so runtimes starting
 * together on one table seed them once.
 */
import { type Parameters, type TaskState, taskDefaults } from '../core/model.js';
import type { TaskStore } from '../core/ports.js';
import { nextSlot, parseSchedule } from '../core/schedule.js';

interface DemoTask {
  id: string;
  name: string;
  type: string;
  schedule: string;
  parameters: Parameters;
  description: string;
  timeoutSeconds: number;
}

/** The seeded tasks. */
export const demoTasks: readonly DemoTask[] = [
  {
    id: 'demo-heartbeat',
    name: 'Heartbeat',
    type: 'demo.echo',
    schedule: '* * * * *',
    parameters: { message: 'still alive' },
    description: 'A demo task: succeeds every minute, echoing its parameters.',
    timeoutSeconds: 60,
  },
  {
    id: 'demo-import',
    name: 'Slow import',
    type: 'demo.work',
    schedule: '*/5 * * * *',
    parameters: { steps: 20, stepMs: 1500 },
    description: 'A demo task: 20 steps of 1.5 s every five minutes, reporting progress; try cancelling it.',
    timeoutSeconds: 300,
  },
];

/** A new task's stored state, as the API would create it. */
export function newTaskState(task: DemoTask, now: Date): TaskState {
  const schedule = parseSchedule(task.schedule, { timezone: 'UTC' });
  const nextSlotAt = nextSlot(schedule, now);
  return {
    ...taskDefaults,
    retry: { ...taskDefaults.retry },
    id: task.id,
    name: task.name,
    type: task.type,
    schedule: task.schedule,
    parameters: task.parameters,
    description: task.description,
    timeoutSeconds: task.timeoutSeconds,
    version: 1,
    createdAt: now,
    updatedAt: now,
    ...(nextSlotAt ? { nextSlotAt } : {}),
    scheduledStarts: 0,
    fence: 0,
    active: [],
    pending: [],
    summary: { runCount: 0 },
  };
}

/**
 * Seeds the demo tasks when the table has none and their types are registered.
 * Returns the ids it created.
 */
export async function seedDemoTasks(
  store: TaskStore,
  registeredTypes: ReadonlySet<string>,
  now: Date,
): Promise<string[]> {
  const existing = await store.listTasks({ limit: 1 });
  if (existing.items.length > 0) return [];
  const created: string[] = [];
  for (const task of demoTasks) {
    if (!registeredTypes.has(task.type)) continue;
    const result = await store.createTask(newTaskState(task, now));
    if (result.created) created.push(task.id);
  }
  return created;
}
