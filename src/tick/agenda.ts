/**
 * The look-ahead tick's agenda: work held until its instant. A tick that takes leases ahead of
 * their slots keeps each run's invoke here and sends it at the slot's instant; runs due at the
 * same instant go in priority order, through the tick's concurrency limit.
 *
 * Before it invokes anything at an instant, the agenda asks whether the scheduler was paused
 * since the leases were taken (one read per instant, cached for a second); if so it withdraws the
 * runs instead (see `withdrawRun` in `run-tick.ts`). The read is made {@link PAUSE_CHECK_LEAD_MS}
 * before the instant, so the instant itself waits for no round trip: a pause that lands in that
 * last fraction of a second is obeyed from the next instant on.
 */
import type { LimitFunction } from 'p-limit';
import type { Clock, TaskStore } from '../core/ports.js';

/** How long before an instant the agenda reads whether the scheduler is paused. */
export const PAUSE_CHECK_LEAD_MS = 200;

/** One run's invoke held until its instant, and what to do instead when the scheduler is paused. */
export interface AgendaEntry {
  priority: number;
  run: () => Promise<void>;
  withdraw: () => Promise<void>;
}

interface Instant {
  entries: (AgendaEntry & { settle: (error?: unknown) => void })[];
}

/** Waits until an instant of the clock. */
export type SleepUntil = (at: Date) => Promise<void>;

/**
 * A timer against `clock`: resolves once the clock reads `at` or later. Timers may fire a hair
 * early, so it looks again, a few times at most (a clock that does not move, as in some tests,
 * must not hold it forever).
 */
export function clockSleep(clock: Clock): SleepUntil {
  return async (at) => {
    for (let round = 0; round < 5; round++) {
      const wait = at.getTime() - clock.now().getTime();
      if (wait <= 0) return;
      await new Promise((done) => setTimeout(done, wait + (round === 0 ? 0 : 1)));
    }
  };
}

export class Agenda {
  private readonly instants = new Map<number, Instant>();
  private pausedAt: { checkedMs: number; paused: boolean } | undefined;

  constructor(
    private readonly deps: { clock: Clock; store: TaskStore },
    private readonly limit: LimitFunction,
    private readonly sleepUntil: SleepUntil,
    private readonly onError: (message: string) => void,
  ) {}

  /** Runs `entry` at `at` (now, when `at` has passed); settles when it ran or was withdrawn. */
  at(at: Date, entry: AgendaEntry): Promise<void> {
    if (at.getTime() <= this.deps.clock.now().getTime()) return this.limit(entry.run);
    return new Promise<void>((resolve, reject) => {
      const ms = at.getTime();
      let instant = this.instants.get(ms);
      if (!instant) {
        const created: Instant = { entries: [] };
        instant = created;
        this.instants.set(ms, created);
        void this.sleepUntil(new Date(ms - PAUSE_CHECK_LEAD_MS))
          .then(() => this.paused())
          .then(async (paused) => {
            await this.sleepUntil(at);
            await this.fire(ms, created, paused);
          });
      }
      instant.entries.push({
        ...entry,
        settle: (error) => (error === undefined ? resolve() : reject(error)),
      });
    });
  }

  /** Instants still waiting. */
  get waiting(): number {
    return this.instants.size;
  }

  private async fire(ms: number, instant: Instant, paused: boolean): Promise<void> {
    this.instants.delete(ms);
    const entries = instant.entries.sort((a, b) => b.priority - a.priority);
    await Promise.all(
      entries.map((entry) =>
        this.limit(paused ? entry.withdraw : entry.run).then(
          () => entry.settle(),
          (error: unknown) => entry.settle(error ?? new Error('agenda entry failed')),
        ),
      ),
    );
  }

  /** Whether the scheduler is paused now: one read a second at most; a failed read counts as running. */
  private async paused(): Promise<boolean> {
    const now = this.deps.clock.now().getTime();
    if (this.pausedAt && now - this.pausedAt.checkedMs < 1_000) return this.pausedAt.paused;
    try {
      const paused = (await this.deps.store.getSchedulerState()).paused;
      this.pausedAt = { checkedMs: now, paused };
      return paused;
    } catch (error) {
      this.onError(`reading the scheduler state before invoking failed: ${(error as Error).message}`);
      return false;
    }
  }
}
