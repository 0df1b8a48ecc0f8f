/**
 * Create and edit form. The schedule preview asks the API (`GET /schedule-preview`) as the user
 * types, debounced, and shows the next five slots in the task's zone and in UTC, or the reason
 * the expression is refused, inline. Parameters follow the selected type's schema
 * (`parameter-fields.ts`); the API's refusal of one is shown beside it.
 */
import { h } from 'preact';
import { useEffect, useId, useMemo, useState } from 'preact/hooks';
import { ApiFailure, api, messageOf, type TaskInput, type TaskTypeView, type TaskView } from './api.js';
import { Dialog, FormActions } from './dialog.js';
import { timeZones } from './format.js';
import {
  initialParameters,
  ParameterEditor,
  type ParameterState,
  parameterErrorsOf,
  parametersOf,
} from './parameter-fields.js';
import { previewSection, useSchedulePreview } from './schedule-preview.js';

export interface TaskFormProps {
  /** The task to edit; absent to create one. */
  task?: TaskView;
  types: TaskTypeView[];
  onClose: () => void;
  onSaved: (task: TaskView) => void;
}

export { PREVIEW_DEBOUNCE_MS } from './schedule-preview.js';

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
  idempotent: boolean;
  /** Successes in runs across tasks: the default listing, every one, or none. */
  listSucceeded: 'default' | 'yes' | 'no';
  timeoutSeconds: string;
  hidden: boolean;
  description: string;
  mustSucceedEvery: string;
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
    idempotent: task?.idempotent === true,
    listSucceeded: task?.listSucceeded === undefined ? 'default' : task.listSucceeded ? 'yes' : 'no',
    timeoutSeconds: task ? String(task.timeoutSeconds) : '',
    hidden: task?.hidden ?? false,
    description: task?.description ?? '',
    mustSucceedEvery: task?.mustSucceedEvery ?? '',
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
    // Sent as it stands, so that an edit back to the default removes the flag (PATCH).
    idempotent: fields.idempotent,
    hidden: fields.hidden,
  };
  if (fields.listSucceeded !== 'default') input.listSucceeded = fields.listSucceeded === 'yes';
  if (fields.timeoutSeconds.trim() !== '') input.timeoutSeconds = intOf(fields.timeoutSeconds, 'Timeout');
  if (fields.description.trim() !== '') input.description = fields.description;
  if (fields.mustSucceedEvery.trim() !== '') input.mustSucceedEvery = fields.mustSucceedEvery.trim();
  if (fields.id.trim() !== '') input.id = fields.id.trim();
  return input;
}

type JsonSchema = TaskTypeView['parametersSchema'];

/**
 * The form's values and their errors from the API, and the parameter editor's state: the task's
 * own parameters while it keeps its type; a new type starts from its schema.
 */
function useFormState(task: TaskView | undefined, types: TaskTypeView[]) {
  const [fields, setFields] = useState<Fields>(() => fieldsOf(task, types));
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const schemaOf = (name: string): JsonSchema => types.find((t) => t.name === name)?.parametersSchema ?? null;
  const startingParameters = (name: string) =>
    initialParameters(schemaOf(name), task && name === task.type ? task.parameters : undefined);
  const [params, setParams] = useState<ParameterState>(() => startingParameters(fields.type));
  const [paramErrors, setParamErrors] = useState<Record<string, string>>({});

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

  /** The input handler of one field: it takes the new value and clears the field's error. */
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
  return {
    fields,
    fieldErrors,
    setFieldErrors,
    set,
    schemaOf,
    params,
    changeParams,
    paramErrors,
    setParamErrors,
  };
}

/** Creates the task, or saves the edited one (a patch: an empty description clears it). */
function saveTask(task: TaskView | undefined, input: TaskInput): Promise<TaskView> {
  if (!task) return api.createTask(input);
  const { id: _id, ...patch } = input;
  return api.updateTask(
    task.id,
    {
      ...patch,
      description: patch.description ?? null,
      mustSucceedEvery: patch.mustSucceedEvery ?? null,
      listSucceeded: patch.listSucceeded ?? null,
    },
    task.version,
  );
}

/** The API's refusal, field by field (a refused schedule names the schedule). */
function fieldErrorsOf(err: unknown): Record<string, string> {
  const details = (err as { details?: { field: string; message: string }[] }).details ?? [];
  const next: Record<string, string> = {};
  for (const d of details) next[d.field.split('.')[0] ?? d.field] = d.message;
  const code = (err as { code?: string }).code;
  if (code === 'invalid_schedule' && !next.schedule) next.schedule = messageOf(err);
  return next;
}

