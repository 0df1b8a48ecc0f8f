/**
 * Runs across tasks (`GET /runs`): newest first, filtered by state, trigger, type, task and age.
 * The filters live in the page's address (`#/runs?status=failed&since=24h`), so a filtered view
 * can be bookmarked and shared; changing one replaces the address rather than adding to history.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, messageOf, type RunSummaryView } from './api.js';
import { formatDuration, formatInstant } from './format.js';
import { hrefOf, navigate } from './router.js';
import { cell, StatusBadge } from './task-table.js';

const STATUS_CHOICES: Record<string, string> = {
  '': 'Any state',
  'failed,timed-out': 'Failed or timed out',
  running: 'Running',
  succeeded: 'Succeeded',
  cancelled: 'Cancelled',
  'skipped,missed': 'Skipped or missed',
};
const TRIGGERS = ['', 'schedule', 'manual', 'retry', 'catch-up', 'replay', 'backfill'];
const SINCE: Record<string, number> = { '': 0, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

/** The API query of the page's filters (`since` becomes `from`). */
export function apiQueryOf(filters: URLSearchParams, now = Date.now()): URLSearchParams {
  const query = new URLSearchParams({ limit: '50' });
  for (const name of ['status', 'trigger', 'type', 'taskId']) {
    const value = filters.get(name);
    if (value) query.set(name, value);
  }
  const since = SINCE[filters.get('since') ?? ''];
  if (since) query.set('from', new Date(now - since).toISOString());
  return query;
}

/** The first page for the filters, again every five seconds; older pages on demand. */
function useRunsAcross(search: string) {
  const [runs, setRuns] = useState<RunSummaryView[] | undefined>();
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  const [tick, setTick] = useState(0);
  const [more, setMore] = useState(false);
  useEffect(() => {
    setRuns(undefined);
    setMore(false);
  }, [search]);
  useEffect(() => {
    if (more) return;
    let stale = false;
    api.listAllRuns(apiQueryOf(new URLSearchParams(search))).then(
      (page) => {
        if (stale) return;
        setRuns(page.items);
        setNextToken(page.nextToken);
        setError(undefined);
      },
      (err: unknown) => !stale && setError(messageOf(err)),
    );
    const timer = setTimeout(() => setTick((t) => t + 1), 5000);
    return () => {
      stale = true;
      clearTimeout(timer);
    };
  }, [search, tick, more]);
  const loadMore = () => {
    if (!nextToken) return;
    const query = apiQueryOf(new URLSearchParams(search));
    query.set('nextToken', nextToken);
    setMore(true);
    api.listAllRuns(query).then(
      (page) => {
        setRuns((previous) => [...(previous ?? []), ...page.items]);
        setNextToken(page.nextToken);
      },
      (err: unknown) => setError(messageOf(err)),
    );
  };
  return { runs, nextToken, error, loadMore };
}

function select(label: string, name: string, filters: URLSearchParams, choices: [string, string][]) {
  return h(
    'select',
    {
      'aria-label': label,
      name,
      value: filters.get(name) ?? '',
      onChange: (e: Event) => setFilter(filters, name, (e.currentTarget as HTMLSelectElement).value),
    },
    ...choices.map(([value, text]) => h('option', { value }, text)),
  );
}

function setFilter(filters: URLSearchParams, name: string, value: string) {
  const next = new URLSearchParams(filters);
  if (value.trim()) next.set(name, value.trim());
  else next.delete(name);
  navigate({ page: 'runs', query: next }, { replace: true });
}

function textFilter(label: string, name: string, filters: URLSearchParams) {
  return h('input', {
    type: 'search',
    'aria-label': label,
    placeholder: label,
    name,
    value: filters.get(name) ?? '',
    onChange: (e: Event) => setFilter(filters, name, (e.currentTarget as HTMLInputElement).value),
  });
}

function Filters({ filters }: { filters: URLSearchParams }) {
  return h(
    'div',
    { class: 'toolbar', role: 'search' },
    select('State', 'status', filters, Object.entries(STATUS_CHOICES)),
    select(
      'Trigger',
      'trigger',
      filters,
      TRIGGERS.map((t) => [t, t || 'Any trigger']),
    ),
    select('Created', 'since', filters, [
      ['', 'Any time'],
      ['1h', 'Last hour'],
      ['24h', 'Last 24 hours'],
      ['7d', 'Last 7 days'],
    ]),
    textFilter('Task id', 'taskId', filters),
    textFilter('Task type', 'type', filters),
  );
}

const time = (iso: string | null) =>
  iso
    ? h(
        'time',
        { dateTime: iso, title: `${formatInstant(iso)} UTC` },
        formatInstant(iso, undefined, { weekday: false }),
      )
    : h('span', { class: 'muted' }, '—');

function row(run: RunSummaryView) {
  return h(
    'tr',
    { key: run.runId, 'data-run-id': run.runId, 'data-status': run.status },
    cell(
      'Status',
      null,
      h(
        'a',
        { href: hrefOf({ page: 'run', taskId: run.taskId, runId: run.runId }) },
        h(StatusBadge, { status: run.status }),
      ),
    ),
    cell('Task', null, h('a', { href: hrefOf({ page: 'task', taskId: run.taskId }) }, run.taskId)),
    cell(
      'Trigger',
      null,
      run.trigger,
      run.replayOf ? h('small', { class: 'muted block' }, `of ${run.replayOf}`) : null,
    ),
    cell('Scheduled', null, time(run.scheduledFor)),
    cell('Started', null, time(run.startedAt)),
    cell('Duration', { class: 'num' }, formatDuration(run.durationMs)),
    cell('Type', { class: 'mono' }, run.type),
  );
}

/** Where the successes this page leaves out are: shown unless a state filter excludes successes. */
function listingNote(filters: URLSearchParams) {
  const status = filters.get('status');
  if (status && !status.split(',').includes('succeeded')) return null;
  return h(
    'p',
    { class: 'muted', 'data-testid': 'listing-note' },
    'Scheduled successes of tasks due every minute or more often are in each task’s history, not here, unless the task’s “Successful runs on the Runs page” option says All.',
  );
}

export function RunsPage({ search }: { search: string }) {
  const filters = new URLSearchParams(search);
  const { runs, nextToken, error, loadMore } = useRunsAcross(search);
  return h(
    'main',
    { 'data-testid': 'runs-page' },
    h('h2', null, 'Runs'),
    h(Filters, { filters }),
    listingNote(filters),
    error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
    runs === undefined
      ? h('p', { class: 'muted' }, 'Loading runs…')
      : runs.length === 0
        ? h('p', { class: 'empty' }, nextToken ? 'None on this page.' : 'No run matches these filters.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'runs', 'aria-label': 'Runs across tasks' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ...['Status', 'Task', 'Trigger', 'Scheduled', 'Started', 'Duration', 'Type'].map((label) =>
                    h('th', { scope: 'col' }, label),
                  ),
                ),
              ),
              h('tbody', null, ...runs.map(row)),
            ),
          ),
    nextToken ? h('button', { type: 'button', class: 'button', onClick: loadMore }, 'Load older runs') : null,
  );
}
