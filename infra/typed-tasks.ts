/**
 * Task types declared once: a handler module's task map (`export const tasks = { ... }`) registers
 * every type with `Tickwork.addTaskTypes`, which returns a {@link TaskTypeGroup} whose `addTask`
 * accepts only those type names, with each type's parameters typed as its schema's input.
 */
import type { CustomResource } from 'aws-cdk-lib';
import type { Parameters } from '../src/core/model.js';
import type { TaskDefinition, TaskImplementation, TaskTypes } from '../src/task/define-task.js';
import type { TaskDeclaration } from './tasks.js';

/** The type names of a task map. */
export type TaskTypeName<T extends TaskTypes> = Extract<keyof T, string>;

/** What a task of an implementation may carry as parameters: its schema's input, else any object. */
export type TaskParametersInput<D> =
  D extends TaskDefinition<unknown, infer I>
    ? I extends Record<string, unknown>
      ? I
      : Parameters
    : Parameters;

/** A task declaration whose `type` is one of the map's, with that type's parameters. */
export type TypedTaskDeclaration<T extends TaskTypes> = {
  [K in TaskTypeName<T>]: Omit<TaskDeclaration, 'type' | 'parameters'> & {
    readonly type: K;
    readonly parameters?: TaskParametersInput<T[K]>;
  };
}[TaskTypeName<T>];

/** Where the group's tasks are declared (the `Tickwork` construct). */
export interface TaskDeclarer {
  addTask(declaration: TaskDeclaration): CustomResource;
}

function schemaOf(implementation: TaskImplementation | undefined) {
  return typeof implementation === 'object' ? implementation.parameters : undefined;
}

/** The types of one task map, registered on one function. */
export class TaskTypeGroup<T extends TaskTypes> {
  constructor(
    private readonly declarer: TaskDeclarer,
    /** The map the types were registered from. */
    readonly tasks: T,
  ) {}

  /** The registered type names. */
  get names(): TaskTypeName<T>[] {
    return Object.keys(this.tasks) as TaskTypeName<T>[];
  }

  /**
   * Declares a task of one of these types (see `Tickwork.addTask`); its parameters are also
   * checked with the type's schema at synth.
   *
   * @throws Error at synth when the parameters do not fit the type's schema.
   */
  addTask(declaration: TypedTaskDeclaration<T>): CustomResource {
    const schema = schemaOf(this.tasks[declaration.type]);
    if (schema) {
      const parsed = schema.safeParse(declaration.parameters ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map(
          (issue) => `${issue.path.join('.') || 'parameters'}: ${issue.message}`,
        );
        throw new Error(
          `Tickwork: task "${declaration.id}": parameters do not fit type "${declaration.type}": ${issues.join('; ')}`,
        );
      }
    }
    return this.declarer.addTask(declaration as TaskDeclaration);
  }
}
