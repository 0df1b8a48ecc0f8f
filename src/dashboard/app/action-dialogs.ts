/** Run-now (parameters as the type's schema describes them), delete confirmation and the API token dialogs. */
import { h } from 'preact';
import { useEffect, useId, useState } from 'preact/hooks';
import { ApiFailure, api, getToken, messageOf, setToken, type TaskTypeView, type TaskView } from './api.js';
import { Dialog, FormActions } from './dialog.js';
import {
  initialParameters,
  ParameterEditor,
  type ParameterState,
  parameterErrorsOf,
  parametersOf,
} from './parameter-fields.js';

/** The run's parameters: a type with a schema starts from the task's own (what the run would use). */
function startingParameters(task: TaskView, type: TaskTypeView | undefined): ParameterState {
  if (!type?.parametersSchema) return { mode: 'json', text: '{}' };
  return initialParameters(type.parametersSchema, task.parameters);
}

/** What the editor says of the task's own parameters. */
function runHint(task: TaskView, params: ParameterState): string {
  const defaults = Object.keys(task.parameters).length > 0 ? JSON.stringify(task.parameters) : undefined;
  if (params.mode === 'fields') {
    return "Merged over the task's parameters; an empty field keeps the task's value, else the default.";
  }
  return defaults ? `Merged over the task's defaults: ${defaults}` : 'The task has no default parameters.';
}

export function RunNowDialog({
  task,
  type,
  onClose,
  onDone,
}: {
  task: TaskView;
  /** The task's type as registered (its schema drives the editor); undefined while types load. */
  type: TaskTypeView | undefined;
  onClose: () => void;
  onDone: (message: string) => void;
}) {
  const [params, setParams] = useState<ParameterState>(() => startingParameters(task, type));
  const [touched, setTouched] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [sending, setSending] = useState(false);
  const uid = useId();
  const schemaKey = JSON.stringify(type?.parametersSchema ?? null);
  // A type list that arrives after the dialog opened sets up the editor, unless the user typed.
  useEffect(() => {
    if (!touched) setParams(startingParameters(task, type));
  }, [schemaKey]);
  const change = (next: ParameterState) => {
    setTouched(true);
    setParams(next);
    setFieldErrors({});
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    const check = parametersOf(params);
    if ('error' in check) {
      (document.getElementById(`${uid}-json`) as HTMLTextAreaElement | null)?.focus();
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
      setFieldErrors(err instanceof ApiFailure ? parameterErrorsOf(err.details) : {});
    } finally {
      setSending(false);
    }
  };
  const hint = runHint(task, params);
  return h(
    Dialog,
    { title: `Run ${task.name} now`, onClose, testId: 'run-dialog' },
    h(
      'form',
      { class: 'form', onSubmit: submit, noValidate: true },
      h(ParameterEditor, {
        state: params,
        onChange: change,
        errors: fieldErrors,
        label: 'Parameters for this run',
        hint,
        idPrefix: uid,
      }),
      error ? h('p', { class: 'form-error', role: 'alert' }, error) : null,
      FormActions({ busy: sending, label: 'Run', busyLabel: 'Starting…', onClose }),
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
        '. Locally no token is needed, unless tickwork dev listens beyond loopback (--host): then paste the token it printed.',
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