/** The submit handler: what the browser can refuse never leaves it; the API's refusal is shown. */
function useTaskSave(
  task: TaskView | undefined,
  form: ReturnType<typeof useFormState>,
  onSaved: (task: TaskView) => void,
) {
  const [error, setError] = useState<string | undefined>();
  const [saving, setSaving] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    let input: TaskInput;
    try {
      input = inputOf(form.fields, form.params);
    } catch (err) {
      setError(messageOf(err));
      return;
    }
    setSaving(true);
    try {
      onSaved(await saveTask(task, input));
    } catch (err) {
      setError(messageOf(err));
      form.setFieldErrors(fieldErrorsOf(err));
      form.setParamErrors(err instanceof ApiFailure ? parameterErrorsOf(err.details) : {});
    } finally {
      setSaving(false);
    }
  };
  return { error, saving, submit };
}

/** What the field helpers draw from: the values, their errors, the handlers and the id prefix. */
interface FieldKit {
  fields: Fields;
  fieldErrors: Record<string, string>;
  set: ReturnType<typeof useFormState>['set'];
  id: (name: string) => string;
}

function textField(
  kit: FieldKit,
  name: keyof Fields,
  label: string,
  { help, ...extra }: Record<string, unknown> & { help?: string } = {},
) {
  const { fields, fieldErrors, set, id } = kit;
  const describedBy = [help ? id(`${name}-help`) : '', fieldErrors[name] ? id(`${name}-error`) : '']
    .filter(Boolean)
    .join(' ');
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id(name) }, label),
    h('input', {
      id: id(name),
      name,
      value: fields[name] as string,
      onInput: set(name),
      'aria-invalid': fieldErrors[name] ? 'true' : undefined,
      'aria-describedby': describedBy || undefined,
      ...extra,
    }),
    help ? h('p', { class: 'muted field-help', id: id(`${name}-help`) }, help) : null,
    fieldErrors[name] ? h('p', { class: 'field-error', id: id(`${name}-error`) }, fieldErrors[name]) : null,
  );
}

function checkField(kit: FieldKit, name: keyof Fields, label: string, help?: string) {
  const box = h(
    'label',
    { class: 'check' },
    h('input', {
      type: 'checkbox',
      name,
      checked: kit.fields[name] as boolean,
      onChange: kit.set(name),
      'aria-describedby': help ? kit.id(`${name}-help`) : undefined,
    }),
    ` ${label}`,
  );
  if (!help) return box;
  return h(
    'div',
    { class: 'field' },
    box,
    h('p', { class: 'muted field-help', id: kit.id(`${name}-help`) }, help),
  );
}

/** A select; an option is its value, or a value and the text shown for it. */
function selectField(
  kit: FieldKit,
  name: keyof Fields,
  label: string,
  options: (string | [value: string, text: string])[],
  help?: string,
) {
  const { id } = kit;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id(name) }, label),
    h(
      'select',
      {
        id: id(name),
        name,
        value: kit.fields[name] as string,
        onChange: kit.set(name),
        'aria-describedby': help ? id(`${name}-help`) : undefined,
      },
      ...options.map((o) => {
        const [value, text] = typeof o === 'string' ? [o, o] : o;
        return h('option', { value }, text);
      }),
    ),
    help ? h('p', { class: 'muted field-help', id: id(`${name}-help`) }, help) : null,
  );
}

/** The type picker; a type no longer registered stays listed while the task has it. */
function typeField(kit: FieldKit, types: TaskTypeView[]) {
  const { fields, id } = kit;
  const typeNames = types.map((t) => t.name);
  if (fields.type && !typeNames.includes(fields.type)) typeNames.unshift(fields.type);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id('type') }, 'Type'),
    h(
      'select',
      { id: id('type'), name: 'type', value: fields.type, onChange: kit.set('type'), required: true },
      ...typeNames.map((name) => h('option', { value: name }, name)),
    ),
    h('small', { class: 'muted' }, types.find((t) => t.name === fields.type)?.description ?? ''),
  );
}

function scheduleField(kit: FieldKit, scheduleError: string | undefined) {
  const { id } = kit;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id('schedule') }, 'Schedule'),
    h('input', {
      id: id('schedule'),
      name: 'schedule',
      class: 'mono',
      value: kit.fields.schedule,
      onInput: kit.set('schedule'),
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
  );
}

function timezoneField(kit: FieldKit, zones: string[]) {
  const { id } = kit;
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id('timezone') }, 'Time zone'),
    h('input', {
      id: id('timezone'),
      name: 'timezone',
      list: id('zones'),
      value: kit.fields.timezone,
      onInput: kit.set('timezone'),
      autoComplete: 'off',
    }),
    h('datalist', { id: id('zones') }, ...zones.map((z) => h('option', { value: z }))),
  );
}

