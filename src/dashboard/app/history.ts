/**
 * A task's details and run history (`GET /tasks/{id}/runs`, newest first), with each run's logs:
 * the lines from the local runtime, or a link (CloudWatch) on AWS.
 */
import { Fragment, h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, messageOf, type RunLogs, type RunView, type TaskView } from './api.js';
import { Dialog } from './dialog.js';
import { formatDuration, formatInstant } from './format.js';
import { cell, RunProgress, StatusBadge } from './task-table.js';

export interface HistoryProps {
  taskId: string;
  task: TaskView | undefined;
  /** Changes on every list refresh: the first page is read again. */
  refreshKey: number;
  onClose: () => void;
  onCancel: (task: TaskView, runId: string) => void;
}

type LogState = { kind: 'loading' } | { kind: 'ok'; logs: RunLogs } | { kind: 'error'; message: string };

/** Where a run ran, as its claim recorded it: function and version, log stream (or local worker), request id. */
export function ranOnText(ranOn: RunView['ranOn']): string | null {
  if (!ranOn) return null;
  const fn = ranOn.functionName
    ? `${ranOn.functionName}${ranOn.functionVersion ? `:${ranOn.functionVersion}` : ''}`
    : null;
  return [fn, ranOn.logStream, ranOn.requestId ? `request ${ranOn.requestId}` : null]
    .filter(Boolean)
    .join(' · ');
}

function LogsView({ state, run }: { state: LogState; run: RunView }) {
  if (state.kind === 'loading') return h('p', { class: 'muted' }, 'Loading logs…');
  if (state.kind === 'error') return h('p', { class: 'form-error', role: 'alert' }, state.message);
  const { lines, url } = state.logs;
  const ranOn = ranOnText(run.ranOn);
  return h(
    Fragment,
    null,
    ranOn ? h('p', { class: 'muted ran-on' }, `Ran on ${ranOn}`) : null,
    url
      ? h(
          'p',
          null,
          h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, 'Open the logs (CloudWatch) ↗'),
        )
      : null,
    lines && lines.length > 0
      ? h(
          'pre',
          { class: 'logs', tabIndex: 0, 'aria-label': 'Log lines' },
          lines
            .map((line) => `${line.at}  ${(line.level ?? '').toUpperCase().padEnd(5)}  ${line.message}`)
            .join('\n'),
        )
      : lines
        ? h('p', { class: 'muted' }, 'No log lines.')
        : null,
  );
}

/** When a run was scheduled, started or finished, in the task's zone (UTC on hover). */
function runTime(iso: string | null, zone: string) {
  return iso
    ? h(
        'time',
        { dateTime: iso, title: `${formatInstant(iso)} UTC` },
        formatInstant(iso, zone, { weekday: false }),
      )
    : h('span', { class: 'muted' }, '—');
}

/**
 * The slot a run was for; for a record standing for several slots (a `run-once` catch-up run,
 * a skipped or missed span), the first and last of them and how many.
 */
function scheduledCell(run: RunView, zone: string) {
  if (run.slotCount === null || run.firstSlotAt === null || run.lastSlotAt === null)
    return runTime(run.scheduledFor, zone);
  return h(
    'span',
    { class: 'slot-span', 'data-slot-count': String(run.slotCount) },
    runTime(run.firstSlotAt, zone),
    ' – ',
    runTime(run.lastSlotAt, zone),
    h('span', { class: 'muted' }, ` (${run.slotCount} slots)`),
  );
}

/** The run's error, its progress while it goes, or its result. */
function runOutcome(run: RunView, live: boolean) {
  if (run.error) {
    return h(
      'details',
      { class: 'error-details' },
      h('summary', null, h('span', { class: 'error-summary' }, run.error.message)),
      h('p', { class: 'error-text' }, `${run.error.name}: ${run.error.message}`),
    );
  }
  if (live) return h(RunProgress, { run, label: `Progress of run ${run.runId}` });
  return h('span', { class: 'result-wrap' }, run.result ?? run.note ?? '');
}

/** A link to the logs on AWS (CloudWatch); locally, a button that shows the lines below the row. */
function logsControl(run: RunView, logs: LogState | undefined, toggleLogs: () => void) {
  if (run.logs && /^https?:\/\//.test(run.logs)) {
    return h(
      'a',
      {
        class: 'button small',
        href: run.logs,
        target: '_blank',
        rel: 'noopener noreferrer',
        'aria-label': `Logs of run ${run.runId} (CloudWatch, opens a new tab)`,
      },
      'Logs ↗',
    );
  }
  if (!run.logs) return null;
  return h(
    'button',
    {
      type: 'button',
      class: 'button small',
      'aria-expanded': logs ? 'true' : 'false',
      onClick: toggleLogs,
      'aria-label': `Logs of run ${run.runId}`,
    },
    logs ? 'Hide logs' : 'Logs',
  );
}

function cancelRunButton(run: RunView, task: TaskView, onCancel: HistoryProps['onCancel']) {
  return h(
    'button',
    {
      type: 'button',
      class: 'button small danger',
      disabled: run.cancelRequested,
      onClick: () => onCancel(task, run.runId),
      'aria-label': `Cancel run ${run.runId}`,
    },
    run.cancelRequested ? 'Cancelling…' : 'Cancel',
  );
}

/** A run's logs, read when first shown: undefined while hidden. */
function useRunLogs(run: RunView): [LogState | undefined, () => void] {
  const [logs, setLogs] = useState<LogState | undefined>();
  const toggleLogs = () => {
    if (logs) {
      setLogs(undefined);
      return;
    }
    setLogs({ kind: 'loading' });
    api.runLogs(run.taskId, run.runId).then(
      (result) => setLogs({ kind: 'ok', logs: result }),
      (err: unknown) => setLogs({ kind: 'error', message: messageOf(err) }),
    );
  };
  return [logs, toggleLogs];
}

