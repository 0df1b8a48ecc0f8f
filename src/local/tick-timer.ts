/**
 * The local counterpart of the tick's EventBridge Scheduler schedule: a timer that fires on
 * wall-clock boundaries (every minute at :00 by default, or every `intervalMs`), never runs two
 * ticks at once in this process (a boundary that comes while a tick is still going is skipped),
 * and does nothing while the scheduler is paused.
 *
 * The paused flag lives in the table's scheduler state, so every runtime sharing a table pauses
 * together (as the one schedule on AWS does) and a pause survives a restart.
 */
import type { SchedulerControl, TaskStore } from '../core/ports.js';

/** The next wall-clock boundary of `intervalMs` strictly after `nowMs`. */
export function nextBoundary(nowMs: number, intervalMs: number): number {
  return (Math.floor(nowMs / intervalMs) + 1) * intervalMs;
}

/** Timer-backed {@link SchedulerControl}: pausing stops scheduled ticks; run-now still dispatches. */
export class LocalSchedulerControl implements SchedulerControl {
  constructor(private readonly store: Pick<TaskStore, 'getSchedulerState' | 'updateSchedulerState'>) {}

  async state(): Promise<'running' | 'paused'> {
    return (await this.store.getSchedulerState()).paused ? 'paused' : 'running';
  }
  async pause(): Promise<void> {
    await this.store.updateSchedulerState({ paused: true });
  }
  async resume(): Promise<void> {
    await this.store.updateSchedulerState({ paused: false });
  }
}

export interface TickTimerOptions {
  intervalMs: number;
  /** One tick at the boundary `at`. */
  tick: (at: Date) => Promise<void>;
  /** Asked before each tick; a paused scheduler skips it. */
  paused: () => Promise<boolean>;
  /** A tick (or the paused check) threw. */
  onError: (error: unknown) => void;
  /** A boundary came while the previous tick was still running. */
  onOverlap?: (at: Date) => void;
  /**
   * Ticks that may run at once (default 1). A look-ahead tick lasts a little longer than its
   * interval (it waits for the runs it leased ahead), so the local runtime allows two.
   */
  maxInFlight?: number;
}

/** Fires ticks on wall-clock boundaries. */
export class TickTimer {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();
  private stopped = true;
  /** Ticks run, and boundaries skipped because a tick was still going (for tests and reports). */
  readonly counts = { ticks: 0, overlaps: 0 };

  constructor(private readonly options: TickTimerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const target = nextBoundary(Date.now(), this.options.intervalMs);
    this.arm(target);
  }

  private arm(target: number): void {
    // Timers run on a monotonic clock and may fire a hair before the wall clock reaches the
    // boundary; a task due at the boundary must be due when the tick reads the time.
    this.timer = setTimeout(
      () => {
        if (Date.now() < target) {
          this.arm(target);
          return;
        }
        this.fire(new Date(target));
        this.schedule();
      },
      Math.max(0, target - Date.now() + 2),
    );
  }

  private fire(at: Date): void {
    if (this.running.size >= (this.options.maxInFlight ?? 1)) {
      this.counts.overlaps++;
      this.options.onOverlap?.(at);
      return;
    }
    const running = (async () => {
      try {
        if (await this.options.paused()) return;
        this.counts.ticks++;
        await this.options.tick(at);
      } catch (error) {
        this.options.onError(error);
      }
    })();
    this.running.add(running);
    void running.then(() => this.running.delete(running));
  }

  /** Stops firing and waits for a tick in progress to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all(this.running);
  }
}