function parametersBlock(form: ReturnType<typeof useFormState>, id: FieldKit['id']) {
  const { params } = form;
  return h(
    'div',
    { class: 'late' },
    h(ParameterEditor, {
      state: params,
      onChange: form.changeParams,
      errors: form.paramErrors,
      label: 'Default parameters',
      hint:
        params.mode === 'fields'
          ? 'Empty fields take the default when the task runs.'
          : form.schemaOf(form.fields.type)
            ? "Checked against the type's schema when saved."
            : undefined,
      idPrefix: id('parameters'),
    }),
  );
}

/**
 * Overlap, catch-up, retries, timeout, priority, the dead-man promise, description and the two
 * write-saving options, folded away.
 */
function moreOptions(kit: FieldKit) {
  return h(
    'details',
    { class: 'more late' },
    h('summary', null, 'More options'),
    h(
      'div',
      { class: 'more-grid' },
      selectField(kit, 'overlap', 'When a run is still going', ['skip', 'queue-one', 'allow', 'replace']),
      selectField(kit, 'catchUp', 'Missed slots', ['run-once', 'skip', 'run-all']),
      textField(kit, 'maxAttempts', 'Attempts (1 = no retry)', { type: 'number', min: 1, max: 20 }),
      textField(kit, 'backoffSeconds', 'First retry after (s)', { type: 'number', min: 0 }),
      textField(kit, 'timeoutSeconds', 'Timeout (s; empty = 300)', {
        type: 'number',
        min: 1,
        max: 900,
        help: 'The run’s deadline: its signal fires with reason “timeout”; still going 5 s later, it is recorded timed-out. Retried per the attempts.',
      }),
      textField(kit, 'priority', 'Priority', { type: 'number', min: -1000, max: 1000 }),
      textField(kit, 'mustSucceedEvery', 'Must succeed every (empty = no promise)', {
        placeholder: '26h',
        autoComplete: 'off',
        help: 'A dead-man alert: with no successful run within this (90m, 26h, 2d; at least 1m), the scheduler emits “Tickwork Task Overdue” once, until the next success.',
      }),
      textField(kit, 'description', 'Description'),
      checkField(
        kit,
        'idempotent',
        'Idempotent',
        'The body may run twice for one slot without harm: one write a run fewer, but a duplicate delivery may run it again (no exactly-once start).',
      ),
      selectField(
        kit,
        'listSucceeded',
        'Successful runs on the Runs page',
        [
          ['default', 'Default: all but scheduled runs of a task due every minute'],
          ['yes', 'All'],
          ['no', 'None'],
        ],
        'Every run stays in this task’s history; this is only the list across tasks. Listing each success of a task due every minute costs one write a run more. Failures and running runs are always listed.',
      ),
    ),
  );
}

export function TaskForm({ task, types, onClose, onSaved }: TaskFormProps) {
  const form = useFormState(task, types);
  const { fields, fieldErrors } = form;
  const preview = useSchedulePreview(fields.schedule, fields.timezone);
  const { error, saving, submit } = useTaskSave(task, form, onSaved);
  const zones = useMemo(timeZones, []);
  const uid = useId();
  const id = (name: string) => `${uid}-${name}`;
  const kit: FieldKit = { fields, fieldErrors, set: form.set, id };
  const scheduleError = preview.kind === 'error' ? preview.message : fieldErrors.schedule;
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
          textField(kit, 'name', 'Name', { required: true, autoComplete: 'off' }),
          task
            ? null
            : textField(kit, 'id', 'Id (optional; generated when empty)', {
                autoComplete: 'off',
                pattern: '[A-Za-z0-9][A-Za-z0-9._:-]*',
              }),
          typeField(kit, types),
          scheduleField(kit, scheduleError),
          timezoneField(kit, zones),
          parametersBlock(form, id),
          h(
            'div',
            { class: 'checks late' },
            checkField(kit, 'enabled', 'Enabled'),
            checkField(kit, 'stopOnError', 'Disable after a failed final attempt'),
            checkField(kit, 'hidden', 'Hidden'),
          ),
        ),
        h(
          'div',
          { class: 'form-col' },
          previewSection(preview, zone, id('preview')),
          fieldErrors.schedule && preview.kind !== 'error'
            ? h('p', { class: 'field-error' }, fieldErrors.schedule)
            : null,
          moreOptions(kit),
        ),
      ),
      error ? h('p', { class: 'form-error', role: 'alert', 'data-testid': 'form-error' }, error) : null,
      FormActions({
        busy: saving,
        label: task ? 'Save changes' : 'Create task',
        busyLabel: 'Saving…',
        onClose,
      }),
    ),
  );
}
