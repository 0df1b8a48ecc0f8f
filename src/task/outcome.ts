/**
 * Turning what a task body did into what its run records: the result message, the error, and
 * whether an ending after the signal fired counts as a cancellation. Pure.
 */
import type { CancelReason, RunError } from '../core/model.js';
import type { RunOutcome } from '../core/ports.js';
import { TaskCancelledError } from './errors.js';

/** Longest result message a run keeps, in UTF-8 bytes. */
export const maxResultBytes = 4096;
/** Longest error message and stack excerpt a run keeps, each, in UTF-8 bytes. */
export const maxErrorBytes = 4096;

const ellipsis = '…';

/** Cuts `text` to at most `maxBytes` UTF-8 bytes, never inside a character, marking the cut with `…`. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > budget) break;
    bytes += size;
    end += char.length;
  }
  return `${text.slice(0, end)}${ellipsis}`;
}

/**
 * The result message of a run from what the task returned: nothing for `undefined` and `null`,
 * a string as is, anything else as JSON; at most {@link maxResultBytes}.
 */
export function resultMessage(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  let text: string | undefined;
  if (typeof value === 'string') text = value;
  else {
    try {
      text = JSON.stringify(value);
    } catch (error) {
      // A circular structure or a BigInt: keep a hint rather than fail a run that succeeded.
      text = `[result not serialisable: ${(error as Error).message}]`;
    }
  }
  return text === undefined ? undefined : truncateUtf8(text, maxResultBytes);
}

/** The stack without its first line when that line only repeats `name: message`. */
function stackExcerpt(error: Error): string | undefined {
  const stack = typeof error.stack === 'string' ? error.stack : undefined;
  if (!stack) return undefined;
  let text = stack;
  let cause: unknown = error.cause;
  for (let depth = 0; cause instanceof Error && depth < 3; depth++) {
    text += `\nCaused by: ${cause.stack ?? `${cause.name}: ${cause.message}`}`;
    cause = cause.cause;
  }
  return truncateUtf8(text, maxErrorBytes);
}

/** What a failed run records about what the task threw: name, message and at most 4 KB of stack. */
export function runErrorOf(thrown: unknown): RunError {
  if (thrown instanceof Error) {
    const stack = stackExcerpt(thrown);
    return {
      name: thrown.name || 'Error',
      message: truncateUtf8(String(thrown.message), maxErrorBytes),
      ...(stack ? { stack } : {}),
    };
  }
  let message: string;
  try {
    message = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown));
  } catch {
    message = String(thrown);
  }
  return { name: 'NonErrorThrown', message: truncateUtf8(message, maxErrorBytes) };
}

/**
 * Whether an error a task ended with is the cancellation itself: the signal's reason, a
 * {@link TaskCancelledError}, or an `AbortError` (what `fetch`, `timers/promises` and the AWS SDK
 * throw for an aborted signal), also when wrapped as the `cause` of another error.
 */
export function isCancellation(thrown: unknown, signal?: AbortSignal): boolean {
  let current: unknown = thrown;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    if (signal?.aborted && current === signal.reason) return true;
    if (current instanceof TaskCancelledError) return true;
    if (typeof current === 'object' && (current as { name?: unknown }).name === 'AbortError') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The note a cancelled run carries, saying why the signal fired. */
export function cancelNote(reason: CancelReason, deadlineMarginMs: number): string {
  switch (reason) {
    case 'cancelled':
      return 'cancelled: cancellation was requested and the task stopped';
    case 'deadline':
      return `cancelled (deadline): the Lambda's remaining time fell below the ${deadlineMarginMs} ms margin`;
    case 'lease-lost':
      return 'cancelled (lease-lost): the run lost its lease, the tick may have reclaimed it';
    case 'timeout':
      return "timed out: the run passed its task's timeoutSeconds";
  }
}

/** How the task body ended. */
export type BodyEnding = { returned: true; value: unknown } | { returned: false; error: unknown };

/** What a timed-out run records about its timeout. */
export interface TimeoutDetail {
  timeoutSeconds: number;
  graceMs: number;
}

/**
 * The outcome of a run whose `timeout` signal fired: `timed-out`, with a `TimeoutError`, and the
 * body's result when it returned (a partial result); `ending` absent when the body had not
 * stopped by the end of the grace period and the run is recorded without it.
 */
export function timedOutOutcome(
  ending: BodyEnding | undefined,
  detail: TimeoutDetail,
  timing: { finishedAt: Date; durationMs: number },
): Omit<RunOutcome, 'progress'> {
  const result = ending?.returned ? resultMessage(ending.value) : undefined;
  const how =
    ending === undefined
      ? `did not stop within the ${detail.graceMs} ms grace period; recorded without waiting for it`
      : ending.returned
        ? 'returned after the signal'
        : `stopped after the signal (${runErrorOf(ending.error).name})`;
  return {
    status: 'timed-out',
    ...timing,
    ...(result !== undefined ? { result } : {}),
    error: {
      name: 'TimeoutError',
      message: `the run passed its timeout of ${detail.timeoutSeconds} s`,
    },
    note: `timed out: the signal fired with reason timeout after ${detail.timeoutSeconds} s; the task ${how}`,
    cancelReason: 'timeout',
  };
}

/**
 * The run's outcome: `timed-out` when the signal fired for the task's `timeoutSeconds` (however
 * the body then ended, or when it did not), else `cancelled` when the signal fired and the task returned or ended with the
 * cancellation, else `succeeded` when it returned, else `failed`.
 */
export function outcomeOf(
  /** `abandoned`: the body had not stopped by the end of the timeout's grace period. */
  ending: BodyEnding | 'abandoned',
  input: {
    cancelReason: CancelReason | undefined;
    signal?: AbortSignal;
    startedAt: Date;
    finishedAt: Date;
    deadlineMarginMs: number;
    /** Set when the run has a deadline of its own (the task's `timeoutSeconds`). */
    timeout?: TimeoutDetail;
  },
): Omit<RunOutcome, 'progress'> {
  const timing = {
    finishedAt: input.finishedAt,
    durationMs: Math.max(0, input.finishedAt.getTime() - input.startedAt.getTime()),
  };
  // However the body ended once its time was up, the run did not finish its work in time.
  if (ending === 'abandoned' || (input.cancelReason === 'timeout' && input.timeout)) {
    const detail = input.timeout ?? { timeoutSeconds: 0, graceMs: 0 };
    return timedOutOutcome(ending === 'abandoned' ? undefined : ending, detail, timing);
  }
  const result = ending.returned ? resultMessage(ending.value) : undefined;
  if (input.cancelReason && (ending.returned || isCancellation(ending.error, input.signal))) {
    return {
      status: 'cancelled',
      ...timing,
      ...(result !== undefined ? { result } : {}),
      note: cancelNote(input.cancelReason, input.deadlineMarginMs),
      cancelReason: input.cancelReason,
    };
  }
  if (ending.returned) return { status: 'succeeded', ...timing, ...(result !== undefined ? { result } : {}) };
  return { status: 'failed', ...timing, error: runErrorOf(ending.error) };
}
