import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HeartbeatResult, TaskStore } from '../../src/core/ports.js';
import { TaskCancelledError } from '../../src/task/errors.js';
import { RunLease, type RunLeaseOptions, runLeaseMs } from '../../src/task/run-lease.js';
import { at, T0 } from '../support/builders.js';

type Beat = Parameters<TaskStore['heartbeat']>;

/** A store whose heartbeat answers what the test says, recording every call. */
function fakeStore(
  answer: () => HeartbeatResult | Promise<HeartbeatResult> = () => ({ held: true, cancelRequested: false }),
) {
  const calls: Beat[] = [];
  return {
    calls,
    heartbeat: vi.fn(async (...args: Beat) => {
      calls.push(args);
      return answer();
    }),
  };
}

function lease(store: Pick<TaskStore, 'heartbeat'>, overrides: Partial<RunLeaseOptions> = {}): RunLease {
  return new RunLease({
    store,
    clock: { now: () => new Date() },
    taskId: 'task-1',
    runId: 'run-1',
    fence: { token: 3, requestId: 'req-1' },
    leaseExpiresAt: at(30_000),
    heartbeatIntervalMs: 5_000,
    progressFlushMs: 1_000,
    leaseDurationMs: runLeaseMs(5_000),
    remainingTimeMs: () => 900_000,
    deadlineMarginMs: 10_000,
    ...overrides,
  });
}

describe('RunLease', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('heartbeats every interval, extending the lease from each beat', async () => {
    const store = fakeStore();
    const l = lease(store);
    l.start();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(store.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(5_000);
    await l.stop();

    expect(store.calls.map(([, , fence, u]) => [fence, u.now, u.leaseExpiresAt, u.progress])).toEqual([
      [{ token: 3, requestId: 'req-1' }, at(5_000), at(35_000), undefined],
      [{ token: 3, requestId: 'req-1' }, at(10_000), at(40_000), undefined],
    ]);
  });

  it('writes progress at most once per progressFlushMs, always the latest value', async () => {
    const store = fakeStore();
    const l = lease(store);
    l.start();
    for (let i = 1; i <= 50; i++) {
      l.setProgress({ value: i, max: 50, updatedAt: new Date() });
      await vi.advanceTimersByTimeAsync(10);
    }
    await vi.advanceTimersByTimeAsync(1_000);
    l.setProgress({ value: 51, updatedAt: new Date() });
    await vi.advanceTimersByTimeAsync(1_000);
    await l.stop();

    expect(store.calls.map(([, , , u]) => [u.now, u.progress?.value])).toEqual([
      [at(1_000), 50],
      [at(2_000), 51],
    ]);
    expect(l.progress?.value).toBe(51);
  });

  it('aborts with cancelled when a heartbeat reads the cancel flag', async () => {
    const store = fakeStore(() => ({ held: true, cancelRequested: true }));
    const l = lease(store);
    l.start();
    await vi.advanceTimersByTimeAsync(5_000);

    expect(l.signal.aborted).toBe(true);
    expect(l.cancelReason).toBe('cancelled');
    expect(l.signal.reason).toBeInstanceOf(TaskCancelledError);
    expect((l.signal.reason as TaskCancelledError).reason).toBe('cancelled');
    // Heartbeats go on until the body ends, so the completion still holds the lease.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(store.calls).toHaveLength(2);
    await l.stop();
  });

  it('aborts with lease-lost and stops beating when a heartbeat is refused', async () => {
    const store = fakeStore(() => ({ held: false, status: 'timed-out' }));
    const l = lease(store);
    l.start();
    await vi.advanceTimersByTimeAsync(20_000);
    await l.stop();

    expect(l.cancelReason).toBe('lease-lost');
    expect(store.calls).toHaveLength(1);
  });

  it('survives failed heartbeats until the lease it holds ends, then aborts with lease-lost', async () => {
    const store = fakeStore(() => {
      throw new Error('ThrottlingException');
    });
    const l = lease(store);
    l.start();
    await vi.advanceTimersByTimeAsync(25_000);
    expect(l.signal.aborted).toBe(false); // beats at 5, 10, 15, 20, 25 s failed; the claim's lease ends at 30 s
    await vi.advanceTimersByTimeAsync(5_000);
    await l.stop();

    expect(l.cancelReason).toBe('lease-lost');
    expect(store.calls).toHaveLength(6);
  });

  it('aborts with deadline when the remaining time falls below the margin', async () => {
    const end = T0.getTime() + 15_000;
    const l = lease(fakeStore(), { remainingTimeMs: () => end - Date.now() });
    l.start();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(l.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await l.stop();

    expect(l.cancelReason).toBe('deadline');
  });

  it('is aborted from the start when the Lambda has less than the margin left', async () => {
    const l = lease(fakeStore(), { remainingTimeMs: () => 9_000 });
    l.start();
    await l.stop();
    expect(l.cancelReason).toBe('deadline');
  });

  it('stop() waits for a heartbeat in flight and sends no more', async () => {
    let release!: () => void;
    const store = fakeStore(
      () =>
        new Promise<HeartbeatResult>((resolve) => {
          release = () => resolve({ held: true, cancelRequested: false });
        }),
    );
    const l = lease(store);
    l.start();
    await vi.advanceTimersByTimeAsync(5_000);
    let stopped = false;
    const stopping = l.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await vi.advanceTimersByTimeAsync(60_000);

    expect(store.calls).toHaveLength(1);
  });
});
