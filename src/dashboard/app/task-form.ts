/**
 * Create and edit form. The schedule preview asks the API (`GET /schedule-preview`) as the user
 * types, debounced, and shows the next five slots in the task's zone and in UTC, or the reason
 * the expression is refused, inline. Parameters follow the selected type's schema
 * (`parameter-fields.ts`); the API's refusal of one is shown beside it.
 */
import { h } from 'preact';
import { useEffect, useId, useMemo, useRef, useState } from 'preact/hooks';
import {
  ApiFailure,
  api,
  messageOf,
  type SchedulePreview,
  type TaskInput,
  type TaskTypeView,
  type TaskView,
} from './api.js';
import { Dialog } from './dialog.js';
import { formatInstant, timeZones } from './format.js';
import {
  initialParameters,
  ParameterEditor,
  type ParameterState,
  parameterErrorsOf,
  parametersOf,
} from './parameter-fields.js';

export interface TaskFormProps {
  /** The task to edit; absent to create one. */
  task?: TaskView;
  types: TaskTypeView[];
  onClose: () => void;
  onSaved: (task: TaskView) => void;
}

/** Milliseconds the preview waits after the last keystroke. */
export const PREVIEW_DEBOUNCE_MS = 250;

type PreviewState =
  | { kind: 'idle' }
  | { kind: 'loading' }
  | { kind: 'ok'; preview: SchedulePreview }
  | { kind: 'error'; message: string };

interface Fields {
  id: string;
  name: string;
  type: string;
  schedule: string;
  timezone: string;
  enabled: boolean;
  priority: string;
  overlap: string;
  catchUp: string;
  maxAttempts: string;
  backoffSeconds: string;
  stopOnError: boolean;
  timeoutSeconds: string;
  hidden: boolean;
  description: string;
}

function fieldsOf(task: TaskView | undefined, types: TaskTypeView[]): Fields {
  return {
    id: task?.id ?? '',
    name: task?.name ?? '',
    type: task?.type ?? types[0]?.name ?? '',
    schedule: task?.schedule ?? '*/5 * * * *',
    timezone: task?.timezone ?? 'UTC',
    enabled: task?.enabled ?? true,
    priority: String(task?.priority ?? 0),
    overlap: task?.overlap ?? 'skip',
    catchUp: task?.catchUp ?? 'run-once',
    maxAttempts: String(task?.retry.maxAttempts ?? 1),
    backoffSeconds: String(task?.retry.backoffSeconds ?? 30),
    stopOnError: task?.stopOnError ?? false,
    timeoutSeconds: task ? String(task.timeoutSeconds) : '',
    hidden: task?.hidden ?? false,
    description: task?.description ?? '',
  };
}

function intOf(text: string, label: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value)) throw new Error(`${label} must be a whole number`);
  return value;
}

/** The request body the form stands for (throws on what the browser can already refuse). */
function inputOf(fields: Fields, params: ParameterState): TaskInput {
  const parameters = parametersOf(params);
  if ('error' in parameters) throw new Error(`Parameters: ${parameters.error}`);
  const input: TaskInput = {
    name: fields.name,
    type: fields.type,
    schedule: fields.schedule.trim(),
    timezone: fields.timezone.trim() || 'UTC',
    enabled: fields.enabled,
    priority: intOf(fields.priority, 'Priority'),
    parameters: parameters.value,
    overlap: fields.overlap as TaskInput['overlap'],
    catchUp: fields.catchUp as TaskInput['catchUp'],
    retry: {
      maxAttempts: intOf(fields.maxAttempts, 'Attempts'),
      backoffSeconds: intOf(fields.backoffSeconds, 'Backoff'),
    },
    stopOnError: fields.stopOnError,
    hidden: fields.hidden,
  };
  if (fields.timeoutSeconds.trim() !== '') input.timeoutSeconds = intOf(fields.timeoutSeconds, 'Timeout');
  if (fields.description.trim() !== '') input.description = fields.description;
  if (fields.id.trim() !== '') input.id = fields.id.trim();
  return input;
}