function RunRow({
  run,
  zone,
  task,
  onCancel,
}: {
  run: RunView;
  zone: string;
  task: TaskView | undefined;
  onCancel: HistoryProps['onCancel'];
}) {
  const [logs, toggleLogs] = useRunLogs(run);
  const live = run.status === 'running' || run.status === 'dispatched';
  return h(
    Fragment,
    null,
    h(
      'tr',
      { 'data-run-id': run.runId, 'data-status': run.status },
      cell('Status', null, h(StatusBadge, { status: run.status })),
      cell('Trigger', null, run.trigger),
      cell('Attempt', { class: 'num' }, String(run.attempt)),
      cell('Scheduled', null, scheduledCell(run, zone)),
      cell(
        'Started',
        null,
        runTime(run.startedAt, zone),
        run.latenessMs === null
          ? null
          : h(
              'span',
              { class: 'muted lateness', title: 'Lateness: start minus slot' },
              ` +${formatDuration(run.latenessMs)}`,
            ),
      ),
      cell('Finished', null, runTime(run.finishedAt, zone)),
      cell('Duration', { class: 'num' }, formatDuration(run.durationMs)),
      cell('Result', null, runOutcome(run, live)),
      cell(
        'Actions',
        { class: 'actions' },
        logsControl(run, logs, toggleLogs),
        (live || run.status === 'queued') && task ? cancelRunButton(run, task, onCancel) : null,
      ),
    ),
    logs ? h('tr', { class: 'logs-row' }, h('td', { colSpan: 9 }, h(LogsView, { state: logs, run }))) : null,
  );
}

/**
 * The task's runs, newest first: the first page is read again on every refresh; older pages are
 * loaded on demand and kept.
 */
function useRunPages(taskId: string, refreshKey: number) {
  const [runs, setRuns] = useState<RunView[] | undefined>();
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const olderLoaded = useRef(false);

  useEffect(() => {
    let stale = false;
    api.listRuns(taskId).then(
      (page) => {
        if (stale) return;
        setError(undefined);
        setRuns((previous) => {
          if (!olderLoaded.current || !previous) return page.items;
          // Keep the older pages the user loaded; the first page replaces what it covers.
          const fresh = new Set(page.items.map((r) => r.runId));
          const oldest = page.items[page.items.length - 1]?.runId ?? '';
          return [...page.items, ...previous.filter((r) => !fresh.has(r.runId) && r.runId < oldest)];
        });
        if (!olderLoaded.current) setNextToken(page.nextToken);
      },
      (err: unknown) => {
        if (!stale) setError(messageOf(err));
      },
    );
    return () => {
      stale = true;
    };
  }, [taskId, refreshKey]);

  const loadMore = () => {
    if (!nextToken) return;
    api.listRuns(taskId, nextToken).then(
      (page) => {
        olderLoaded.current = true;
        setRuns((previous) => [...(previous ?? []), ...page.items]);
        setNextToken(page.nextToken);
      },
      (err: unknown) => setError(messageOf(err)),
    );
  };

  return { runs, nextToken, error, loadMore };
}

/** The task's schedule, type, next slots and run count. */
function taskSummary(task: TaskView, zone: string) {
  return h(
    'dl',
    { class: 'summary' },
    h('dt', null, 'Schedule'),
    h(
      'dd',
      null,
      h('code', null, task.schedule),
      ' ',
      task.scheduleDescription ?? '',
      task.scheduleDescription?.includes(task.timezone)
        ? null
        : h('span', { class: 'muted' }, ` (${task.timezone})`),
    ),
    h('dt', null, 'Type'),
    h('dd', { class: 'mono' }, task.type),
    h('dt', null, 'Next slots'),
    h(
      'dd',
      null,
      task.nextSlots.length === 0
        ? h('span', { class: 'muted' }, task.enabled ? 'none' : 'none (disabled)')
        : task.nextSlots.map((s) => formatInstant(s, zone)).join(' · '),
    ),
    h('dt', null, 'Runs'),
    h('dd', null, `${task.runCount} in all${task.queuedRuns > 0 ? `, ${task.queuedRuns} queued` : ''}`),
  );
}

function runTable(
  runs: RunView[],
  zone: string,
  task: TaskView | undefined,
  onCancel: HistoryProps['onCancel'],
) {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'runs', 'aria-label': 'Run history' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          ...[
            'Status',
            'Trigger',
            'Attempt',
            `Scheduled (${zone})`,
            'Started',
            'Finished',
            'Duration',
            'Result or error',
            'Actions',
          ].map((label) => h('th', { scope: 'col' }, label)),
        ),
      ),
      h('tbody', null, ...runs.map((run) => h(RunRow, { key: run.runId, run, zone, task, onCancel }))),
    ),
  );
}

export function History({ taskId, task, refreshKey, onClose, onCancel }: HistoryProps) {
  const { runs, nextToken, error, loadMore } = useRunPages(taskId, refreshKey);
  const zone = task?.timezone ?? 'UTC';
  return h(
    Dialog,
    { title: `History: ${task?.name ?? taskId}`, onClose, wide: true, testId: 'history' },
    task ? taskSummary(task, zone) : null,
    error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
    runs === undefined
      ? h('p', { class: 'muted' }, 'Loading history…')
      : runs.length === 0
        ? h('p', { class: 'muted' }, 'No runs yet.')
        : runTable(runs, zone, task, onCancel),
    nextToken ? h('button', { type: 'button', class: 'button', onClick: loadMore }, 'Load older runs') : null,
  );
}
