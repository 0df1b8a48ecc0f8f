/**
 * The CLI and the end-to-end client read the API's own view types, so renaming or retyping a
 * field of a view fails `tsc` in them instead of printing `undefined`. These checks run in the
 * type checker; at run time they only assert that they were compiled.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type {
  PreviewSchema,
  RunAcceptedSchema,
  RunView,
  SchedulerViewSchema,
  TaskTypeViewSchema,
  TaskView,
} from '../../src/api/schemas.js';
import type { ApiClient } from '../../src/cli/client.js';
import type { Run, Task } from '../e2e/api.js';

type Answer<K extends keyof ApiClient> = ApiClient[K] extends (...args: never[]) => Promise<infer T>
  ? T
  : never;

describe('view types', () => {
  it('the CLI client answers with the API views', () => {
    expectTypeOf<Answer<'getTask'>>().toEqualTypeOf<TaskView>();
    expectTypeOf<Answer<'createTask'>>().toEqualTypeOf<TaskView>();
    expectTypeOf<Answer<'updateTask'>>().toEqualTypeOf<TaskView>();
    expectTypeOf<Answer<'listTasks'>['items']>().toEqualTypeOf<TaskView[]>();
    expectTypeOf<Answer<'getRun'>>().toEqualTypeOf<RunView>();
    expectTypeOf<Answer<'listRuns'>['items']>().toEqualTypeOf<RunView[]>();
    expectTypeOf<Answer<'runNow'>>().toEqualTypeOf<z.infer<typeof RunAcceptedSchema>>();
    expectTypeOf<Answer<'cancel'>>().toEqualTypeOf<z.infer<typeof RunAcceptedSchema>>();
    expectTypeOf<Answer<'scheduler'>>().toEqualTypeOf<z.infer<typeof SchedulerViewSchema>>();
    expectTypeOf<Answer<'taskTypes'>['items']>().toEqualTypeOf<z.infer<typeof TaskTypeViewSchema>[]>();
    expectTypeOf<Answer<'preview'>>().toEqualTypeOf<z.infer<typeof PreviewSchema>>();
  });

  it('the end-to-end client reads the same views', () => {
    expectTypeOf<Run>().toEqualTypeOf<RunView>();
    expectTypeOf<Task>().toEqualTypeOf<TaskView>();
  });

  it('a field the API does not have is a type error, not undefined', () => {
    // @ts-expect-error: no such field on the task view
    expectTypeOf<TaskView>().toHaveProperty('nextRun');
    expectTypeOf<RunView['status']>().toEqualTypeOf<
      | 'queued'
      | 'dispatched'
      | 'running'
      | 'succeeded'
      | 'failed'
      | 'cancelled'
      | 'timed-out'
      | 'skipped'
      | 'missed'
    >();
  });
});
