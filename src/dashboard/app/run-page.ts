/**
 * One run's page (`#/tasks/<id>/runs/<runId>`): its state, trigger, attempt, slot, start and
 * lateness, duration, parameters, result, error with its stack, logs, and the run it replays;
 * Replay (a new run with its parameters, then that run's page) and Cancel while it goes.
 * Read again every second while it goes.
 */

import { Fragment, h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, type RunLogs, type RunView } from './api.js';
import { formatDuration, formatInstant } from './format.js';
import { ranOnText } from './history.js';
import { hrefOf, navigate } from './router.js';
import { RunProgress, StatusBadge } from './task-table.js';

const LIVE = new Set(['running', 'dispatched', 'queued']);

/** Start minus slot, for runs that stand for a slot (schedule, catch-up); null for the others. */
export function latenessMs(run: Pick<RunView, 'trigger' | 'scheduledFor' | 'startedAt'>): number | null {
  if (!run.startedAt || (run.trigger !== 'schedule' && run.trigger !== 'catch-up')) return null;
  return Date.parse(run.startedAt) - Date.parse(run.scheduledFor);
}

function useRun(taskId: string, runId: string) {
  const [run, setRun] = useState<RunView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stale = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    api.getRun(taskId, runId).then(
      (got) => {
        if (stale) return;
        setRun(got);
        setError(undefined);
        if (LIVE.has(got.status)) timer = setTimeout(() => setTick((t) => t + 1), 1000);
      },
      (err: unknown) => !stale && setError(messageOf(err)),
    );
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [taskId, runId, tick]);
  return { run, error, reload: () => setTick((t) => t + 1) };
}

/** Every run of the same slot in the task's recent history: retries, replays, the run itself. */
function useAttempts(run: RunView | undefined): RunView[] {
  const [attempts, setAttempts] = useState<RunView[]>([]);
  const key = run ? `${run.taskId}/${run.scheduledFor}/${run.status}` : '';
  useEffect(() => {
    if (!run) return;
    api.listRuns(run.taskId).then(
      (page) => setAttempts(page.items.filter((r) => r.scheduledFor === run.scheduledFor)),
      () => setAttempts([]),
    );
  }, [key]);
  return attempts;
}

function attemptsView(run: RunView, attempts: RunView[]) {
  if (attempts.length < 2) return null;
  return section(
    'Runs of this slot',
    h(
      'ul',
      { class: 'slots', 'data-testid': 'attempts' },
      ...attempts.map((a) =>
        h(
          'li',
          { key: a.runId },
          a.runId === run.runId
            ? h('strong', null, 'this run')
            : h('a', { href: hrefOf({ page: 'run', taskId: a.taskId, runId: a.runId }) }, a.runId),
          ` · ${a.trigger}, attempt ${a.attempt} · `,
          h(StatusBadge, { status: a.status }),
        ),
      ),
    ),
  );
}

function useLogs(run: RunView | undefined): RunLogs | string | undefined {
  const [logs, setLogs] = useState<RunLogs | string | undefined>();
  const key = run ? `${run.taskId}/${run.runId}/${run.status}` : '';
  useEffect(() => {
    if (!run?.logs) return;
    if (/^https?:\/\//.test(run.logs)) {
      setLogs({ lines: null, url: run.logs });
      return;
    }
    api.runLogs(run.taskId, run.runId).then(setLogs, (err: unknown) => setLogs(messageOf(err)));
  }, [key]);
  return logs;
}

const when = (iso: string | null) =>
  iso ? h('time', { dateTime: iso }, `${formatInstant(iso)} UTC`) : h('span', { class: 'muted' }, '—');

function field(label: string, ...value: unknown[]) {
  return [h('dt', null, label), h('dd', { 'data-field': label }, ...(value as never[]))];
}

