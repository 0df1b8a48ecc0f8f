/**
 * The task list: one row per task with its schedule, state, last result and live progress, and
 * the row's actions. At phone width the CSS turns each row into a card (cells carry data-label).
 */
import { type ComponentChildren, h } from 'preact';
import type { RunView, TaskView } from './api.js';
import { formatDuration, formatInstant, formatRelative } from './format.js';

export interface TaskTableProps {
  tasks: TaskView[];
  now: number;
  busy: ReadonlySet<string>;
  onToggle: (task: TaskView) => void;
  onRun: (task: TaskView) => void;
  onCancel: (task: TaskView) => void;
  onEdit: (task: TaskView) => void;
  onDelete: (task: TaskView) => void;
  onHistory: (task: TaskView) => void;
}

/** A run's status as a coloured badge. */
export function StatusBadge({ status }: { status: string | null }) {
  if (!status) return h('span', { class: 'badge muted' }, 'never run');
  return h('span', { class: `badge status-${status}`, 'data-status': status }, status);
}

/** A progress bar with its message, for a run that is going. */
export function RunProgress({ run, label }: { run: RunView; label: string }) {
  const progress = run.progress;
  const max = progress?.max ?? null;
  const text =
    progress === null
      ? run.status === 'dispatched'
        ? 'starting…'
        : 'running…'
      : [
          progress.percent !== null ? `${Math.round(progress.percent)}%` : `${progress.value}`,
          progress.message,
        ]
          .filter(Boolean)
          .join(' · ');
  return h(
    'div',
    { class: 'progress', 'data-testid': 'run-progress' },
    h('progress', {
      'aria-label': label,
      max: max ?? undefined,
      value: progress !== null && max !== null ? progress.value : undefined,
      'aria-valuetext': text,
      'data-percent': progress?.percent ?? '',
    }),
    h('span', { class: 'progress-text' }, run.cancelRequested ? 'cancelling… ' : '', text),
  );
}

/** A table cell labelled for the phone layout; its content is one block, whatever the layout. */
export function cell(label: string, props: Record<string, unknown> | null, ...children: ComponentChildren[]) {
  return h('td', { 'data-label': label, ...props }, h('div', { class: 'cell' }, ...children));
}

function Time({ iso, zone, now }: { iso: string | null; zone: string; now: number }) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h(
    'time',
    { dateTime: iso, title: `${formatInstant(iso)} UTC` },
    h('span', { class: 'when' }, formatInstant(iso, zone, { weekday: false, now })),
    h('small', { class: 'muted block' }, formatRelative(iso, now)),
  );
}

function LastResult({ task }: { task: TaskView }) {
  if (task.lastError) {
    return h(
      'details',
      { class: 'error-details' },
      h(
        'summary',
        { title: 'Show the whole error' },
        h(StatusBadge, { status: task.lastStatus ?? 'failed' }),
        ' ',
        h('span', { class: 'error-summary' }, task.lastError.message),
      ),
      h('p', { class: 'error-text' }, `${task.lastError.name}: ${task.lastError.message}`),
    );
  }
  return h(
    'div',
    null,
    h(StatusBadge, { status: task.lastStatus }),
    task.lastResult ? h('div', { class: 'result-text', title: task.lastResult }, task.lastResult) : null,
    task.lastDurationMs !== null
      ? h('small', { class: 'muted block' }, formatDuration(task.lastDurationMs))
      : null,
  );
}

type RowActions = Omit<TaskTableProps, 'tasks' | 'busy' | 'now'>;

const READ_ONLY_TITLE = 'System tasks are read-only';

/** The task's name, id and type, with its tags (system, hidden, stopped on error). */
function taskCell(task: TaskView) {
  return cell(
    'Task',
    null,
    h('div', { class: 'task-name' }, h('a', { href: `#/tasks/${encodeURIComponent(task.id)}` }, task.name)),
    h('small', { class: 'muted block mono', title: 'Task id' }, task.id),
    h('small', { class: 'block mono type', title: 'Task type' }, task.type),
    h(
      'div',
      { class: 'tags' },
      task.system
        ? h(
            'span',
            { class: 'badge system', title: 'System task: read-only (it can be run and cancelled)' },
            'system · read-only',
          )
        : null,
      task.hidden ? h('span', { class: 'badge muted' }, 'hidden') : null,
      task.disabledReason
        ? h('span', { class: 'badge warn', title: task.disabledReason }, 'stopped on error')
        : null,
    ),
  );
}

