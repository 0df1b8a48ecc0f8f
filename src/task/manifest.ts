/**
 * What a handler module's task map says about its types, for whoever registers them (the CDK
 * construct at synth, `tickwork dev` at start): each type's name, description and the JSON
 * Schema of its parameters. The map is the one place a type is declared; registration derives
 * from it, so a name cannot be spelt two ways.
 */
import { z } from 'zod';
import type { JsonSchema } from '../core/model.js';
import type { TaskDefinition, TaskImplementation, TaskTypes } from './define-task.js';

/** One task type as it is registered. */
export interface TaskTypeManifestEntry {
  name: string;
  description?: string;
  /** JSON Schema (draft 2020-12) of the parameters a client may send; absent: any JSON object. */
  parametersSchema?: JsonSchema;
}

/** Task type names: 1-128 letters, digits, `.`, `_`, `:` or `-`, starting with a letter or digit. */
export const taskTypeNamePattern = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function isDefinition(implementation: TaskImplementation): implementation is TaskDefinition<unknown> {
  return (
    typeof implementation === 'object' && implementation !== null && implementation.kind === 'tickwork.task'
  );
}

/**
 * The JSON Schema of what a client sends for a definition's parameters: the schema's *input*
 * side, so a field with a default is optional. Parts JSON Schema cannot express (a transform, a
 * refinement) are left open rather than refused; the handler's own parse still checks them.
 */
export function parametersJsonSchema(schema: z.ZodType<unknown>): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/**
 * The registration of every type in a handler's task map.
 *
 * @throws Error naming the type when a name is not a valid task type name.
 * @example
 * const entries = taskTypeManifest({ 'Acme.Report': report });
 * // [{ name: 'Acme.Report', description: '…', parametersSchema: { type: 'object', … } }]
 */
export function taskTypeManifest(types: TaskTypes): TaskTypeManifestEntry[] {
  return Object.entries(types).map(([name, implementation]) => {
    if (!taskTypeNamePattern.test(name)) {
      throw new Error(
        `task type name "${name}" must be 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit`,
      );
    }
    if (!isDefinition(implementation)) return { name };
    return {
      name,
      ...(implementation.description === undefined ? {} : { description: implementation.description }),
      ...(implementation.parameters
        ? { parametersSchema: parametersJsonSchema(implementation.parameters) }
        : {}),
    };
  });
}
