/**
 * The audit trail (`GET /audit`, newest first): who created, edited, deleted, ran, replayed,
 * backfilled, cancelled, paused or resumed what, and each field an edit changed. All of it, or
 * one task's (also a deleted task's, by its id); older entries page in on demand.
 */
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { type AuditEntryView, api, messageOf, type TaskView } from './api.js';
import { Dialog } from './dialog.js';
import { formatInstant } from './format.js';

export interface AuditLogProps {
  tasks: TaskView[] | undefined;
  /** The task to show at first; every task's entries when absent. */
  taskId?: string | undefined;
  onClose: () => void;
}

const actionLabels: Record<string, string> = {
  create: 'Created',
  update: 'Edited',
  delete: 'Deleted',
  run: 'Ran now',
  cancel: 'Cancelled a run',
  pause: 'Paused the scheduler',
  resume: 'Resumed the scheduler',
  replay: 'Replayed a run',
  backfill: 'Started a backfill',
};

const shown = (value: unknown) => (value === null || value === undefined ? '—' : JSON.stringify(value));

/** Who: the username with the id on hover, or the id (an IAM ARN, `local`, `cloudformation`). */
function who(entry: AuditEntryView) {
  return h(
    'span',
    { title: `${entry.actor.kind}: ${entry.actor.id}`, class: entry.actor.name ? '' : 'mono' },
    entry.actor.name ?? entry.actor.id,
  );
}

/** The changes: `field: before → after` for edits and run-nows, the fields set or removed otherwise. */
function changeList(entry: AuditEntryView) {
  if (entry.changes.length === 0) return h('span', { class: 'muted' }, '—');
  const text = (c: AuditEntryView['changes'][number]) => {
    if (entry.action === 'create') return `${c.field}: ${shown(c.after)}`;
    if (entry.action === 'delete') return `${c.field}: ${shown(c.before)}`;
    return `${c.field}: ${shown(c.before)} → ${shown(c.after)}`;
  };
  const items = entry.changes.map((c) => h('li', { class: 'mono' }, text(c)));
  if (entry.action === 'create' || entry.action === 'delete') {
    return h(
      'details',
      null,
      h('summary', null, `${entry.changes.length} fields`),
      h('ul', { class: 'changes' }, ...items),
    );
  }
  return h('ul', { class: 'changes' }, ...items);
}

function entryRow(entry: AuditEntryView, names: Map<string, string>) {
  const task = entry.taskId ? (names.get(entry.taskId) ?? entry.taskId) : '';
  return h(
    'tr',
    { key: entry.id, 'data-audit-id': entry.id },
    h('td', null, h('time', { dateTime: entry.at, title: `${entry.at}` }, formatInstant(entry.at, 'UTC'))),
    h('td', null, who(entry)),
    h(
      'td',
      null,
      actionLabels[entry.action] ?? entry.action,
      entry.via === 'api' ? '' : h('span', { class: 'muted' }, ` (${entry.via})`),
    ),
    h('td', null, task, entry.runId ? h('div', { class: 'muted mono' }, entry.runId) : null),
    h('td', null, changeList(entry)),
  );
}

/** The entries of the chosen task (or all), first page on open and on each change of task. */
function useAuditPages(taskId: string) {
  const [entries, setEntries] = useState<AuditEntryView[] | undefined>();
  const [nextToken, setNextToken] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let stale = false;
    setEntries(undefined);
    setError(undefined);
    api.audit(taskId || undefined).then(
      (page) => {
        if (stale) return;
        setEntries(page.items);
        setNextToken(page.nextToken);
      },
      (err: unknown) => {
        if (!stale) setError(messageOf(err));
      },
    );
    return () => {
      stale = true;
    };
  }, [taskId]);
  const loadMore = () => {
    if (!nextToken) return;
    api.audit(taskId || undefined, nextToken).then(
      (page) => {
        setEntries((previous) => [...(previous ?? []), ...page.items]);
        setNextToken(page.nextToken);
      },
      (err: unknown) => setError(messageOf(err)),
    );
  };
  return { entries, nextToken, error, loadMore };
}

export function AuditLog({ tasks, taskId: initial, onClose }: AuditLogProps) {
  const [taskId, setTaskId] = useState(initial ?? '');
  const { entries, nextToken, error, loadMore } = useAuditPages(taskId);
  const names = new Map((tasks ?? []).map((t) => [t.id, t.name]));
  const choices = [...(tasks ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  if (taskId && !names.has(taskId)) choices.push({ id: taskId, name: taskId } as TaskView);
  return h(
    Dialog,
    { title: 'Audit log', onClose, wide: true, testId: 'audit' },
    h(
      'label',
      { class: 'field inline' },
      'Task ',
      h(
        'select',
        {
          'aria-label': 'Task',
          value: taskId,
          onChange: (e: Event) => setTaskId((e.currentTarget as HTMLSelectElement).value),
        },
        h('option', { value: '' }, 'All tasks and the scheduler'),
        ...choices.map((t) => h('option', { value: t.id }, t.name === t.id ? t.id : `${t.name} (${t.id})`)),
      ),
    ),
    error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
    entries === undefined
      ? h('p', { class: 'muted' }, 'Loading the audit log…')
      : entries.length === 0
        ? h('p', { class: 'muted' }, 'Nothing recorded yet.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'runs audit', 'aria-label': 'Audit log' },
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ...['When (UTC)', 'Who', 'Action', 'Task', 'Changes'].map((l) =>
                    h('th', { scope: 'col' }, l),
                  ),
                ),
              ),
              h('tbody', null, ...entries.map((entry) => entryRow(entry, names))),
            ),
          ),
    nextToken
      ? h('button', { type: 'button', class: 'button', onClick: loadMore }, 'Load older entries')
      : null,
  );
}
