/**
 * The dashboard: scheduler banner, toolbar (search, status filter, hidden switch, new task), the
 * task list, and the dialogs. One timer refreshes everything: about every second while any run
 * is going or queued, every five seconds when idle; never a full page reload.
 */
import { h } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { DeleteDialog, RunNowDialog, TokenDialog } from './action-dialogs.js';
import { api, getToken, messageOf, type SchedulerView, type TaskTypeView, type TaskView } from './api.js';
import { AuditLog } from './audit.js';
import { loginActive } from './auth-session.js';
import { Account } from './auth-view.js';
import { History } from './history.js';
import { type Route, useRoute } from './router.js';
import { RunPage } from './run-page.js';
import { RunsPage } from './runs-page.js';
import { TaskPage } from './runs-task-page.js';
import { SchedulerBanner } from './scheduler-banner.js';
import { TaskForm } from './task-form.js';
import { TaskTable, type TaskTableProps } from './task-table.js';

/** Refresh interval while something runs, and when idle. */
export const ACTIVE_REFRESH_MS = 1000;
export const IDLE_REFRESH_MS = 5000;

type Modal =
  | { kind: 'create' }
  | { kind: 'edit'; task: TaskView }
  | { kind: 'run'; task: TaskView }
  | { kind: 'delete'; task: TaskView }
  | { kind: 'history'; taskId: string }
  | { kind: 'audit' }
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

type SetNotice = (notice: Notice | undefined) => void;
type Act = (
  task: TaskView | undefined,
  label: string,
  action: () => Promise<unknown>,
  done?: string,
) => Promise<void>;

/**
 * The task list and the scheduler, refreshed by one timer: about every second while any run is
 * going or queued, every five seconds when idle, and at once when the hidden switch flips.
 */
function useTasks(showHidden: boolean) {
  const [tasks, setTasks] = useState<TaskView[] | undefined>();
  const [scheduler, setScheduler] = useState<SchedulerView | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const [refreshKey, setRefreshKey] = useState(0);
  const [now, setNow] = useState(Date.now());

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
    return () => clearTimeout(timer.current);
  }, [schedule]);

  // The switch changes what refresh reads: refresh at once.
  useEffect(() => {
    if (tasks !== undefined) schedule();
  }, [showHidden]);

  /** A run just started or a task changed: look again soon. */
  const expectActivity = () => {
    activeRef.current = true;
  };

  return { tasks, scheduler, loadError, refreshKey, now, schedule, expectActivity };
}

/** The registered task types, read once; a failure is a notice. */
function useTaskTypes(setNotice: SetNotice): TaskTypeView[] {
  const [types, setTypes] = useState<TaskTypeView[]>([]);
  useEffect(() => {
    api.taskTypes().then(
      (result) => setTypes(result.items),
      (err: unknown) =>
        setNotice({ kind: 'error', text: `Cannot list task types: ${messageOf(err)}`, at: Date.now() }),
    );
  }, []);
  return types;
}

/** Runs an action on a task: busy while it goes, the API's message when refused, then a refresh. */
function useActions(setNotice: SetNotice, schedule: () => void): { busy: ReadonlySet<string>; act: Act } {
  const [busy, setBusy] = useState<ReadonlySet<string>>(new Set());
  const act: Act = async (task, label, action, done) => {
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
  return { busy, act };
}

/** The banner's pause and resume, busy while the request goes. */
function useSchedulerBanner(act: Act) {
  const [schedulerBusy, setSchedulerBusy] = useState(false);
  const toggle = (label: string, action: () => Promise<unknown>, done: string) => {
    setSchedulerBusy(true);
    void act(undefined, label, action, done).finally(() => setSchedulerBusy(false));
  };
  return {
    busy: schedulerBusy,
    onPause: () => toggle('Pause the scheduler', api.pause, 'Scheduler paused'),
    onResume: () => toggle('Resume the scheduler', api.resume, 'Scheduler resumed'),
  };
}

/** The tasks the search and the status filter let through, by name. */
function useVisibleTasks(tasks: TaskView[] | undefined, filter: StatusFilter, search: string) {
  return useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (tasks ?? [])
      .filter((t) => matches(t, filter, needle))
      .sort((a, b) => a.name.localeCompare(b.name));
  }, [tasks, filter, search]);
}

