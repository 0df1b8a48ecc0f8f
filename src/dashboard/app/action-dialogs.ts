/** Run-now (with a JSON parameters editor), delete confirmation and the API token dialogs. */
import { h } from 'preact';
import { useId, useRef, useState } from 'preact/hooks';
import { api, getToken, messageOf, setToken, type TaskView } from './api.js';
import { Dialog } from './dialog.js';
import { parseParameters } from './format.js';

export function RunNowDialog({
  task,
  onClose,
  onDone,
}: {
  task: TaskView;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [text, setText] = useState('{}');
  const [error, setError] = useState<string | undefined>();
  const [sending, setSending] = useState(false);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const uid = useId();
  const check = parseParameters(text);
  const invalid = 'error' in check ? check.error : undefined;
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    if ('error' in check) {
      textarea.current?.focus();
      return; // never sent: the message is already shown beside the editor
    }
    setSending(true);
    try {
      const accepted = await api.runNow(
        task.id,
        Object.keys(check.value).length > 0 ? check.value : undefined,
      );
      onDone(`${task.name}: run ${accepted.runId} ${accepted.status}`);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setSending(false);
    }
  };
  const defaults = Object.keys(task.parameters).length > 0 ? JSON.stringify(task.parameters) : undefined;
  return h(
    Dialog,
    { title: `Run ${task.name} now`, onClose, testId: 'run-dialog' },
    h(
      'form',
      { class: 'form', onSubmit: submit, noValidate: true },
      h(
        'div',
        { class: 'field' },
        h('label', { for: `${uid}-params` }, 'Parameters for this run (JSON object)'),
        h('textarea', {
          id: `${uid}-params`,
          ref: textarea,
          class: 'mono',
          rows: 6,
          value: text,
          spellcheck: false,
          onInput: (e: Event) => setText((e.currentTarget as HTMLTextAreaElement).value),
          'aria-invalid': invalid ? 'true' : undefined,
          'aria-describedby': `${uid}-help${invalid ? ` ${uid}-error` : ''}`,
        }),
        h(
          'small',
          { class: 'muted', id: `${uid}-help` },
          defaults ? `Merged over the task's defaults: ${defaults}` : 'The task has no default parameters.',
        ),
        invalid
          ? h('p', { class: 'field-error', id: `${uid}-error`, 'data-testid': 'parameters-error' }, invalid)
          : null,
      ),
      error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'button', class: 'button', onClick: onClose }, 'Cancel'),
        h(
          'button',
          { type: 'submit', class: 'button primary', disabled: sending },
          sending ? 'Starting…' : 'Run',
        ),
      ),
    ),
  );
}

export function DeleteDialog({
  task,
  onClose,
  onDone,
}: {
  task: TaskView;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [force, setForce] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [sending, setSending] = useState(false);
  const active = task.currentRun !== null || task.queuedRuns > 0;
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setSending(true);
    try {
      await api.deleteTask(task.id, force);
      onDone(`Deleted ${task.name}`);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setSending(false);
    }
  };
  return h(
    Dialog,
    { title: `Delete ${task.name}?`, onClose, testId: 'delete-dialog' },
    h(
      'form',
      { class: 'form', onSubmit: submit },
      h('p', null, 'The task and its run history are deleted. This cannot be undone.'),
      active
        ? h(
            'p',
            { class: 'warn-text' },
            'This task has an active or queued run: without force, the API refuses.',
          )
        : null,
      h(
        'label',
        { class: 'check' },
        h('input', {
          type: 'checkbox',
          checked: force,
          onChange: (e: Event) => setForce((e.currentTarget as HTMLInputElement).checked),
        }),
        ' Force: cancel active runs first, then delete',
      ),
      error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'button', class: 'button', onClick: onClose }, 'Keep it'),
        h(
          'button',
          { type: 'submit', class: 'button danger', disabled: sending },
          force ? 'Force delete' : 'Delete',
        ),
      ),
    ),
  );
}

export function TokenDialog({ onClose }: { onClose: () => void }) {
  const [value, setValue] = useState(getToken);
  const uid = useId();
  const save = (event: Event) => {
    event.preventDefault();
    setToken(value);
    onClose();
  };
  return h(
    Dialog,
    { title: 'API token', onClose },
    h(
      'form',
      { class: 'form', onSubmit: save },
      h(
        'p',
        null,
        'With the JWT authorizer on AWS, paste an access token from your identity provider. It is kept in this tab only (sessionStorage) and sent as ',
        h('code', null, 'Authorization: Bearer …'),
        '. Locally no token is needed.',
      ),
      h(
        'div',
        { class: 'field' },
        h('label', { for: `${uid}-token` }, 'Bearer token'),
        h('input', {
          id: `${uid}-token`,
          type: 'password',
          class: 'mono',
          autoComplete: 'off',
          value,
          onInput: (e: Event) => setValue((e.currentTarget as HTMLInputElement).value),
        }),
      ),
      h(
        'div',
        { class: 'form-actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'button',
            onClick: () => {
              setToken('');
              onClose();
            },
          },
          'Forget token',
        ),
        h('button', { type: 'submit', class: 'button primary' }, 'Save'),
      ),
    ),
  );
}
