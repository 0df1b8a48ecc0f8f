/**
 * What keeps a claimed run alive while its task body works: heartbeats that extend the run's own
 * lease, flush progress and read the cancel flag, and the cancellation token (`AbortSignal`) they
 * and the Lambda's deadline fire.
 *
 * ```
 *  handler   claim            beat            beat  prog.   beat (carries the progress)
 *  ──────────┬────────────────┬───────────────┬─────┬───────┬────────────────────────► time
 *            │<── interval ──>│<── interval ─>│<─ flushMs ─>│
 *  run lease [════ leaseDurationMs ════)
 *                             [════ leaseDurationMs ════)
 *                                             [════ leaseDurationMs ════)
 *                                                           [════ leaseDurationMs ════)
 *  tick      reads the run's lease once the task's lease (timeout + slack) has ended: still
 *            ahead → looks again at its end; ended with no beat since (crash, hang) → timed-out
 *
 *  (prog.: the task calls setProgress; flushMs: progressFlushMs)
 *
 *  signal    a beat's answer says cancelRequested ─────────────────► abort('cancelled')
 *            remaining time < deadlineMarginMs (a timer) ──────────► abort('deadline')
 *            a beat refused (held: false), or no beat landed
 *              before the lease the run holds ended ───────────────► abort('lease-lost'); beats stop
 * ```
 *
 * Every store write is a heartbeat: one request extends the lease, stores the latest progress and
 * returns the cancel flag. Writes are sequential (never two in flight) and at least
 * `progressFlushMs` apart, whatever the task's `setProgress` rate. The lease lasts
 * {@link runLeaseMs} (three intervals, at least 30 s), so two lost beats (throttling, a busy event
 * loop) never let the tick reclaim a healthy run.
 */
import type { CancelReason, Progress } from '../core/model.js';
import type { Clock, Logger, RunFence, TaskStore } from '../core/ports.js';
import { TaskCancelledError } from './errors.js';

const maxTimerMs = 2_147_483_647;

/** Floor of a run's lease, whatever the heartbeat interval. */
export const minRunLeaseMs = 30_000;

/** The run lease a heartbeat interval needs: three intervals, and never under 30 s. */
export function runLeaseMs(heartbeatIntervalMs: number): number {
  return Math.max(3 * heartbeatIntervalMs, minRunLeaseMs);
}

/** The lease's logger: the one `Logger` port (the name stays for existing callers). */
export type LeaseLogger = Logger;

export interface RunLeaseOptions {
  store: Pick<TaskStore, 'heartbeat'>;
  clock: Clock;
  taskId: string;
  runId: string;
  fence: RunFence;
  /** The lease the claim wrote. */
  leaseExpiresAt: Date;
  heartbeatIntervalMs: number;
  progressFlushMs: number;
  /** How long each heartbeat extends the lease from its own instant. */
  leaseDurationMs: number;
  /** The Lambda's remaining time, in ms. */
  remainingTimeMs: () => number;
  deadlineMarginMs: number;
  logger?: Logger;
}

/**
 * The heartbeat loop and cancellation token of one claimed run. `start()` after the claim,
 * `stop()` (awaited) before the completion, so no heartbeat races the completion's write.
 */
export class RunLease {
  /** Heartbeat writes sent, for tests and metrics. */
  writes = 0;
  private readonly controller = new AbortController();
  private reason: CancelReason | undefined;
  private expiresAtMs: number;
  private lastWriteMs: number;
  private latest: Progress | undefined;
  private dirty = false;
  private stopped = false;
  private beatTimer: ReturnType<typeof setTimeout> | undefined;
  private deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly options: RunLeaseOptions) {
    this.expiresAtMs = options.leaseExpiresAt.getTime();
    // The claim was the first write: the first beat is one interval after it.
    this.lastWriteMs = options.clock.now().getTime();
  }

  /** Aborts with a {@link TaskCancelledError} saying why. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the signal fired, once it has. */
  get cancelReason(): CancelReason | undefined {
    return this.reason;
  }

  /** The latest progress the task reported (flushed or not). */
  get progress(): Progress | undefined {
    return this.latest;
  }

  /** Starts heartbeats and the deadline timer. */
  start(): void {
    const untilDeadline = this.options.remainingTimeMs() - this.options.deadlineMarginMs;
    if (untilDeadline <= 0) this.abort('deadline');
    // Beyond setTimeout's range (about 24.8 days) there is no Lambda deadline worth a timer.
    else if (untilDeadline <= maxTimerMs)
      this.deadlineTimer = setTimeout(() => this.abort('deadline'), untilDeadline);
    this.schedule();
  }

  /** Records progress; it reaches the store with the next write, at most `progressFlushMs` after the last. */
  setProgress(progress: Progress): void {
    this.latest = progress;
    if (this.dirty) return; // a write is already planned and will carry the latest value
    this.dirty = true;
    this.schedule();
  }

  /** Stops heartbeats and waits for one in flight, so the completion is the run's last write. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.beatTimer);
    clearTimeout(this.deadlineTimer);
    await this.inFlight;
  }

  /** Fires the signal with `reason` (the run's own deadline, `timeout`); the first reason stays. */
  cancel(reason: CancelReason): void {
    this.abort(reason);
  }

  private abort(reason: CancelReason): void {
    if (this.controller.signal.aborted) return;
    this.reason = reason;
    this.options.logger?.info('run signal aborted', { cancelReason: reason });
    this.controller.abort(new TaskCancelledError(reason, this.options.taskId, this.options.runId));
  }

  private schedule(): void {
    if (this.stopped || this.inFlight) return; // a beat in flight schedules the next when it lands
    clearTimeout(this.beatTimer);
    const { heartbeatIntervalMs, progressFlushMs } = this.options;
    const dueMs =
      this.lastWriteMs + (this.dirty ? Math.min(progressFlushMs, heartbeatIntervalMs) : heartbeatIntervalMs);
    const delay = Math.max(0, dueMs - this.options.clock.now().getTime());
    this.beatTimer = setTimeout(() => {
      this.inFlight = this.beat().finally(() => {
        this.inFlight = undefined;
        this.schedule();
      });
    }, delay);
  }

  private async beat(): Promise<void> {
    const { store, clock, taskId, runId, fence, leaseDurationMs, logger } = this.options;
    const now = clock.now();
    const leaseExpiresAt = new Date(now.getTime() + leaseDurationMs);
    const progress = this.dirty ? this.latest : undefined;
    this.dirty = false;
    this.lastWriteMs = now.getTime();
    this.writes++;
    try {
      const answer = await store.heartbeat(taskId, runId, fence, {
        now,
        leaseExpiresAt,
        ...(progress ? { progress } : {}),
      });
      if (!answer.held) {
        logger?.warn('heartbeat refused: the run lost its lease', { status: answer.status });
        this.stopped = true;
        this.abort('lease-lost');
        return;
      }
      this.expiresAtMs = leaseExpiresAt.getTime();
      if (answer.cancelRequested) this.abort('cancelled');
    } catch (error) {
      if (progress && !this.dirty) this.dirty = true; // send it again with the next beat
      // A failed write (throttling, network) leaves the lease as it was; past its end the tick
      // may reclaim the run at any moment, so the task must stop.
      const expired = clock.now().getTime() >= this.expiresAtMs;
      logger?.warn('heartbeat failed', { error: (error as Error).message, leaseExpired: expired });
      if (expired) {
        this.stopped = true;
        this.abort('lease-lost');
      }
    }
  }
}