function Header({
  hasToken,
  onToken,
  onAudit,
  route,
}: {
  hasToken: boolean;
  onToken: () => void;
  onAudit: () => void;
  route: Route;
}) {
  const current = (pages: Route['page'][]) => (pages.includes(route.page) ? { 'aria-current': 'page' } : {});
  return h(
    'header',
    { class: 'top' },
    h('h1', null, 'Tickwork'),
    h(
      'nav',
      { class: 'pages', 'aria-label': 'Pages' },
      h('a', { href: '#/', ...current(['tasks', 'task']) }, 'Tasks'),
      h('a', { href: '#/runs', ...current(['runs', 'run']) }, 'Runs'),
    ),
    h(
      'div',
      { class: 'top-actions' },
      h('button', { type: 'button', class: 'button small', onClick: onAudit }, 'Audit log'),
      // Signed in through OIDC: who, and "Sign out"; otherwise a token may be pasted (--host).
      loginActive()
        ? h(Account, null)
        : h(
            'button',
            { type: 'button', class: 'button small', onClick: onToken, 'aria-label': 'API token' },
            hasToken ? 'API token ✓' : 'API token',
          ),
    ),
  );
}

function Notices({
  loadError,
  notice,
  onDismiss,
}: {
  loadError: string | undefined;
  notice: Notice | undefined;
  onDismiss: () => void;
}) {
  return h(
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
          h('button', { type: 'button', class: 'icon', 'aria-label': 'Dismiss', onClick: onDismiss }, '×'),
        )
      : null,
  );
}

interface ToolbarProps {
  search: string;
  onSearch: (search: string) => void;
  filter: StatusFilter;
  onFilter: (filter: StatusFilter) => void;
  showHidden: boolean;
  onShowHidden: (showHidden: boolean) => void;
  /** "n of m tasks · k running", empty while the list loads. */
  count: string;
  onCreate: () => void;
}

function Toolbar(props: ToolbarProps) {
  return h(
    'div',
    { class: 'toolbar', role: 'search' },
    h('input', {
      type: 'search',
      placeholder: 'Search name, id, type, schedule',
      'aria-label': 'Search tasks',
      value: props.search,
      onInput: (e: Event) => props.onSearch((e.currentTarget as HTMLInputElement).value),
    }),
    h(
      'select',
      {
        'aria-label': 'Filter by status',
        value: props.filter,
        onChange: (e: Event) => props.onFilter((e.currentTarget as HTMLSelectElement).value as StatusFilter),
      },
      ...Object.entries(STATUS_FILTERS).map(([value, label]) => h('option', { value }, label)),
    ),
    h(
      'label',
      { class: 'check' },
      h('input', {
        type: 'checkbox',
        role: 'switch',
        checked: props.showHidden,
        onChange: (e: Event) => props.onShowHidden((e.currentTarget as HTMLInputElement).checked),
      }),
      ' Show hidden tasks',
    ),
    h('span', { class: 'muted count', 'aria-live': 'polite' }, props.count),
    h('button', { type: 'button', class: 'button primary', onClick: props.onCreate }, 'New task'),
  );
}

/** The list: loading, empty, nothing matching, or the table of the visible tasks. */
function TaskList({
  tasks,
  visible,
  loadError,
  ...table
}: Omit<TaskTableProps, 'tasks'> & {
  tasks: TaskView[] | undefined;
  visible: TaskView[];
  loadError: string | undefined;
}) {
  if (tasks === undefined) return h('p', { class: 'muted' }, loadError ? '' : 'Loading tasks…');
  if (visible.length === 0) {
    return h(
      'p',
      { class: 'empty' },
      tasks.length === 0
        ? 'No tasks yet: create one with "New task".'
        : 'No task matches the search or filter.',
    );
  }
  return h('div', { class: 'table-wrap' }, h(TaskTable, { tasks: visible, ...table }));
}

/** The row actions: some act at once, others open a dialog. */
function rowActions(act: Act, setModal: (modal: Modal) => void) {
  return {
    onToggle: (task: TaskView) =>
      act(
        task,
        `${task.enabled ? 'Disable' : 'Enable'} ${task.name}`,
        () => api.updateTask(task.id, { enabled: !task.enabled }, task.version),
        `${task.name} ${task.enabled ? 'disabled' : 'enabled'}`,
      ),
    onRun: (task: TaskView) => setModal({ kind: 'run', task }),
    onCancel: (task: TaskView) =>
      act(task, `Cancel ${task.name}`, () => api.cancel(task.id), `Cancel requested for ${task.name}`),
    onEdit: (task: TaskView) => setModal({ kind: 'edit', task }),
    onDelete: (task: TaskView) => setModal({ kind: 'delete', task }),
    onHistory: (task: TaskView) => setModal({ kind: 'history', taskId: task.id }),
  };
}

