/**
 * Every `code` a Tickwork error carries: the API sends it to clients (`src/api/errors.ts` gives
 * each one it answers with a status). `task_cancelled` and `invalid_run_event` stay inside a task
 * handler.
 */
export type ErrorCode =
  // Refusals of the domain
  | 'validation_failed'
  | 'invalid_schedule'
  | 'unknown_task_type'
  | 'task_read_only'
  | 'task_not_found'
  | 'run_not_found'
  | 'conflict'
  | 'version_conflict'
  | 'run_active'
  | 'nothing_running'
  | 'logs_not_found'
  // The API's own refusals of a request
  | 'invalid_json'
  | 'route_not_found'
  | 'method_not_allowed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  // Roles: the caller lacks the role the route needs
  | 'forbidden_role'
  // The local runtime's refusals of a request (tickwork dev)
  | 'unauthorized'
  | 'forbidden_origin'
  | 'headers_too_large'
  | 'bad_request'
  // Failures
  | 'internal'
  | 'unavailable'
  // Inside a task handler
  | 'task_cancelled'
  | 'invalid_run_event';

/**
 * Base of every error Tickwork throws on purpose. `code` is what the API sends to clients; every
 * subclass accepts `{ cause }` to keep the error it translates.
 */
export class TickworkError extends Error {
  override readonly name: string = 'TickworkError';
  readonly code: ErrorCode = 'internal';
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
  override readonly code: ErrorCode = 'validation_failed';
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options?: ErrorOptions) {
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
  constructor(
    readonly taskId: string,
    options?: ErrorOptions,
  ) {
    super(`task ${taskId} does not exist`, options);
  }
}

export class RunNotFoundError extends TickworkError {
  override readonly name = 'RunNotFoundError';
  override readonly code = 'run_not_found';
  constructor(
    readonly taskId: string,
    readonly runId: string,
    options?: ErrorOptions,
  ) {
    super(`run ${runId} of task ${taskId} does not exist`, options);
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
    options?: ErrorOptions,
  ) {
    super(`task ${taskId} is at version ${actualVersion ?? 'none'}, not ${expectedVersion}`, options);
  }
}

/** A state conflict other than a version mismatch (a run is active, nothing to cancel...). */
export class ConflictError extends TickworkError {
  override readonly name = 'ConflictError';
  override readonly code: ErrorCode = 'conflict';
  constructor(
    message: string,
    readonly taskId?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** System tasks cannot be changed through the API. */
export class ReadOnlyTaskError extends TickworkError {
  override readonly name = 'ReadOnlyTaskError';
  override readonly code = 'task_read_only';
  constructor(
    readonly taskId: string,
    options?: ErrorOptions,
  ) {
    super(`task ${taskId} is a system task and is read-only`, options);
  }
}

/** The task's type is not in the registry. */
export class UnknownTaskTypeError extends ValidationError {
  override readonly name = 'UnknownTaskTypeError';
  override readonly code = 'unknown_task_type';
  constructor(
    readonly type: string,
    readonly registered: string[],
    options?: ErrorOptions,
  ) {
    super(
      [
        {
          field: 'type',
          message: `${type} is not a registered task type; registered: ${registered.join(', ') || '(none)'}`,
        },
      ],
      options,
    );
  }
}

/**
 * A backing service throttled or failed for a while: the same call may well succeed later. The
 * adapter that talks to the service translates its errors into this (the original is `cause`).
 */
export class UnavailableError extends TickworkError {
  override readonly name: string = 'UnavailableError';
  override readonly code = 'unavailable';
}

/**
 * The task store throttled the call or could not serve it: DynamoDB's throughput or request
 * limits, a transaction cancelled by throttling alone, an internal error. A throttled write did
 * not happen; after an internal error it may have. Every store write is conditional, so a retry
 * finds out either way.
 */
export class StoreUnavailableError extends UnavailableError {
  override readonly name = 'StoreUnavailableError';
}
