/**
 * The API's error vocabulary and the one place where errors become HTTP responses.
 *
 * Every refusal is `{"error": {"code", "message", "details": [...]}}`; `code` values are listed in
 * {@link errorCodes} (and so in docs/api.md). Nothing internal (stack, `JSON.stringify(error)`)
 * ever reaches a client: an unexpected error is a 500 `internal` with a fixed message.
 */
import type { ZodError } from 'zod';
import {
  TickworkError,
  type ErrorCode as TickworkErrorCode,
  ValidationError,
  type ValidationIssue,
} from '../core/errors.js';

/** HTTP status and meaning of every error code the API sends. */
export const errorCodes = {
  validation_failed: {
    status: 400,
    description:
      'A field, query parameter or header is missing, has the wrong type or is out of range; `details` names each field.',
  },
  invalid_json: { status: 400, description: 'The body is not valid JSON, or is nested too deeply.' },
  invalid_schedule: {
    status: 400,
    description:
      'The schedule expression, time zone or schedule window was refused (bad cron field, unknown zone, too frequent, never fires).',
  },
  unknown_task_type: {
    status: 400,
    description: 'The task type is not registered; the message lists the registered types.',
  },
  task_read_only: {
    status: 403,
    description:
      'System tasks cannot be changed or deleted through the API (they can be run and cancelled), and only a deploy sets `system`.',
  },
  forbidden_role: {
    status: 403,
    description:
      'The caller does not hold the role the route needs (`read`, `operate` or `admin`; with JWT authorization, the scope `tickwork/<role>` or a higher one). See docs/security.md.',
  },
  task_not_found: { status: 404, description: 'No task has this id.' },
  run_not_found: { status: 404, description: 'The task has no run with this id.' },
  logs_not_found: { status: 404, description: 'No logs are available for this run.' },
  route_not_found: { status: 404, description: 'No such route.' },
  method_not_allowed: { status: 405, description: 'The route exists but not with this method.' },
  conflict: {
    status: 409,
    description:
      'A task with this id exists, too many manual runs are queued, or the task kept changing while writing.',
  },
  version_conflict: { status: 409, description: 'The task is not at the version given in `If-Match`.' },
  run_active: {
    status: 409,
    description: 'The task has an active run; delete with `?force=true` to cancel it first.',
  },
  nothing_running: { status: 409, description: 'The task has no active or queued run to cancel.' },
  payload_too_large: { status: 413, description: 'The body is over 256 KiB.' },
  unsupported_media_type: {
    status: 415,
    description:
      'A body was sent with a content type other than `application/json` (locally, every POST, PATCH, PUT and DELETE needs that content type, body or not).',
  },
  unauthorized: {
    status: 401,
    description:
      'Local runtime listening beyond loopback: the request lacks `Authorization: Bearer <token>` with the token it printed at start.',
  },
  forbidden_origin: {
    status: 403,
    description:
      'Local runtime: the `Host` or `Origin` header names neither a loopback name with its port nor the address it serves on.',
  },
  headers_too_large: {
    status: 431,
    description: 'Local runtime: the URL or the headers are over 16 KiB.',
  },
  bad_request: {
    status: 400,
    description: 'Local runtime: the HTTP request could not be parsed (malformed, or an unknown method).',
  },
  internal: {
    status: 500,
    description:
      'An unexpected server error (never caused by the request alone); the message carries no detail.',
  },
  unavailable: {
    status: 503,
    description:
      "A backing service (DynamoDB, EventBridge Scheduler, the sign-in provider's discovery document) throttled or failed; retry later.",
  },
} as const satisfies { [C in TickworkErrorCode]?: { status: number; description: string } };

/** The codes the API answers with (every one a Tickwork error code). */
export type ErrorCode = keyof typeof errorCodes;

function isApiCode(code: TickworkErrorCode): code is ErrorCode {
  return Object.hasOwn(errorCodes, code);
}

/** An error the API answers with a given status and code. */
export class ApiError extends TickworkError {
  override readonly name = 'ApiError';
  override readonly code: ErrorCode;
  readonly status: number;
  readonly details: ValidationIssue[];
  constructor(
    code: ErrorCode,
    message: string,
    details: ValidationIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = code;
    this.status = errorCodes[code].status;
    this.details = details;
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  error: { code: string; message: string; details: ValidationIssue[] };
}

/** Turns zod issues into `{field, message}` pairs. */
export function issuesOf(error: ZodError, prefix?: string): ValidationIssue[] {
  const fieldOf = (path: PropertyKey[]) =>
    [prefix, ...path.map(String)].filter((p) => p !== undefined && p !== '').join('.') || '(body)';
  return error.issues.slice(0, 50).flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.slice(0, 20).map((key) => ({
          field: fieldOf([...issue.path, key.slice(0, 100)]),
          message: 'is not a known field',
        }))
      : [{ field: fieldOf(issue.path), message: issue.message.slice(0, 500) }],
  );
}

/** What a failure's body says: nothing internal. */
const failureMessages: Partial<Record<ErrorCode, string>> = {
  unavailable: 'a backing service is busy; retry later',
};

/**
 * Maps any thrown value to a status and body. Tickwork errors keep their code; a failure (a code
 * of status 500 and up, such as `unavailable` from a throttled store) and anything else get a
 * fixed message that reveals nothing internal.
 */
export function toErrorResponse(error: unknown): { status: number; body: ErrorBody; expected: boolean } {
  const body = (code: ErrorCode, message: string, details: ValidationIssue[] = []): ErrorBody => ({
    error: { code, message, details },
  });
  if (error instanceof ApiError) {
    return { status: error.status, body: body(error.code, error.message, error.details), expected: true };
  }
  if (error instanceof TickworkError && isApiCode(error.code)) {
    const { code } = error;
    const { status } = errorCodes[code];
    if (status < 500) {
      const details = error instanceof ValidationError ? error.issues : [];
      return { status, body: body(code, error.message, details), expected: true };
    }
    const message = failureMessages[code];
    if (message !== undefined) return { status, body: body(code, message), expected: false };
  }
  return { status: 500, body: body('internal', 'internal error'), expected: false };
}