export function TaskForm({ task, types, onClose, onSaved }: TaskFormProps) {
  const [fields, setFields] = useState<Fields>(() => fieldsOf(task, types));
  const [preview, setPreview] = useState<PreviewState>({ kind: 'idle' });
  const [error, setError] = useState<string | undefined>();
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const schemaOf = (name: string) => types.find((t) => t.name === name)?.parametersSchema ?? null;
  // The task's own parameters while it keeps its type; a new type starts from its schema.
  const startingParameters = (name: string) =>
    initialParameters(schemaOf(name), task && name === task.type ? task.parameters : undefined);
  const [params, setParams] = useState<ParameterState>(() => startingParameters(fields.type));
  const [paramErrors, setParamErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const zones = useMemo(timeZones, []);
  const uid = useId();
  const seq = useRef(0);

  // A type list that arrives after the form opened fills an empty type.
  useEffect(() => {
    if (!fields.type && types[0]) setFields((f) => ({ ...f, type: types[0]?.name ?? '' }));
  }, [types, fields.type]);

  // Another type, or its schema arriving with the type list: the editor starts again from it.
  const schemaKey = `${fields.type}\u0000${JSON.stringify(schemaOf(fields.type))}`;
  useEffect(() => {
    setParams(startingParameters(fields.type));
    setParamErrors({});
  }, [schemaKey]);

  useEffect(() => {
    const schedule = fields.schedule.trim();
    const mine = ++seq.current;
    if (schedule === '') {
      setPreview({ kind: 'idle' });
      return;
    }
    setPreview((p) => (p.kind === 'idle' ? { kind: 'loading' } : p));
    const timer = setTimeout(() => {
      api.preview(schedule, fields.timezone.trim() || 'UTC').then(
        (result) => {
          if (seq.current === mine) setPreview({ kind: 'ok', preview: result });
        },
        (err: unknown) => {
          if (seq.current === mine) setPreview({ kind: 'error', message: messageOf(err) });
        },
      );
    }, PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [fields.schedule, fields.timezone]);

  const set =
    <K extends keyof Fields>(key: K) =>
    (event: Event) => {
      const target = event.currentTarget as HTMLInputElement;
      const value = (target.type === 'checkbox' ? target.checked : target.value) as Fields[K];
      setFields((f) => ({ ...f, [key]: value }));
      setFieldErrors((e) => {
        if (!(key in e)) return e;
        const { [key]: _, ...rest } = e;
        return rest;
      });
    };

  const changeParams = (next: ParameterState) => {
    setParams(next);
    setParamErrors({});
  };
  const scheduleError = preview.kind === 'error' ? preview.message : fieldErrors.schedule;

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    let input: TaskInput;
    try {
      input = inputOf(fields, params);
    } catch (err) {
      setError(messageOf(err));
      return;
    }
    setSaving(true);
    try {
      let saved: TaskView;
      if (task) {
        const { id: _id, ...patch } = input;
        saved = await api.updateTask(
          task.id,
          { ...patch, description: patch.description ?? null },
          task.version,
        );
      } else {
        saved = await api.createTask(input);
      }
      onSaved(saved);
    } catch (err) {
      setError(messageOf(err));
      const details = (err as { details?: { field: string; message: string }[] }).details ?? [];
      const next: Record<string, string> = {};
      for (const d of details) next[d.field.split('.')[0] ?? d.field] = d.message;
      const code = (err as { code?: string }).code;
      if (code === 'invalid_schedule' && !next.schedule) next.schedule = messageOf(err);
      setFieldErrors(next);
      setParamErrors(err instanceof ApiFailure ? parameterErrorsOf(err.details) : {});
    } finally {
      setSaving(false);
    }
  };

  const id = (name: string) => `${uid}-${name}`;
  const text = (name: keyof Fields, label: string, extra: Record<string, unknown> = {}) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id(name) }, label),
      h('input', {
        id: id(name),
        name,
        value: fields[name] as string,
        onInput: set(name),
        'aria-invalid': fieldErrors[name] ? 'true' : undefined,
        'aria-describedby': fieldErrors[name] ? id(`${name}-error`) : undefined,
        ...extra,
      }),
      fieldErrors[name] ? h('p', { class: 'field-error', id: id(`${name}-error`) }, fieldErrors[name]) : null,
    );
  const check = (name: keyof Fields, label: string) =>
    h(
      'label',
      { class: 'check' },
      h('input', { type: 'checkbox', name, checked: fields[name] as boolean, onChange: set(name) }),
      ` ${label}`,
    );
  const select = (name: keyof Fields, label: string, options: string[]) =>
    h(
      'div',
      { class: 'field' },
      h('label', { for: id(name) }, label),
      h(
        'select',
        { id: id(name), name, value: fields[name] as string, onChange: set(name) },
        ...options.map((o) => h('option', { value: o }, o)),
      ),
    );

  const typeNames = types.map((t) => t.name);
  if (fields.type && !typeNames.includes(fields.type)) typeNames.unshift(fields.type);
  const zone = fields.timezone.trim() || 'UTC';

  return h(
    Dialog,
    { title: task ? `Edit ${task.name}` : 'New task', onClose, wide: true, testId: 'task-form' },
    h(
      'form',
      { class: 'form', onSubmit: submit, noValidate: true },
      h(
        'div',
        { class: 'form-grid' },
        h(
          'div',
          { class: 'form-col' },
          text('name', 'Name', { required: true, autoComplete: 'off' }),
          task
            ? null
            : text('id', 'Id (optional; generated when empty)', {
                autoComplete: 'off',
                pattern: '[A-Za-z0-9][A-Za-z0-9._:-]*',
              }),
          h(
            'div',
            { class: 'field' },
            h('label', { for: id('type') }, 'Type'),
            h(
              'select',
              { id: id('type'), name: 'type', value: fields.type, onChange: set('type'), required: true },
              ...typeNames.map((name) => h('option', { value: name }, name)),
            ),
            h('small', { class: 'muted' }, types.find((t) => t.name === fields.type)?.description ?? ''),
          ),
          h(
            'div',
            { class: 'field' },
            h('label', { for: id('schedule') }, 'Schedule'),
            h('input', {
              id: id('schedule'),
              name: 'schedule',
              class: 'mono',
              value: fields.schedule,
              onInput: set('schedule'),
              autoComplete: 'off',
              spellcheck: false,
              'aria-invalid': scheduleError ? 'true' : undefined,
              'aria-describedby': `${id('schedule-help')} ${id('preview')}`,
            }),
            h(
              'small',
              { class: 'muted', id: id('schedule-help') },
              'cron (5 fields, or 6 with seconds), rate(5 minutes), or at(2026-03-29T09:00:00)',
            ),
          ),
          h(
            'div',
            { class: 'field' },
            h('label', { for: id('timezone') }, 'Time zone'),
            h('input', {
              id: id('timezone'),
              name: 'timezone',
              list: id('zones'),
              value: fields.timezone,
              onInput: set('timezone'),
              autoComplete: 'off',
            }),
            h('datalist', { id: id('zones') }, ...zones.map((z) => h('option', { value: z }))),
          ),
          h(
            'div',
            { class: 'late' },
            h(ParameterEditor, {
              state: params,
              onChange: changeParams,
              errors: paramErrors,
              label: 'Default parameters',
              hint:
                params.mode === 'fields'
                  ? 'Empty fields take the default when the task runs.'
                  : schemaOf(fields.type)
                    ? "Checked against the type's schema when saved."
                    : undefined,
              idPrefix: id('parameters'),
            }),
          ),
          h(
            'div',
            { class: 'checks late' },
            check('enabled', 'Enabled'),
            check('stopOnError', 'Disable after a failed final attempt'),
            check('hidden', 'Hidden'),
          ),
        ),
        h(
          'div',
          { class: 'form-col' },
          h(
            'section',
            {
              class: `preview ${preview.kind}`,
              id: id('preview'),
              'aria-live': 'polite',
              'aria-label': 'Schedule preview',
              'data-testid': 'schedule-preview',
            },
            h('h3', null, 'Schedule preview'),
            preview.kind === 'idle'
              ? h('p', { class: 'muted' }, 'Type a schedule to see when it runs.')
              : null,
            preview.kind === 'loading' ? h('p', { class: 'muted' }, 'Checking…') : null,
            preview.kind === 'error'
              ? h(
                  'p',
                  { class: 'field-error', role: 'alert', 'data-testid': 'schedule-error' },
                  preview.message,
                )
              : null,
            preview.kind === 'ok'
              ? [
                  h(
                    'p',
                    { class: 'describe', 'data-testid': 'schedule-description' },
                    preview.preview.description,
                  ),
                  preview.preview.next.length === 0
                    ? h('p', { class: 'muted' }, 'No upcoming slot.')
                    : h(
                        'table',
                        { class: 'slots' },
                        h(
                          'thead',
                          null,
                          h(
                            'tr',
                            null,
                            h('th', { scope: 'col' }, `Next runs (${zone})`),
                            h('th', { scope: 'col' }, 'UTC'),
                          ),
                        ),
                        h(
                          'tbody',
                          null,
                          ...preview.preview.next.map((slot) =>
                            h(
                              'tr',
                              null,
                              h('td', null, formatInstant(slot, zone)),
                              h('td', null, formatInstant(slot, 'UTC')),
                            ),
                          ),
                        ),
                      ),
                ]
              : null,
          ),
          fieldErrors.schedule && preview.kind !== 'error'
            ? h('p', { class: 'field-error' }, fieldErrors.schedule)
            : null,
          h(
            'details',
            { class: 'more late' },
            h('summary', null, 'More options'),
            h(
              'div',
              { class: 'more-grid' },
              select('overlap', 'When a run is still going', ['skip', 'queue-one', 'allow', 'replace']),
              select('catchUp', 'Missed slots', ['run-once', 'skip', 'run-all']),
              text('maxAttempts', 'Attempts (1 = no retry)', { type: 'number', min: 1, max: 20 }),
              text('backoffSeconds', 'First retry after (s)', { type: 'number', min: 0 }),
              text('timeoutSeconds', 'Timeout (s; empty = type default)', {
                type: 'number',
                min: 1,
                max: 900,
              }),
              text('priority', 'Priority', { type: 'number', min: -1000, max: 1000 }),
              text('description', 'Description'),
            ),
          ),
        ),
      ),
      error ? h('p', { class: 'form-error', role: 'alert', 'data-testid': 'form-error' }, error) : null,
      h(
        'div',
        { class: 'form-actions' },
        h('button', { type: 'button', class: 'button', onClick: onClose }, 'Cancel'),
        h(
          'button',
          { type: 'submit', class: 'button primary', disabled: saving },
          saving ? 'Saving…' : task ? 'Save changes' : 'Create task',
        ),
      ),
    ),
  );
}
