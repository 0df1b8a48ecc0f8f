/**
 * The dashboard: scheduler banner, toolbar (search, status filter, hidden switch, new task), the
 * task list, and the dialogs. One timer refreshes everything: about every second while any run
 * is going or queued, every five seconds when idle; never a full page reload.
 */
import { h } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { DeleteDialog, RunNowDialog, TokenDialog } from './action-dialogs.js';
import { api, getToken, messageOf, type SchedulerView, type TaskTypeView, type TaskView } from './api.js';
import { History } from './history.js';
import { SchedulerBanner } from './scheduler-banner.js';
import { TaskForm } from './task-form.js';
import { TaskTable } from './task-table.js';

/** Refresh interval while something runs, and when idle. */
export const ACTIVE_REFRESH_MS = 1000;
export const IDLE_REFRESH_MS = 5000;

type Modal =
  | { kind: 'create' }
  | { kind: 'edit'; task: TaskView }
  | { kind: 'run'; task: TaskView }
  | { kind: 'delete'; task: TaskView }
  | { kind: 'history'; taskId: string }
  | { kind: 'token' };

type Notice = { kind: 'error' | 'info'; text: string; at: number };

const STATUS_FILTERS = {
  all: 'All tasks',
  running: 'Running or queued',
  enabled: 'Enabled',
  disabled: 'Disabled',
  failing: 'Last run failed',
  succeeded: 'Last run succeeded',
  never: 'Never run',
} as const;
type StatusFilter = keyof typeof STATUS_FILTERS;

function matches(task: TaskView, filter: StatusFilter, search: string): boolean {
  if (search) {
    const haystack =
      `${task.name} ${task.id} ${task.type} ${task.schedule} ${task.scheduleDescription ?? ''}`.toLowerCase();
    if (!haystack.includes(search)) return false;
  }
  switch (filter) {
    case 'all':
      return true;
    case 'running':
      return task.currentRun !== null || task.queuedRuns > 0;
    case 'enabled':
      return task.enabled;
    case 'disabled':
      return !task.enabled;
    case 'failing':
      return task.lastStatus === 'failed' || task.lastStatus === 'timed-out';
    case 'succeeded':
      return task.lastStatus === 'succeeded';
    case 'never':
      return task.runCount === 0;
  }
}

