/** Base of every error Tickwork throws on purpose. `code` is what the API sends to clients. */
export class TickworkError extends Error {
  override readonly name: string = 'TickworkError';
  readonly code: string = 'internal';
}

/** One problem with an input: which field, and why. */
export interface ValidationIssue {
  /** Dotted path of the field, e.g. `schedule.minute` or `retry.maxAttempts`. */
  field: string;
  message: string;
}

/** An input was refused; `issues` names every field and reason. */
export class ValidationError extends TickworkError {
  override readonly name: string = 'ValidationError';
  override readonly code: string = 'validation_failed';
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options?: { cause?: unknown }) {
    super(issues.map((i) => `${i.field}: ${i.message}`).join('; '), options);
    this.issues = issues;
  }
}

/** A schedule expression, time zone or schedule window was refused. */
export class ScheduleValidationError extends ValidationError {
  override readonly name = 'ScheduleValidationError';
  override readonly code = 'invalid_schedule';
}

export class TaskNotFoundError extends TickworkError {
  override readonly name = 'TaskNotFoundError';
  override readonly code = 'task_not_found';
  constructor(readonly taskId: string) {
    super(`task ${taskId} does not exist`);
  }
}

export class RunNotFoundError extends TickworkError {
  override readonly name = 'RunNotFoundError';
  override readonly code = 'run_not_found';
  constructor(
    readonly taskId: string,
    readonly runId: string,
  ) {
    super(`run ${runId} of task ${taskId} does not exist`);
  }
}

/** The task changed since the caller read it (version compare-and-set lost). */
export class VersionConflictError extends TickworkError {
  override readonly name = 'VersionConflictError';
  override readonly code = 'version_conflict';
  constructor(
    readonly taskId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | undefined,
  ) {
    super(`task ${taskId} is at version ${actualVersion ?? 'none'}, not ${expectedVersion}`);
  }
}

/** A state conflict other than a version mismatch (a run is active, nothing to cancel...). */
export class ConflictError extends TickworkError {
  override readonly name = 'ConflictError';
  override readonly code: string = 'conflict';
  constructor(
    message: string,
    readonly taskId?: string,
  ) {
    super(message);
  }
}

/** System tasks cannot be changed through the API. */
export class ReadOnlyTaskError extends TickworkError {
  override readonly name = 'ReadOnlyTaskError';
  override readonly code = 'task_read_only';
  constructor(readonly taskId: string) {
    super(`task ${taskId} is a system task and is read-only`);
  }
}

/** The task's type is not in the registry. */
export class UnknownTaskTypeError extends ValidationError {
  override readonly name = 'UnknownTaskTypeError';
  override readonly code = 'unknown_task_type';
  constructor(
    readonly type: string,
    readonly registered: string[],
  ) {
    super([
      {
        field: 'type',
        message: `${type} is not a registered task type; registered: ${registered.join(', ') || '(none)'}`,
      },
    ]);
  }
}
