/**
 * One task's page (`#/tasks/<id>`): its schedule, its history with a link to each run's page, and
 * its actions: run now, and backfill a past range (a dry run lists the slots before anything is
 * queued).
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type BackfillResult, messageOf, type RunView, type TaskView } from './api.js';
import { Dialog } from './dialog.js';
import { formatDuration, formatInstant } from './format.js';
import { hrefOf, navigate } from './router.js';
import { cell, StatusBadge } from './task-table.js';

function useTaskAndRuns(taskId: string) {
  const [task, setTask] = useState<TaskView | undefined>();
  const [runs, setRuns] = useState<RunView[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stale = false;
    Promise.all([api.getTask(taskId), api.listRuns(taskId)]).then(
      ([t, page]) => {
        if (stale) return;
        setTask(t);
        setRuns(page.items);
        setError(undefined);
      },
      (err: unknown) => !stale && setError(messageOf(err)),
    );
    const timer = setTimeout(() => setTick((n) => n + 1), 2000);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [taskId, tick]);
  return { task, runs, error, reload: () => setTick((n) => n + 1) };
}

/** `datetime-local` input value (UTC) of an instant, and back. */
const localValue = (date: Date) => date.toISOString().slice(0, 16);
const instantOf = (value: string) => new Date(`${value}:00Z`).toISOString();

/** The backfill form's state, and its request: a dry run (the preview) or the real one. */
function useBackfill(task: TaskView, onStarted: (text: string) => void) {
  const now = new Date();
  const [from, setFrom] = useState(localValue(new Date(now.getTime() - 86_400_000)));
  const [to, setTo] = useState(localValue(now));
  const [concurrency, setConcurrency] = useState('1');
  const [preview, setPreview] = useState<BackfillResult | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const send = async (dryRun: boolean) => {
    setBusy(true);
    setError(undefined);
    try {
      const input = { from: instantOf(from), to: instantOf(to), concurrency: Number(concurrency), dryRun };
      const result = await api.backfill(task.id, input);
      if (dryRun) setPreview(result);
      else onStarted(`Backfill of ${task.name} started: ${result.count} slots`);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  /** A change of the range or the concurrency: the preview no longer holds. */
  const edit = (set: (value: string) => void) => (value: string) => {
    set(value);
    setPreview(undefined);
  };
  return {
    fields: { from, to, concurrency },
    setFrom: edit(setFrom),
    setTo: edit(setTo),
    setConcurrency: edit(setConcurrency),
    preview,
    error,
    busy,
    send,
  };
}

function input(label: string, value: string, set: (v: string) => void, type = 'datetime-local') {
  return h(
    'label',
    { class: 'field' },
    h('span', null, label),
    h('input', {
      type,
      value,
      ...(type === 'number' ? { min: 1, max: 10 } : {}),
      onInput: (e: Event) => set((e.currentTarget as HTMLInputElement).value),
    }),
  );
}

function slotPreview(preview: BackfillResult) {
  return h(
    'div',
    { 'data-testid': 'backfill-preview' },
    h('p', null, `${preview.count} slots`),
    h(
      'ul',
      { class: 'slots' },
      ...preview.slots.slice(0, 10).map((slot) => h('li', null, h('code', null, slot.idempotencyKey))),
      preview.count > 10 ? h('li', { class: 'muted' }, `… and ${preview.count - 10} more`) : null,
    ),
  );
}

function BackfillDialog({
  task,
  onClose,
  onStarted,
}: {
  task: TaskView;
  onClose: () => void;
  onStarted: (text: string) => void;
}) {
  const form = useBackfill(task, onStarted);
  return h(
    Dialog,
    { title: `Backfill ${task.name}`, onClose, testId: 'backfill' },
    h(
      'p',
      { class: 'muted' },
      `One run per slot of ${task.schedule} (${task.timezone}); times below are UTC.`,
    ),
    input('From (UTC)', form.fields.from, form.setFrom),
    input('To (UTC)', form.fields.to, form.setTo),
    input('Runs at once', form.fields.concurrency, form.setConcurrency, 'number'),
    form.error ? h('p', { class: 'form-error', role: 'alert' }, form.error) : null,
    form.preview ? slotPreview(form.preview) : null,
    h(
      'div',
      { class: 'form-actions' },
      h(
        'button',
        { type: 'button', class: 'button', disabled: form.busy, onClick: () => form.send(true) },
        'Preview slots',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'button primary',
          disabled: form.busy || !form.preview || form.preview.count === 0,
          onClick: () => form.send(false),
        },
        'Start backfill',
      ),
    ),
  );
}

function runRow(run: RunView, zone: string) {
  const link = hrefOf({ page: 'run', taskId: run.taskId, runId: run.runId });
  const at = (iso: string | null) => (iso ? formatInstant(iso, zone, { weekday: false }) : '—');
  return h(
    'tr',
    { key: run.runId, 'data-run-id': run.runId, 'data-status': run.status },
    cell('Status', null, h('a', { href: link }, h(StatusBadge, { status: run.status }))),
    cell('Trigger', null, run.trigger),
    cell('Scheduled', null, at(run.scheduledFor)),
    cell('Started', null, at(run.startedAt)),
    cell('Duration', { class: 'num' }, formatDuration(run.durationMs)),
    cell(
      'Result or error',
      null,
      run.error ? `${run.error.name}: ${run.error.message}` : (run.result ?? run.note ?? ''),
    ),
  );
}

function taskFacts(task: TaskView, zone: string) {
  return h(
    'dl',
    { class: 'summary' },
    h('dt', null, 'Schedule'),
    h('dd', null, h('code', null, task.schedule), ` ${task.scheduleDescription ?? ''}`),
    h('dt', null, 'Type'),
    h('dd', { class: 'mono' }, task.type),
    h('dt', null, 'Overlap'),
    h('dd', null, task.overlap),
    h('dt', null, 'Next slots'),
    h('dd', null, task.nextSlots.map((s) => formatInstant(s, zone)).join(' · ') || '—'),
    ...promiseFacts(task, zone),
    ...writeFacts(task),
  );
}

/** The write-saving options a task has, and what each gives up; shown only when one applies. */
function writeFacts(task: TaskView) {
  const given = [
    task.idempotent === true ? 'idempotent: a duplicate delivery may run the body twice' : '',
    task.successesListed === 'none' ? 'successful runs listed only here, not on the Runs page' : '',
    task.successesListed === 'except-scheduled'
      ? 'scheduled successes listed only here (due every minute); run-now, retries and replays also on the Runs page'
      : '',
  ].filter(Boolean);
  if (given.length === 0) return [];
  return [h('dt', null, 'Fewer writes'), h('dd', { 'data-testid': 'write-options' }, given.join(' · '))];
}

/** The dead-man promise: how often the task must succeed, by when next, and whether it is overdue. */
function promiseFacts(task: TaskView, zone: string) {
  if (task.mustSucceedEvery === null) return [];
  const at = (iso: string | null) => (iso ? formatInstant(iso, zone) : 'never');
  return [
    h('dt', null, 'Must succeed'),
    h(
      'dd',
      { 'data-testid': 'promise' },
      `every ${task.mustSucceedEvery} · `,
      task.overdue
        ? h('span', { class: 'badge warn' }, `Overdue since ${at(task.successDeadline)}`)
        : `next by ${at(task.successDeadline)}`,
      ` · last success ${at(task.lastSucceededAt)}`,
    ),
  ];
}

function historyOf(runs: RunView[] | undefined, zone: string) {
  if (runs === undefined) return h('p', { class: 'muted' }, 'Loading history…');
  if (runs.length === 0) return h('p', { class: 'muted' }, 'No runs yet.');
  const headers = ['Status', 'Trigger', `Scheduled (${zone})`, 'Started', 'Duration', 'Result or error'];
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'runs', 'aria-label': 'Run history' },
      h('thead', null, h('tr', null, ...headers.map((l) => h('th', { scope: 'col' }, l)))),
      h('tbody', null, ...runs.map((r) => runRow(r, zone))),
    ),
  );
}

