/**
 * Parameters as the selected type's JSON Schema describes them (`GET /task-types`). A flat
 * object of strings, enums, numbers and booleans becomes one input per field, with defaults,
 * required marks, descriptions as hints and the API's refusal beside the field it names. Anything
 * else (nested objects, arrays, unions) is a JSON editor pre-filled with a valid example built
 * from the schema; a type without a schema keeps the free JSON editor.
 */
import { type ComponentChild, h } from 'preact';
import { parseParameters } from './format.js';

/** A JSON Schema document, as the API sends it. */
export type JsonSchema = { [key: string]: unknown };
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One input of a flat form. */
export interface FieldSpec {
  name: string;
  kind: 'string' | 'enum' | 'number' | 'integer' | 'boolean';
  required: boolean;
  description?: string;
  default?: Json;
  /** Choices of an enum. */
  options?: Json[];
  minimum?: number;
  maximum?: number;
}

/** What the editor holds: one value per field (text, or checked for booleans), or JSON text. */
export type ParameterState =
  | {
      mode: 'fields';
      specs: FieldSpec[];
      values: Record<string, string | boolean>;
      /** Keys the value had that no field shows (kept as they were). */
      extras: Record<string, unknown>;
    }
  | { mode: 'json'; text: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function numberOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The field of one property, or undefined when it is not a plain scalar. */
function fieldOf(name: string, schema: unknown, required: boolean): FieldSpec | undefined {
  if (!isObject(schema)) return undefined;
  const base = {
    name,
    required,
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    ...('default' in schema ? { default: schema.default as Json } : {}),
  };
  if (Array.isArray(schema.enum)) {
    const options = schema.enum as Json[];
    if (options.length === 0 || !options.every((o) => ['string', 'number', 'boolean'].includes(typeof o)))
      return undefined;
    return { ...base, kind: 'enum', options };
  }
  if (schema.type === 'string') return { ...base, kind: 'string' };
  if (schema.type === 'boolean') return { ...base, kind: 'boolean' };
  if (schema.type === 'number' || schema.type === 'integer') {
    const minimum = numberOf(schema.minimum);
    const maximum = numberOf(schema.maximum);
    return {
      ...base,
      kind: schema.type,
      ...(minimum !== undefined ? { minimum } : {}),
      ...(maximum !== undefined ? { maximum } : {}),
    };
  }
  return undefined;
}

/** The fields of a flat object schema, or undefined when the schema needs the JSON editor. */
export function flatFieldsOf(schema: JsonSchema | null | undefined): FieldSpec[] | undefined {
  if (schema?.type !== 'object' || !isObject(schema.properties)) return undefined;
  if (['anyOf', 'oneOf', 'allOf', 'not', 'if', '$ref', 'patternProperties'].some((k) => k in schema))
    return undefined;
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  const specs: FieldSpec[] = [];
  for (const [name, property] of Object.entries(schema.properties)) {
    const spec = fieldOf(name, property, required.has(name));
    if (!spec) return undefined;
    specs.push(spec);
  }
  return specs.length > 0 ? specs : undefined;
}

/**
 * A value the schema accepts, as small as it can be: defaults, the first enum value or `const`,
 * minimums, and required properties only. Patterns and formats beyond the common ones are not
 * satisfied; the API says so when the example is sent unchanged.
 */
export function exampleOf(schema: unknown, root: unknown = schema, depth = 0): Json {
  if (!isObject(schema) || depth > 8) return null;
  if ('default' in schema) return schema.default as Json;
  if ('const' in schema) return schema.const as Json;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as Json;
  if (typeof schema.$ref === 'string' && schema.$ref.startsWith('#/')) {
    let target: unknown = root;
    for (const part of schema.$ref.slice(2).split('/')) target = isObject(target) ? target[part] : undefined;
    return exampleOf(target, root, depth + 1);
  }
  for (const key of ['anyOf', 'oneOf'] as const) {
    const choices = schema[key];
    if (Array.isArray(choices) && choices.length > 0) return exampleOf(choices[0], root, depth + 1);
  }
  if (Array.isArray(schema.allOf)) {
    const parts = schema.allOf.map((part) => exampleOf(part, root, depth + 1));
    return parts.every(isObject) ? Object.assign({}, ...parts) : (parts[0] ?? null);
  }
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  const type = types.find((t) => t !== 'null') ?? types[0];
  switch (type) {
    case 'object': {
      const out: Record<string, Json> = {};
      const properties = isObject(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      for (const name of required) out[name] = exampleOf(properties[name] ?? {}, root, depth + 1);
      return out;
    }
    case 'array': {
      const count = numberOf(schema.minItems) ?? 0;
      const prefix = Array.isArray(schema.prefixItems) ? schema.prefixItems : [];
      return Array.from({ length: Math.max(count, prefix.length) }, (_, i) =>
        exampleOf(prefix[i] ?? schema.items ?? {}, root, depth + 1),
      );
    }
    case 'integer':
    case 'number': {
      const exclusive = numberOf(schema.exclusiveMinimum);
      const low = numberOf(schema.minimum) ?? (exclusive === undefined ? undefined : exclusive + 1);
      const high = numberOf(schema.maximum);
      const value = low ?? (high !== undefined && high < 0 ? high : 0);
      return type === 'integer' ? Math.ceil(value) : value;
    }
    case 'boolean':
      return false;
    case 'string':
      if (schema.format === 'date-time') return new Date().toISOString();
      if (schema.format === 'date') return new Date().toISOString().slice(0, 10);
      if (schema.format === 'email') return 'someone@example.com';
      if (schema.format === 'uri' || schema.format === 'url') return 'https://example.com/';
      return 'x'.repeat(numberOf(schema.minLength) ?? 0);
    case 'null':
      return null;
    default:
      return {};
  }
}

const textOf = (value: unknown): string =>
  value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);

/**
 * The editor's first state for a schema (or none) and the parameters it starts from.
 *
 * @param current the task's parameters (edit, run-now); absent for a new task.
 */
export function initialParameters(
  schema: JsonSchema | null | undefined,
  current: Record<string, unknown> | undefined,
): ParameterState {
  const specs = flatFieldsOf(schema);
  if (specs) {
    const values: Record<string, string | boolean> = {};
    for (const spec of specs) {
      const value = current?.[spec.name];
      if (spec.kind === 'boolean') values[spec.name] = (value ?? spec.default ?? false) === true;
      else if (spec.kind === 'enum') {
        const index = spec.options?.indexOf(value as Json) ?? -1;
        values[spec.name] = index >= 0 ? String(index) : '';
      } else values[spec.name] = textOf(value);
    }
    const extras = Object.fromEntries(
      Object.entries(current ?? {}).filter(([key]) => !specs.some((s) => s.name === key)),
    );
    return { mode: 'fields', specs, values, extras };
  }
  if (current && Object.keys(current).length > 0)
    return { mode: 'json', text: JSON.stringify(current, null, 2) };
  const example = schema ? exampleOf(schema) : {};
  return { mode: 'json', text: JSON.stringify(isObject(example) ? example : {}, null, 2) };
}

/**
 * The parameters object the editor stands for. An empty field is left out, so the handler's
 * default applies (and a required one is refused by the API, beside its field).
 */
export function parametersOf(state: ParameterState): { value: Record<string, unknown> } | { error: string } {
  if (state.mode === 'json') return parseParameters(state.text);
  const value: Record<string, unknown> = { ...state.extras };
  for (const spec of state.specs) {
    const raw = state.values[spec.name];
    if (spec.kind === 'boolean') {
      value[spec.name] = raw === true;
      continue;
    }
    if (typeof raw !== 'string' || raw.trim() === '') continue;
    if (spec.kind === 'enum') value[spec.name] = spec.options?.[Number(raw)];
    else if (spec.kind === 'string') value[spec.name] = raw;
    else {
      const n = Number(raw);
      // Sent as typed when it is not a number, so the API names the field and the problem.
      value[spec.name] = raw.trim() !== '' && Number.isFinite(n) ? n : raw;
    }
  }
  return { value };
}

/** The API's field errors about parameters, by the path after `parameters.` (`''`: the object). */
export function parameterErrorsOf(details: { field: string; message: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of details) {
    if (d.field !== 'parameters' && !d.field.startsWith('parameters.')) continue;
    const path = d.field.slice('parameters.'.length);
    out[path] ??= d.message;
  }
  return out;
}

export interface ParameterEditorProps {
  state: ParameterState;
  onChange: (state: ParameterState) => void;
  /** Errors by parameter path, from {@link parameterErrorsOf}. */
  errors: Record<string, string>;
  /** `Default parameters`, `Parameters for this run`. */
  label: string;
  /** A line under the editor (what the values are merged over, …). */
  hint?: string;
  idPrefix: string;
}

function defaultText(spec: FieldSpec): string | undefined {
  if (spec.default === undefined) return undefined;
  return `default ${typeof spec.default === 'string' ? spec.default : JSON.stringify(spec.default)}`;
}

function rangeText(spec: FieldSpec): string | undefined {
  if (spec.kind !== 'number' && spec.kind !== 'integer') return undefined;
  const what = spec.kind === 'integer' ? 'whole number' : 'number';
  if (spec.minimum !== undefined && spec.maximum !== undefined)
    return `${what}, ${spec.minimum} to ${spec.maximum}`;
  if (spec.minimum !== undefined) return `${what}, at least ${spec.minimum}`;
  if (spec.maximum !== undefined) return `${what}, at most ${spec.maximum}`;
  return what;
}

type JsonState = Extract<ParameterState, { mode: 'json' }>;
type FieldsState = Extract<ParameterState, { mode: 'fields' }>;

/** The JSON editor: its syntax error first, else the API's refusals. */
function jsonEditor({
  state,
  onChange,
  errors,
  label,
  hint,
  idPrefix,
}: ParameterEditorProps & { state: JsonState }) {
  const id = (name: string) => `${idPrefix}-${name}`;
  const parsed = parseParameters(state.text);
  const syntax = 'error' in parsed ? parsed.error : undefined;
  const refused = Object.entries(errors).map(([path, message]) =>
    path === '' ? message : `${path}: ${message}`,
  );
  const problems = syntax ? [syntax] : refused;
  return h(
    'div',
    { class: 'field params-json' },
    h('label', { for: id('json') }, `${label} (JSON object)`),
    h('textarea', {
      id: id('json'),
      class: 'mono',
      rows: 6,
      value: state.text,
      spellcheck: false,
      onInput: (e: Event) => onChange({ mode: 'json', text: (e.currentTarget as HTMLTextAreaElement).value }),
      'aria-invalid': problems.length > 0 ? 'true' : undefined,
      'aria-describedby':
        [hint ? id('hint') : '', problems.length > 0 ? id('error') : ''].filter(Boolean).join(' ') ||
        undefined,
    }),
    hint ? h('small', { class: 'muted', id: id('hint') }, hint) : null,
    problems.length > 0
      ? h(
          'p',
          { class: 'field-error', id: id('error'), 'data-testid': 'parameters-error' },
          problems.join('; '),
        )
      : null,
  );
}

/** What one parameter's field draws from. */
interface ParamContext {
  state: FieldsState;
  errors: Record<string, string>;
  id: (name: string) => string;
  setValue: (name: string, value: string | boolean) => void;
}

/** The attributes every control of a parameter carries. */
type CommonAttributes = Record<string, string | undefined>;

function paramLabel(spec: FieldSpec, inputId: string) {
  return h(
    'label',
    { for: inputId },
    spec.name,
    spec.required ? h('span', { class: 'required' }, ' (required)') : null,
  );
}

/** A select for an enum; the empty choice says what leaving it empty means. */
function enumControl(spec: FieldSpec, common: CommonAttributes, ctx: ParamContext) {
  const value = ctx.state.values[spec.name];
  const choices = spec.options ?? [];
  const emptyLabel =
    spec.default !== undefined ? `(${defaultText(spec)})` : spec.required ? 'Choose…' : '(none)';
  return h(
    'select',
    {
      ...common,
      value: typeof value === 'string' ? value : '',
      onChange: (e: Event) => ctx.setValue(spec.name, (e.currentTarget as HTMLSelectElement).value),
    },
    h('option', { value: '' }, emptyLabel),
    ...choices.map((o, i) => h('option', { value: String(i) }, textOf(o))),
  );
}

/** A text or number input; the default shows as the placeholder. */
function inputControl(spec: FieldSpec, common: CommonAttributes, ctx: ParamContext) {
  const value = ctx.state.values[spec.name];
  const numeric = spec.kind === 'number' || spec.kind === 'integer';
  return h('input', {
    ...common,
    type: numeric ? 'number' : 'text',
    ...(numeric
      ? {
          inputMode: spec.kind === 'integer' ? 'numeric' : 'decimal',
          step: spec.kind === 'integer' ? 1 : 'any',
          min: spec.minimum,
          max: spec.maximum,
        }
      : { autoComplete: 'off' }),
    placeholder: spec.default !== undefined ? textOf(spec.default) : undefined,
    value: typeof value === 'string' ? value : '',
    onInput: (e: Event) => ctx.setValue(spec.name, (e.currentTarget as HTMLInputElement).value),
  });
}

/** One parameter: its label and control, the hint (description, range, default) and the API's refusal. */
function paramField(spec: FieldSpec, ctx: ParamContext) {
  const inputId = ctx.id(`p-${spec.name}`);
  const error = ctx.errors[spec.name];
  const hintText = [spec.description, rangeText(spec), defaultText(spec)].filter(Boolean).join(' · ');
  const describedBy =
    [hintText ? `${inputId}-hint` : '', error ? `${inputId}-error` : ''].filter(Boolean).join(' ') ||
    undefined;
  const common: CommonAttributes = {
    id: inputId,
    name: `parameters.${spec.name}`,
    'aria-invalid': error ? 'true' : undefined,
    'aria-describedby': describedBy,
    'aria-required': spec.required ? 'true' : undefined,
  };
  const hintLine = hintText ? h('small', { class: 'muted', id: `${inputId}-hint` }, hintText) : null;
  const errorLine = error ? h('p', { class: 'field-error', id: `${inputId}-error` }, error) : null;
  if (spec.kind === 'boolean') {
    const checkbox = h('input', {
      ...common,
      type: 'checkbox',
      checked: ctx.state.values[spec.name] === true,
      onChange: (e: Event) => ctx.setValue(spec.name, (e.currentTarget as HTMLInputElement).checked),
    });
    return h(
      'div',
      { class: 'field param', 'data-param': spec.name },
      h('div', { class: 'check' }, checkbox, paramLabel(spec, inputId)),
      hintLine,
      errorLine,
    );
  }
  const control: ComponentChild =
    spec.kind === 'enum' ? enumControl(spec, common, ctx) : inputControl(spec, common, ctx);
  return h(
    'div',
    { class: 'field param', 'data-param': spec.name },
    paramLabel(spec, inputId),
    control,
    hintLine,
    errorLine,
  );
}

/** The parameters part of a form: fields for a flat schema, else a JSON editor. */
export function ParameterEditor(props: ParameterEditorProps) {
  const { state, onChange, errors, label, hint, idPrefix } = props;
  if (state.mode === 'json') return jsonEditor({ ...props, state });
  const id = (name: string) => `${idPrefix}-${name}`;
  const setValue = (name: string, value: string | boolean) =>
    onChange({ ...state, values: { ...state.values, [name]: value } });
  const asJson = () => {
    const current = parametersOf(state);
    onChange({ mode: 'json', text: JSON.stringify('value' in current ? current.value : {}, null, 2) });
  };
  const whole = errors[''];
  const unplaced = Object.entries(errors).filter(
    ([path]) => path !== '' && !state.specs.some((s) => s.name === path),
  );
  const ctx: ParamContext = { state, errors, id, setValue };
  return h(
    'fieldset',
    { class: 'params', 'data-testid': 'parameter-fields' },
    h('legend', null, label),
    hint ? h('small', { class: 'muted params-hint' }, hint) : null,
    h('div', { class: 'params-grid' }, ...state.specs.map((spec) => paramField(spec, ctx))),
    whole || unplaced.length > 0
      ? h(
          'p',
          { class: 'field-error', 'data-testid': 'parameters-error' },
          [whole, ...unplaced.map(([path, message]) => `${path}: ${message}`)].filter(Boolean).join('; '),
        )
      : null,
    h('button', { type: 'button', class: 'button small', onClick: asJson }, 'Edit as JSON'),
  );
}