export function App() {
  const [tasks, setTasks] = useState<TaskView[] | undefined>();
  const [scheduler, setScheduler] = useState<SchedulerView | undefined>();
  const [types, setTypes] = useState<TaskTypeView[]>([]);
  const [loadError, setLoadError] = useState<string | undefined>();
  const [notice, setNotice] = useState<Notice | undefined>();
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState<StatusFilter>('all');
  const [showHidden, setShowHidden] = useState(false);
  const [modal, setModal] = useState<Modal | undefined>();
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const [schedulerBusy, setSchedulerBusy] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [hasToken, setHasToken] = useState(() => getToken() !== '');

  const showHiddenRef = useRef(showHidden);
  showHiddenRef.current = showHidden;
  const activeRef = useRef(false);
  const seq = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const refresh = useCallback(async () => {
    const mine = ++seq.current;
    const [taskResult, schedulerResult] = await Promise.allSettled([
      api.listTasks(showHiddenRef.current),
      api.scheduler(),
    ]);
    if (mine !== seq.current) return; // a newer refresh started meanwhile; its answer wins
    if (taskResult.status === 'fulfilled') {
      setTasks(taskResult.value);
      activeRef.current = taskResult.value.some((t) => t.currentRun !== null || t.queuedRuns > 0);
    }
    if (schedulerResult.status === 'fulfilled') setScheduler(schedulerResult.value);
    const failed = [taskResult, schedulerResult].find((r) => r.status === 'rejected');
    setLoadError(failed ? messageOf(failed.reason) : undefined);
    setNow(Date.now());
    setRefreshKey((k) => k + 1);
  }, []);

  /** Refreshes now, then keeps the cadence (fast while anything runs). */
  const schedule = useCallback(() => {
    clearTimeout(timer.current);
    const loop = () => {
      void refresh().finally(() => {
        clearTimeout(timer.current);
        timer.current = setTimeout(loop, activeRef.current ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS);
      });
    };
    loop();
  }, [refresh]);

  useEffect(() => {
    schedule();
    api.taskTypes().then(
      (result) => setTypes(result.items),
      (err: unknown) =>
        setNotice({ kind: 'error', text: `Cannot list task types: ${messageOf(err)}`, at: Date.now() }),
    );
    return () => clearTimeout(timer.current);
  }, [schedule]);

  // The switch changes what refresh reads: refresh at once.
  useEffect(() => {
    if (tasks !== undefined) schedule();
  }, [showHidden]);

  /** Runs an action on a task: busy while it goes, the API's message when refused, then a refresh. */
  const act = async (
    task: TaskView | undefined,
    label: string,
    action: () => Promise<unknown>,
    done?: string,
  ) => {
    if (task) setBusy((b) => new Set(b).add(task.id));
    try {
      await action();
      if (done) setNotice({ kind: 'info', text: done, at: Date.now() });
    } catch (err) {
      setNotice({ kind: 'error', text: `${label}: ${messageOf(err)}`, at: Date.now() });
    } finally {
      if (task)
        setBusy((b) => {
          const next = new Set(b);
          next.delete(task.id);
          return next;
        });
      schedule();
    }
  };

  const closeModal = () => setModal(undefined);
  const finished = (text: string) => {
    setModal(undefined);
    setNotice({ kind: 'info', text, at: Date.now() });
    activeRef.current = true; // a run just started or a task changed: look again soon
    schedule();
  };

  const visible = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (tasks ?? [])
      .filter((t) => matches(t, filter, needle))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [tasks, filter, search]);
  const running = (tasks ?? []).filter((t) => t.currentRun !== null).length;

  const historyTask = modal?.kind === 'history' ? tasks?.find((t) => t.id === modal.taskId) : undefined;

  return h(
    'div',
    { class: 'app' },
    h(
      'header',
      { class: 'top' },
      h('h1', null, 'Tickwork'),
      h('span', { class: 'muted' }, 'Scheduled tasks'),
      h(
        'div',
        { class: 'top-actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'button small',
            onClick: () => setModal({ kind: 'token' }),
            'aria-label': 'API token',
          },
          hasToken ? 'API token ✓' : 'API token',
        ),
      ),
    ),
    h(SchedulerBanner, {
      scheduler,
      busy: schedulerBusy,
      now,
      onPause: () => {
        setSchedulerBusy(true);
        void act(undefined, 'Pause the scheduler', api.pause, 'Scheduler paused').finally(() =>
          setSchedulerBusy(false),
        );
      },
      onResume: () => {
        setSchedulerBusy(true);
        void act(undefined, 'Resume the scheduler', api.resume, 'Scheduler resumed').finally(() =>
          setSchedulerBusy(false),
        );
      },
    }),
    h(
      'div',
      { class: 'notices', 'aria-live': 'polite' },
      loadError ? h('p', { class: 'notice error', role: 'alert' }, `Cannot refresh: ${loadError}`) : null,
      notice
        ? h(
            'p',
            {
              class: `notice ${notice.kind}`,
              role: notice.kind === 'error' ? 'alert' : 'status',
              'data-testid': 'notice',
              key: notice.at,
            },
            h('span', null, notice.text),
            h(
              'button',
              { type: 'button', class: 'icon', 'aria-label': 'Dismiss', onClick: () => setNotice(undefined) },
              '×',
            ),
          )
        : null,
    ),
    h(
      'main',
      null,
      h(
        'div',
        { class: 'toolbar', role: 'search' },
        h('input', {
          type: 'search',
          placeholder: 'Search name, id, type, schedule',
          'aria-label': 'Search tasks',
          value: search,
          onInput: (e: Event) => setSearch((e.currentTarget as HTMLInputElement).value),
        }),
        h(
          'select',
          {
            'aria-label': 'Filter by status',
            value: filter,
            onChange: (e: Event) => setFilter((e.currentTarget as HTMLSelectElement).value as StatusFilter),
          },
          ...Object.entries(STATUS_FILTERS).map(([value, label]) => h('option', { value }, label)),
        ),
        h(
          'label',
          { class: 'check' },
          h('input', {
            type: 'checkbox',
            role: 'switch',
            checked: showHidden,
            onChange: (e: Event) => setShowHidden((e.currentTarget as HTMLInputElement).checked),
          }),
          ' Show hidden tasks',
        ),
        h(
          'span',
          { class: 'muted count', 'aria-live': 'polite' },
          tasks ? `${visible.length} of ${tasks.length} tasks · ${running} running` : '',
        ),
        h(
          'button',
          { type: 'button', class: 'button primary', onClick: () => setModal({ kind: 'create' }) },
          'New task',
        ),
      ),
      tasks === undefined
        ? h('p', { class: 'muted' }, loadError ? '' : 'Loading tasks…')
        : visible.length === 0
          ? h(
              'p',
              { class: 'empty' },
              tasks.length === 0
                ? 'No tasks yet: create one with "New task".'
                : 'No task matches the search or filter.',
            )
          : h(
              'div',
              { class: 'table-wrap' },
              h(TaskTable, {
                tasks: visible,
                now,
                busy,
                onToggle: (task) =>
                  act(
                    task,
                    `${task.enabled ? 'Disable' : 'Enable'} ${task.name}`,
                    () => api.updateTask(task.id, { enabled: !task.enabled }, task.version),
                    `${task.name} ${task.enabled ? 'disabled' : 'enabled'}`,
                  ),
                onRun: (task) => setModal({ kind: 'run', task }),
                onCancel: (task) =>
                  act(
                    task,
                    `Cancel ${task.name}`,
                    () => api.cancel(task.id),
                    `Cancel requested for ${task.name}`,
                  ),
                onEdit: (task) => setModal({ kind: 'edit', task }),
                onDelete: (task) => setModal({ kind: 'delete', task }),
                onHistory: (task) => setModal({ kind: 'history', taskId: task.id }),
              }),
            ),
    ),
    modal?.kind === 'create' || modal?.kind === 'edit'
      ? h(TaskForm, {
          key: modal.kind === 'edit' ? modal.task.id : 'new',
          task: modal.kind === 'edit' ? modal.task : undefined,
          types,
          onClose: closeModal,
          onSaved: (task) => finished(`${modal.kind === 'edit' ? 'Saved' : 'Created'} ${task.name}`),
        })
      : null,
    modal?.kind === 'run'
      ? h(RunNowDialog, {
          task: modal.task,
          type: types.find((t) => t.name === modal.task.type),
          onClose: closeModal,
          onDone: finished,
        })
      : null,
    modal?.kind === 'delete'
      ? h(DeleteDialog, { task: modal.task, onClose: closeModal, onDone: finished })
      : null,
    modal?.kind === 'history'
      ? h(History, {
          taskId: modal.taskId,
          task: historyTask,
          refreshKey,
          onClose: closeModal,
          onCancel: (task, runId) =>
            act(
              task,
              `Cancel ${task.name}`,
              () => api.cancel(task.id, runId),
              `Cancel requested for ${task.name}`,
            ),
        })
      : null,
    modal?.kind === 'token'
      ? h(TokenDialog, {
          onClose: () => {
            setHasToken(getToken() !== '');
            closeModal();
            schedule();
          },
        })
      : null,
  );
}
