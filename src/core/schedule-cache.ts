import type { TaskState } from './model.js';
import { parseSchedule, type Schedule } from './schedule.js';

/** Most parsed schedules kept; past it the cache starts over (a bound, not an eviction policy). */
const maxCachedSchedules = 5000;

const scheduleCache = new Map<string, Schedule>();

/**
 * The parsed schedule of a stored task, by expression and zone, parsed once per process. Stored
 * schedules were validated when saved, so no minimum interval is checked here.
 */
export function scheduleFor(task: Pick<TaskState, 'schedule' | 'timezone'>): Schedule {
  const key = `${task.timezone}\u0000${task.schedule}`;
  let schedule = scheduleCache.get(key);
  if (!schedule) {
    schedule = parseSchedule(task.schedule, { timezone: task.timezone, minIntervalMs: 0 });
    if (scheduleCache.size > maxCachedSchedules) scheduleCache.clear();
    scheduleCache.set(key, schedule);
  }
  return schedule;
}