interface ModalsProps {
  modal: Modal | undefined;
  tasks: TaskView[] | undefined;
  types: TaskTypeView[];
  refreshKey: number;
  act: Act;
  onClose: () => void;
  /** A dialog did its work: close it and say what happened. */
  onFinished: (text: string) => void;
  onTokenClosed: () => void;
}

/** The open dialog, if any: one slot per kind. */
function modals({ modal, tasks, types, refreshKey, act, onClose, onFinished, onTokenClosed }: ModalsProps) {
  const historyTask = modal?.kind === 'history' ? tasks?.find((t) => t.id === modal.taskId) : undefined;
  return [
    modal?.kind === 'create' || modal?.kind === 'edit'
      ? h(TaskForm, {
          key: modal.kind === 'edit' ? modal.task.id : 'new',
          task: modal.kind === 'edit' ? modal.task : undefined,
          types,
          onClose,
          onSaved: (task) => onFinished(`${modal.kind === 'edit' ? 'Saved' : 'Created'} ${task.name}`),
        })
      : null,
    modal?.kind === 'run'
      ? h(RunNowDialog, {
          task: modal.task,
          type: types.find((t) => t.name === modal.task.type),
          onClose,
          onDone: onFinished,
        })
      : null,
    modal?.kind === 'delete' ? h(DeleteDialog, { task: modal.task, onClose, onDone: onFinished }) : null,
    modal?.kind === 'history'
      ? h(History, {
          taskId: modal.taskId,
          task: historyTask,
          refreshKey,
          onClose,
          onCancel: (task, runId) =>
            act(
              task,
              `Cancel ${task.name}`,
              () => api.cancel(task.id, runId),
              `Cancel requested for ${task.name}`,
            ),
        })
      : null,
    modal?.kind === 'token' ? h(TokenDialog, { onClose: onTokenClosed }) : null,
    modal?.kind === 'audit' ? h(AuditLog, { tasks, onClose }) : null,
  ];
}

export function App() {
  const [notice, setNotice] = useState<Notice | undefined>();
  const [search, setSearch] = useState('');
  const [filter, setFilter] = useState<StatusFilter>('all');
  const [showHidden, setShowHidden] = useState(false);
  const [modal, setModal] = useState<Modal | undefined>();
  const [hasToken, setHasToken] = useState(() => getToken() !== '');
  const { tasks, scheduler, loadError, refreshKey, now, schedule, expectActivity } = useTasks(showHidden);
  const types = useTaskTypes(setNotice);
  const { busy, act } = useActions(setNotice, schedule);
  const banner = useSchedulerBanner(act);
  const route = useRoute();

  const closeModal = () => setModal(undefined);
  const finished = (text: string) => {
    setModal(undefined);
    setNotice({ kind: 'info', text, at: Date.now() });
    expectActivity(); // a run just started or a task changed: look again soon
    schedule();
  };
  const tokenClosed = () => {
    setHasToken(getToken() !== '');
    closeModal();
    schedule();
  };

  const visible = useVisibleTasks(tasks, filter, search);
  const running = (tasks ?? []).filter((t) => t.currentRun !== null).length;
  const count = tasks ? `${visible.length} of ${tasks.length} tasks · ${running} running` : '';

  return h(
    'div',
    { class: 'app' },
    h(Header, {
      hasToken,
      onToken: () => setModal({ kind: 'token' }),
      onAudit: () => setModal({ kind: 'audit' }),
      route,
    }),
    h(SchedulerBanner, { scheduler, now, ...banner }),
    h(Notices, { loadError, notice, onDismiss: () => setNotice(undefined) }),
    route.page === 'runs' ? h(RunsPage, { search: route.query.toString() }) : null,
    route.page === 'task' ? h(TaskPage, { key: route.taskId, taskId: route.taskId }) : null,
    route.page === 'run' ? h(RunPage, { key: route.runId, taskId: route.taskId, runId: route.runId }) : null,
    h(
      'main',
      { hidden: route.page !== 'tasks' },
      h(Toolbar, {
        search,
        onSearch: setSearch,
        filter,
        onFilter: setFilter,
        showHidden,
        onShowHidden: setShowHidden,
        count,
        onCreate: () => setModal({ kind: 'create' }),
      }),
      h(TaskList, { tasks, visible, loadError, now, busy, ...rowActions(act, setModal) }),
    ),
    ...modals({
      modal,
      tasks,
      types,
      refreshKey,
      act,
      onClose: closeModal,
      onFinished: finished,
      onTokenClosed: tokenClosed,
    }),
  );
}
