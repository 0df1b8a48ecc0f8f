/**
 * The task form's schedule preview: the API (`GET /schedule-preview`) is asked as the user types,
 * debounced, and the next five slots are shown in the task's zone and in UTC, or the reason the
 * expression is refused.
 */
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, messageOf, type SchedulePreview } from './api.js';
import { formatInstant } from './format.js';

/** Milliseconds the preview waits after the last keystroke. */
export const PREVIEW_DEBOUNCE_MS = 250;

export type PreviewState =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ok'; preview: SchedulePreview }
  | { kind: 'error'; message: string };

/** The preview of the schedule as typed; only the latest request's answer is shown. */
export function useSchedulePreview(scheduleText: string, timezone: string): PreviewState {
  const [preview, setPreview] = useState<PreviewState>({ kind: 'idle' });
  const seq = useRef(0);
  useEffect(() => {
    const schedule = scheduleText.trim();
    const mine = ++seq.current;
    if (schedule === '') {
      setPreview({ kind: 'idle' });
      return;
    }
    setPreview((p) => (p.kind === 'idle' ? { kind: 'loading' } : p));
    const timer = setTimeout(() => {
      api.preview(schedule, timezone.trim() || 'UTC').then(
        (result) => {
          if (seq.current === mine) setPreview({ kind: 'ok', preview: result });
        },
        (err: unknown) => {
          if (seq.current === mine) setPreview({ kind: 'error', message: messageOf(err) });
        },
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [scheduleText, timezone]);
  return preview;
}

/** The next slots, in the task's zone and in UTC. */
function slotsTable(next: string[], zone: string) {
  return h(
    'table',
    { class: 'slots' },
    h(
      'thead',
      null,
      h('tr', null, h('th', { scope: 'col' }, `Next runs (${zone})`), h('th', { scope: 'col' }, 'UTC')),
    ),
    h(
      'tbody',
      null,
      ...next.map((slot) =>
        h('tr', null, h('td', null, formatInstant(slot, zone)), h('td', null, formatInstant(slot, 'UTC'))),
      ),
    ),
  );
}

/** The preview section; `id` is what the schedule input's `aria-describedby` points at. */
export function previewSection(preview: PreviewState, zone: string, id: string) {
  return h(
    'section',
    {
      class: `preview ${preview.kind}`,
      id,
      'aria-live': 'polite',
      'aria-label': 'Schedule preview',
      'data-testid': 'schedule-preview',
    },
    h('h3', null, 'Schedule preview'),
    preview.kind === 'idle' ? h('p', { class: 'muted' }, 'Type a schedule to see when it runs.') : null,
    preview.kind === 'loading' ? h('p', { class: 'muted' }, 'Checking…') : null,
    preview.kind === 'error'
      ? h('p', { class: 'field-error', role: 'alert', 'data-testid': 'schedule-error' }, preview.message)
      : null,
    preview.kind === 'ok'
      ? [
          h('p', { class: 'describe', 'data-testid': 'schedule-description' }, preview.preview.description),
          preview.preview.next.length === 0
            ? h('p', { class: 'muted' }, 'No upcoming slot.')
            : slotsTable(preview.preview.next, zone),
        ]
      : null,
  );
}