function scheduleCell(task: TaskView) {
  return cell(
    'Schedule',
    null,
    h('code', null, task.schedule),
    h('div', { class: 'describe' }, task.scheduleDescription ?? ''),
    task.scheduleDescription?.includes(task.timezone) ? null : h('small', { class: 'muted' }, task.timezone),
  );
}

/** The enabled switch: it never flips by itself, the list refresh decides. */
function enabledCell(task: TaskView, busy: boolean, onToggle: RowActions['onToggle']) {
  const readOnly = task.system;
  return cell(
    'Enabled',
    null,
    h(
      'label',
      { class: 'switch', title: readOnly ? READ_ONLY_TITLE : undefined },
      h('input', {
        type: 'checkbox',
        role: 'switch',
        checked: task.enabled,
        disabled: readOnly || busy,
        'aria-label': `Enabled: ${task.name}`,
        onChange: (event: Event) => {
          (event.currentTarget as HTMLInputElement).checked = task.enabled; // the list refresh decides
          onToggle(task);
        },
      }),
      h('span', { class: 'slider', 'aria-hidden': 'true' }),
    ),
  );
}

function progressCell(task: TaskView) {
  const run = task.currentRun;
  return cell(
    'Progress',
    { class: 'progress-cell' },
    run
      ? h(RunProgress, { run, label: `Progress of ${task.name}` })
      : task.queuedRuns > 0
        ? h('span', { class: 'badge status-queued' }, `${task.queuedRuns} queued`)
        : h('span', { class: 'muted' }, '—'),
  );
}

/** A small button of the actions cell. */
function actionButton(props: Record<string, unknown>, label: string) {
  return h('button', { type: 'button', ...props }, label);
}

/** Run now, cancel (while a run goes or waits), history, edit and delete. */
function actionsCell(task: TaskView, busy: boolean, on: RowActions) {
  const run = task.currentRun;
  const cancellable = run !== null || task.queuedRuns > 0;
  const readOnly = task.system;
  const title = readOnly ? READ_ONLY_TITLE : undefined;
  return cell(
    'Actions',
    { class: 'actions' },
    actionButton(
      {
        class: 'button small primary',
        disabled: busy,
        onClick: () => on.onRun(task),
        'aria-label': `Run ${task.name} now`,
      },
      'Run now',
    ),
    cancellable
      ? actionButton(
          {
            class: 'button small danger',
            disabled: busy || run?.cancelRequested === true,
            onClick: () => on.onCancel(task),
            'aria-label': `Cancel the run of ${task.name}`,
          },
          run?.cancelRequested ? 'Cancelling…' : 'Cancel',
        )
      : null,
    actionButton(
      { class: 'button small', onClick: () => on.onHistory(task), 'aria-label': `History of ${task.name}` },
      'History',
    ),
    actionButton(
      {
        class: 'button small',
        disabled: readOnly,
        title,
        onClick: () => on.onEdit(task),
        'aria-label': `Edit ${task.name}`,
      },
      'Edit',
    ),
    actionButton(
      {
        class: 'button small danger-outline',
        disabled: readOnly || busy,
        title,
        onClick: () => on.onDelete(task),
        'aria-label': `Delete ${task.name}`,
      },
      'Delete',
    ),
  );
}

function Row({
  task,
  now,
  busy,
  ...on
}: Omit<TaskTableProps, 'tasks' | 'busy'> & { task: TaskView; busy: boolean }) {
  const run = task.currentRun;
  return h(
    'tr',
    { 'data-task-id': task.id, class: run ? 'is-running' : task.enabled ? '' : 'is-disabled' },
    taskCell(task),
    scheduleCell(task),
    enabledCell(task, busy, on.onToggle),
    cell('Next run', null, h(Time, { iso: task.nextRunAt, zone: task.timezone, now })),
    cell('Last run', null, h(Time, { iso: task.lastRunAt, zone: task.timezone, now })),
    cell('Last result', null, h(LastResult, { task })),
    cell('Runs', { class: 'num' }, String(task.runCount)),
    progressCell(task),
    actionsCell(task, busy, on),
  );
}

export function TaskTable({ tasks, busy, ...rest }: TaskTableProps) {
  return h(
    'table',
    { class: 'tasks', 'aria-label': 'Tasks' },
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        ...[
          'Task',
          'Schedule',
          'Enabled',
          'Next run',
          'Last run',
          'Last result',
          'Runs',
          'Progress',
          'Actions',
        ].map((label) => h('th', { scope: 'col' }, label)),
      ),
    ),
    h(
      'tbody',
      null,
      ...tasks.map((task) => h(Row, { key: task.id, task, busy: busy.has(task.id), ...rest })),
    ),
  );
}
