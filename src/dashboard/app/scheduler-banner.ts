/** The scheduler's state: running or paused, pause/resume, and when it last ticked. */
import { h } from 'preact';
import type { SchedulerView } from './api.js';
import { formatDuration, formatInstant, formatRelative } from './format.js';

export interface SchedulerBannerProps {
  scheduler: SchedulerView | undefined;
  busy: boolean;
  now: number;
  onPause: () => void;
  onResume: () => void;
}

export function SchedulerBanner({ scheduler, busy, now, onPause, onResume }: SchedulerBannerProps) {
  if (!scheduler) {
    return h(
      'section',
      { class: 'banner', 'aria-label': 'Scheduler' },
      h('span', null, 'Scheduler: loading…'),
    );
  }
  const paused = scheduler.state === 'paused';
  const tick = scheduler.lastTickAt
    ? [
        'Last tick ',
        h(
          'time',
          { dateTime: scheduler.lastTickAt, title: `${formatInstant(scheduler.lastTickAt)} UTC` },
          formatRelative(scheduler.lastTickAt, now),
        ),
        scheduler.lastTickDurationMs !== null ? ` (took ${formatDuration(scheduler.lastTickDurationMs)}` : '',
        scheduler.lastTickStarted !== null && scheduler.lastTickDurationMs !== null
          ? `, started ${scheduler.lastTickStarted} run${scheduler.lastTickStarted === 1 ? '' : 's'})`
          : scheduler.lastTickDurationMs !== null
            ? ')'
            : '',
      ]
    : ['No tick yet'];
  return h(
    'section',
    {
      class: `banner ${paused ? 'paused' : 'running'}`,
      'aria-label': 'Scheduler',
      'data-testid': 'scheduler-banner',
    },
    h(
      'strong',
      { class: 'scheduler-state', 'data-testid': 'scheduler-state' },
      paused ? '⏸ Scheduler paused' : '● Scheduler running',
    ),
    h('span', { class: 'tick' }, ...tick),
    paused ? h('span', { class: 'hint' }, 'No scheduled run starts until it resumes.') : null,
    h(
      'button',
      { type: 'button', class: 'button', disabled: busy, onClick: paused ? onResume : onPause },
      paused ? 'Resume scheduler' : 'Pause scheduler',
    ),
  );
}