function facts(run: RunView) {
  const late = latenessMs(run);
  return h(
    'dl',
    { class: 'summary' },
    ...field('Status', h(StatusBadge, { status: run.status })),
    ...field(
      'Task',
      h('a', { href: hrefOf({ page: 'task', taskId: run.taskId }) }, run.taskId),
      ` (${run.type})`,
    ),
    ...field('Trigger', run.trigger),
    ...field('Attempt', String(run.attempt)),
    ...(run.replayOf
      ? field(
          'Replay of',
          h('a', { href: hrefOf({ page: 'run', taskId: run.taskId, runId: run.replayOf }) }, run.replayOf),
        )
      : []),
    ...field('Slot', when(run.scheduledFor)),
    ...field('Started', when(run.startedAt)),
    ...field('Lateness', late === null ? h('span', { class: 'muted' }, 'n/a') : formatDuration(late)),
    ...field('Finished', when(run.finishedAt)),
    ...field('Duration', formatDuration(run.durationMs)),
    ...(run.note ? field('Note', run.note) : []),
  );
}

function section(title: string, ...children: unknown[]) {
  return h('section', { class: 'run-section' }, h('h3', null, title), ...(children as never[]));
}

function logsView(logs: RunLogs | string | undefined) {
  if (logs === undefined) return h('p', { class: 'muted' }, 'No logs.');
  if (typeof logs === 'string') return h('p', { class: 'form-error', role: 'alert' }, logs);
  return h(
    Fragment,
    null,
    logs.url
      ? h(
          'p',
          null,
          h('a', { href: logs.url, target: '_blank', rel: 'noopener noreferrer' }, 'Open the logs ↗'),
        )
      : null,
    logs.lines
      ? h(
          'pre',
          { class: 'logs', tabIndex: 0, 'aria-label': 'Log lines' },
          logs.lines
            .map((l) => `${l.at}  ${(l.level ?? '').toUpperCase().padEnd(5)}  ${l.message}`)
            .join('\n'),
        )
      : null,
  );
}

function details(run: RunView, logs: RunLogs | string | undefined) {
  return [
    LIVE.has(run.status) ? h(RunProgress, { run, label: `Progress of run ${run.runId}` }) : null,
    section(
      'Parameters',
      h('pre', { class: 'code', 'data-testid': 'parameters' }, JSON.stringify(run.parameters, null, 2)),
    ),
    run.result !== null
      ? section('Result', h('pre', { class: 'code', 'data-testid': 'result' }, run.result))
      : null,
    run.error
      ? section(
          'Error',
          h('p', { class: 'error-text', 'data-testid': 'error' }, `${run.error.name}: ${run.error.message}`),
          run.error.stack ? h('pre', { class: 'code stack', 'data-testid': 'stack' }, run.error.stack) : null,
        )
      : null,
    run.ranOn
      ? section('Ran on', h('p', { class: 'ran-on', 'data-testid': 'ran-on' }, ranOnText(run.ranOn)))
      : null,
    section('Logs', logsView(logs)),
  ];
}

export function RunPage({ taskId, runId }: { taskId: string; runId: string }) {
  const { run, error, reload } = useRun(taskId, runId);
  const logs = useLogs(run);
  const attempts = useAttempts(run);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | undefined>();
  const act = (action: () => Promise<void>) => {
    setBusy(true);
    setActionError(undefined);
    action()
      .catch((err: unknown) => setActionError(messageOf(err)))
      .finally(() => setBusy(false));
  };
  const replay = () =>
    act(async () => {
      const accepted = await api.replay(taskId, runId);
      navigate({ page: 'run', taskId, runId: accepted.runId });
    });
  const cancel = () =>
    act(async () => {
      await api.cancel(taskId, runId);
      reload();
    });
  return h(
    'main',
    { 'data-testid': 'run-page' },
    h(
      'p',
      { class: 'crumbs' },
      h('a', { href: '#/runs' }, 'Runs'),
      ' / ',
      h('a', { href: hrefOf({ page: 'task', taskId }) }, taskId),
    ),
    h('h2', null, `Run ${runId}`),
    error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
    actionError ? h('p', { class: 'notice error', role: 'alert' }, actionError) : null,
    run
      ? h(
          Fragment,
          null,
          h(
            'div',
            { class: 'page-actions' },
            h(
              'button',
              { type: 'button', class: 'button primary', disabled: busy, onClick: replay },
              'Replay',
            ),
            LIVE.has(run.status)
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'button danger',
                    disabled: busy || run.cancelRequested,
                    onClick: cancel,
                  },
                  'Cancel',
                )
              : null,
          ),
          facts(run),
          attemptsView(run, attempts),
          ...details(run, logs),
        )
      : error
        ? null
        : h('p', { class: 'muted' }, 'Loading the run…'),
  );
}