export function TaskPage({ taskId }: { taskId: string }) {
  const { task, runs, error, reload } = useTaskAndRuns(taskId);
  const [backfill, setBackfill] = useState(false);
  const [notice, setNotice] = useState<string | undefined>();
  const runNow = () =>
    api.runNow(taskId).then(
      (accepted) => navigate({ page: 'run', taskId, runId: accepted.runId }),
      (err: unknown) => setNotice(messageOf(err)),
    );
  const zone = task?.timezone ?? 'UTC';
  return h(
    'main',
    { 'data-testid': 'task-page' },
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, 'Tasks'), ' / ', taskId),
    h('h2', null, task?.name ?? taskId),
    error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
    notice ? h('p', { class: 'notice info', role: 'status' }, notice) : null,
    task ? taskFacts(task, zone) : null,
    h(
      'div',
      { class: 'page-actions' },
      h('button', { type: 'button', class: 'button primary', onClick: runNow }, 'Run now'),
      h(
        'button',
        { type: 'button', class: 'button', disabled: !task, onClick: () => setBackfill(true) },
        'Backfill…',
      ),
      h(
        'a',
        { class: 'button', href: hrefOf({ page: 'runs', query: new URLSearchParams({ taskId }) }) },
        'Filter runs',
      ),
    ),
    historyOf(runs, zone),
    backfill && task
      ? h(BackfillDialog, {
          task,
          onClose: () => setBackfill(false),
          onStarted: (text: string) => {
            setBackfill(false);
            setNotice(text);
            reload();
          },
        })
      : null,
  );
}
