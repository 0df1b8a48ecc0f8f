/**
 * Checks a task's parameters against the JSON Schema its type was registered with, so that a
 * value the handler would refuse at run time is refused when the task is created, changed or run
 * now. The schema is the one `z.toJSONSchema` wrote at registration (`src/task/manifest.ts`);
 * zod's `z.fromJSONSchema` turns it back into a validator, so the messages are the ones the
 * handler's own parse gives at run time (`parameters.region: Invalid option: …`).
 *
 * What JSON Schema cannot express (a transform, a refinement) was left open at registration, so
 * it is checked only when the run starts.
 */
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from '../core/errors.js';
import type { JsonSchema, TaskType } from '../core/model.js';

/** Keys no parameters object (nor any body) may hold: they reach into prototypes when assigned. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Most compiled validators kept; the registry holds a handful of types, so this is never reached in practice. */
const CACHE_LIMIT = 256;

/** A compiled validator, or `null` for a schema zod cannot read (then nothing is checked up front). */
type Compiled = z.ZodType | null;

const cache = new Map<string, Compiled>();

function compile(schema: JsonSchema): Compiled {
  try {
    return z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch {
    return null;
  }
}

/** The validator of a type's schema, compiled once per type name and schema text. */
function validatorOf(type: Pick<TaskType, 'name' | 'parametersSchema'>): Compiled {
  if (type.parametersSchema === undefined) return null;
  const key = `${type.name}\u0000${JSON.stringify(type.parametersSchema)}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const compiled = compile(type.parametersSchema);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, compiled);
  return compiled;
}

/**
 * The problems with a parameters object under its type's schema, each naming its field as the
 * run-time check does (`parameters.region`, `parameters.limits.max`). Empty when the type has no
 * schema (any JSON object is accepted) or when the parameters fit.
 *
 * @example
 * parameterIssues(type, { region: 'mars' });
 * // [{ field: 'parameters.region', message: 'Invalid option: expected one of "eu"|"us"|"apac"' }]
 */
export function parameterIssues(
  type: Pick<TaskType, 'name' | 'parametersSchema'>,
  parameters: unknown,
): ValidationIssue[] {
  const validator = validatorOf(type);
  if (validator === null) return [];
  const result = validator.safeParse(parameters);
  if (result.success) return [];
  const fieldOf = (path: PropertyKey[]) => ['parameters', ...path.map(String)].join('.');
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  const add = (field: string, message: string) => {
    // One message per field: a `format` also compiles to a `pattern`, which would say it twice.
    if (seen.has(field) || issues.length >= 50) return;
    seen.add(field);
    issues.push({ field, message: message.slice(0, 500) });
  };
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys.slice(0, 20)) {
        add(fieldOf([...issue.path, key.slice(0, 100)]), `Unrecognized key: ${JSON.stringify(key)}`);
      }
    } else {
      add(fieldOf(issue.path), issue.message);
    }
  }
  return issues;
}

/**
 * Throws a `ValidationError` (400 `validation_failed`) naming each field when the parameters do
 * not fit the type's schema.
 */
export function checkParameters(
  type: Pick<TaskType, 'name' | 'parametersSchema'>,
  parameters: unknown,
): void {
  const issues = parameterIssues(type, parameters);
  if (issues.length > 0) throw new ValidationError(issues);
}

/**
 * The dotted path of the first reserved key (`__proto__`, `constructor`, `prototype`) anywhere in
 * a parsed JSON value, or undefined. Iterative, so no input can exhaust the stack.
 */
export function reservedKeyPath(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop() as [unknown, string];
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        stack.push([item, path === '' ? String(i) : `${path}.${i}`]);
      });
      continue;
    }
    for (const key of Object.keys(v)) {
      const at = path === '' ? key : `${path}.${key.slice(0, 100)}`;
      if (RESERVED_KEYS.has(key)) return at;
      stack.push([(v as Record<string, unknown>)[key], at]);
    }
  }
  return undefined;
}
