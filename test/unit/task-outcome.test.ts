import { describe, expect, it } from 'vitest';
import { idempotencyKeyOf, parseRunEvent } from '../../src/core/run-event.js';
import { TaskCancelledError } from '../../src/task/errors.js';
import { InvalidRunEventError } from '../../src/task/index.js';
import { cloudWatchLogsUrl } from '../../src/task/logs-link.js';
import {
  isCancellation,
  maxErrorBytes,
  maxResultBytes,
  outcomeOf,
  resultMessage,
  runErrorOf,
  truncateUtf8,
} from '../../src/task/outcome.js';
import { runLeaseMs } from '../../src/task/run-lease.js';
import { at, T0 } from '../support/builders.js';

const event = {
  tickwork: 1,
  taskId: 'task-1',
  runId: '01JQ0000000000000000000000',
  type: 'Acme.CleanupFiles',
  scheduledFor: T0.toISOString(),
  dispatchedAt: at(100).toISOString(),
  attempt: 1,
  trigger: 'schedule',
  parameters: { bucket: 'b', nested: { list: [1, null, true] } },
  token: 7,
  leaseExpiresAt: at(360_000).toISOString(),
  historyRetentionDays: 30,
};

describe('resultMessage', () => {
  it('keeps nothing for undefined and null, a string as is, anything else as JSON', () => {
    expect(resultMessage(undefined)).toBeUndefined();
    expect(resultMessage(null)).toBeUndefined();
    expect(resultMessage('3 files deleted')).toBe('3 files deleted');
    expect(resultMessage({ deleted: 3 })).toBe('{"deleted":3}');
    expect(resultMessage(42)).toBe('42');
  });

  it('caps the message at 4 KB of UTF-8, never cutting a character', () => {
    const long = resultMessage('é'.repeat(5000)) as string;
    expect(Buffer.byteLength(long, 'utf8')).toBeLessThanOrEqual(maxResultBytes);
    expect(long.endsWith('…')).toBe(true);
    expect(long.slice(0, -1)).toMatch(/^é+$/);
  });

  it('keeps a hint when the value cannot be serialised', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(resultMessage(circular)).toMatch(/^\[result not serialisable/);
    expect(resultMessage(10n)).toMatch(/^\[result not serialisable/);
  });
});

describe('runErrorOf', () => {
  it('records name, message and a stack excerpt of at most 4 KB', () => {
    const error = new RangeError('x'.repeat(10_000));
    const recorded = runErrorOf(error);
    expect(recorded.name).toBe('RangeError');
    expect(Buffer.byteLength(recorded.message, 'utf8')).toBeLessThanOrEqual(maxErrorBytes);
    expect(Buffer.byteLength(recorded.stack ?? '', 'utf8')).toBeLessThanOrEqual(maxErrorBytes);
  });

  it('follows the cause into the stack excerpt', () => {
    const recorded = runErrorOf(new Error('outer', { cause: new TypeError('inner') }));
    expect(recorded.stack).toContain('Caused by: TypeError: inner');
  });

  it('records a thrown non-error as its text', () => {
    expect(runErrorOf('nope')).toEqual({ name: 'NonErrorThrown', message: 'nope' });
    expect(runErrorOf({ code: 1 })).toEqual({ name: 'NonErrorThrown', message: '{"code":1}' });
  });
});

describe('isCancellation', () => {
  const aborted = () => {
    const controller = new AbortController();
    controller.abort(new TaskCancelledError('cancelled', 't', 'r'));
    return controller.signal;
  };

  it('recognises the signal reason, TaskCancelledError and AbortError, also as a cause', () => {
    const signal = aborted();
    expect(isCancellation(signal.reason, signal)).toBe(true);
    expect(isCancellation(new TaskCancelledError('deadline', 't', 'r'))).toBe(true);
    expect(isCancellation(new DOMException('aborted', 'AbortError'))).toBe(true);
    expect(isCancellation(new Error('wrapped', { cause: signal.reason }))).toBe(true);
    expect(isCancellation(new Error('boom'), signal)).toBe(false);
  });
});

describe('outcomeOf', () => {
  const timing = { startedAt: T0, finishedAt: at(1500), deadlineMarginMs: 10_000 };

  it('succeeds with the result when the body returns', () => {
    expect(outcomeOf({ returned: true, value: { n: 1 } }, { ...timing, cancelReason: undefined })).toEqual({
      status: 'succeeded',
      finishedAt: at(1500),
      durationMs: 1500,
      result: '{"n":1}',
    });
  });

  it('fails with the error when the body throws and nothing was cancelled', () => {
    const outcome = outcomeOf(
      { returned: false, error: new Error('boom') },
      { ...timing, cancelReason: undefined },
    );
    expect(outcome).toMatchObject({ status: 'failed', error: { name: 'Error', message: 'boom' } });
  });

  it('records cancelled, with a note naming the reason, when the body returns or aborts after the signal', () => {
    for (const reason of ['cancelled', 'deadline', 'lease-lost'] as const) {
      const returned = outcomeOf({ returned: true, value: 'partial' }, { ...timing, cancelReason: reason });
      expect(returned).toMatchObject({ status: 'cancelled', result: 'partial', cancelReason: reason });
      expect(returned.note).toContain(reason === 'cancelled' ? 'cancellation was requested' : reason);
      const aborted = outcomeOf(
        { returned: false, error: new DOMException('aborted', 'AbortError') },
        { ...timing, cancelReason: reason },
      );
      expect(aborted.status).toBe('cancelled');
    }
  });

  it('still fails when the body throws an unrelated error after the signal fired', () => {
    const outcome = outcomeOf(
      { returned: false, error: new Error('disk full') },
      { ...timing, cancelReason: 'cancelled' },
    );
    expect(outcome.status).toBe('failed');
  });
});

describe('run events', () => {
  it('parses what the tick sends', () => {
    expect(parseRunEvent(event)).toEqual(event);
  });

  it('refuses anything else with InvalidRunEventError', () => {
    expect(() => parseRunEvent({ hello: 'world' })).toThrow(InvalidRunEventError);
    expect(() => parseRunEvent({ ...event, tickwork: 2 })).toThrow(/tickwork/);
    expect(() => parseRunEvent({ ...event, trigger: 'cron' })).toThrow(/trigger/);
    expect(() => parseRunEvent(null)).toThrow(InvalidRunEventError);
  });

  it('makes the idempotency key from the task id and the slot', () => {
    expect(idempotencyKeyOf(event)).toBe(`task-1:${T0.toISOString()}`);
  });
});

describe('cloudWatchLogsUrl', () => {
  it('links the log stream in the CloudWatch console, in its own encoding', () => {
    const url = cloudWatchLogsUrl({
      AWS_REGION: 'eu-west-1',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/demo',
      AWS_LAMBDA_LOG_STREAM_NAME: '2026/03/29/[$LATEST]abc',
    });
    expect(url).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1' +
        '#logsV2:log-groups/log-group/$252Faws$252Flambda$252Fdemo' +
        '/log-events/2026$252F03$252F29$252F$255B$2524LATEST$255Dabc',
    );
  });

  it('is absent outside Lambda', () => {
    expect(cloudWatchLogsUrl({})).toBeUndefined();
  });
});

describe('runLeaseMs', () => {
  it('is three heartbeat intervals, never under 30 s', () => {
    expect(runLeaseMs(5_000)).toBe(30_000);
    expect(runLeaseMs(200)).toBe(30_000);
    expect(runLeaseMs(20_000)).toBe(60_000);
  });
});

describe('truncateUtf8', () => {
  it('leaves short text alone', () => {
    expect(truncateUtf8('abc', 3)).toBe('abc');
    expect(truncateUtf8('abcd', 3)).toBe('…');
  });
});
