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
 *
 * **Sending ahead.** One process sends invokes at a bounded rate (the SDK's work per Invoke), so
 * a burst of many runs at one instant would start its last run late by the burst's length. With
 * `sendAhead`, an instant with more runs than fit in {@link SendAhead.tailMs} at the measured pace
 * starts sending early by the difference (at most {@link SendAhead.maxMs}): the events it sends
 * before the instant carry their lease's dispatch instant, and the task SDK holds each one until
 * then before it claims (`holdUntilInstant` in `src/task/handler.ts`). So the first runs wait in
 * their handlers and the last are accepted within the tail after the instant. An instant sent
 * early is checked for a pause again {@link PAUSE_CHECK_LEAD_MS} before it: paused, its runs are
 * withdrawn (recorded `cancelled`), and the held handlers' claims find the records and drop them.
 */
import type { LimitFunction } from 'p-limit';
import type { Clock, TaskStore } from '../core/ports.js';

/** How long before an instant the agenda reads whether the scheduler is paused. */
export const PAUSE_CHECK_LEAD_MS = 200;

/** How far a send time must move before an instant's timer is set again. */
const LEAD_STEP_MS = 25;

/** An instant needs this many runs before its send time teaches the pace (fewer: latency, not rate). */
const PACE_SAMPLE_MIN = 50;

/**
 * The time one more invoke adds to a burst, learned from the bursts this process sent (an
 * exponentially weighted mean). Keep one per process, so a warm tick starts from what it learned.
 */
export class InvokePace {
  constructor(private ms = 1) {}

  /** Milliseconds per invoke when many go at once. */
  get msPerInvoke(): number {
    return this.ms;
  }

  /**
   * `count` invokes took `elapsedMs` to send and be accepted. One burst moves the pace by at most
   * half or double: a burst slowed by something else (a cold start, the tick's own writes in
   * flight) must not make the next one wait seconds in its handlers.
   */
  observe(count: number, elapsedMs: number): void {
    if (count < PACE_SAMPLE_MIN || !(elapsedMs > 0)) return;
    const seen = Math.min(this.ms * 2, Math.max(this.ms / 2, elapsedMs / count));
    this.ms = 0.5 * this.ms + 0.5 * seen;
  }
}

/** When the runs of a large instant may be sent before it (see the module's comment). */
export interface SendAhead {
  /** Earliest an instant's first invoke goes, before it, ms. 0: every invoke at its instant. */
  maxMs: number;
  /** How much of a burst may still be sent after its instant, ms. */
  tailMs: number;
  pace: InvokePace;
  /** Told how many runs an instant sent ahead. */
  onSentAhead?: (count: number) => void;
}

/** One run's invoke held until its instant, and what to do instead when the scheduler is paused. */
export interface AgendaEntry {
  priority: number;
  run: () => Promise<void>;
  withdraw: () => Promise<void>;
}

interface Instant {
  entries: (AgendaEntry & { settle: (error?: unknown) => void })[];
  /** The lead its send time was last set by, and how to wake it to set it again. */
  lead?: number;
  wake?: () => void;
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
    private readonly sendAhead: SendAhead = { maxMs: 0, tailMs: 0, pace: new InvokePace() },
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
        void this.schedule(ms, created);
      }
      instant.entries.push({
        ...entry,
        settle: (error) => (error === undefined ? resolve() : reject(error)),
      });
      if (instant.wake && this.leadFor(instant.entries.length) - (instant.lead ?? 0) >= LEAD_STEP_MS)
        instant.wake();
    });
  }

  /** Instants still waiting. */
  get waiting(): number {
    return this.instants.size;
  }

  /** How long before the instant its first invoke goes, for `count` runs (0 when they fit the tail). */
  leadFor(count: number): number {
    const { maxMs, tailMs, pace } = this.sendAhead;
    if (maxMs <= 0) return 0;
    return Math.round(Math.min(maxMs, Math.max(0, count * pace.msPerInvoke - tailMs)));
  }

  /**
   * Waits for the instant's send time, then fires it. The lead follows the runs in: a tick is
   * often still writing an instant's leases when its send time nears, so each run added may bring
   * the send time forward (see `at`, which wakes this when it moved by more than a little).
   */
  private async schedule(ms: number, instant: Instant): Promise<void> {
    let lead = this.leadFor(instant.entries.length);
    while (this.deps.clock.now().getTime() < ms - lead - PAUSE_CHECK_LEAD_MS) {
      const woken = new Promise<void>((wake) => {
        instant.wake = wake;
      });
      instant.lead = lead;
      await Promise.race([this.sleepUntil(new Date(ms - lead - PAUSE_CHECK_LEAD_MS)), woken]);
      instant.wake = undefined;
      const now = this.leadFor(instant.entries.length);
      if (now === lead) break;
      lead = now;
    }
    const paused = await this.paused();
    await this.sleepUntil(new Date(ms - lead));
    await this.fire(ms, instant, paused, lead);
  }

  private async fire(ms: number, instant: Instant, paused: boolean, lead: number): Promise<void> {
    this.instants.delete(ms);
    const entries = instant.entries.sort((a, b) => b.priority - a.priority);
    // Sent before the instant: each waits for the pause check just before it (below).
    const early = !paused && lead > 0;
    if (early) this.sendAhead.onSentAhead?.(entries.length);
    const began = performance.now();
    const outcomes = await Promise.all(
      entries.map((entry) =>
        this.limit(paused ? entry.withdraw : entry.run)
          .then(
            () => undefined,
            (error: unknown) => error ?? new Error('agenda entry failed'),
          )
          .then((outcome) => {
            if (!early) entry.settle(outcome);
            return outcome;
          }),
      ),
    );
    if (!paused) this.sendAhead.pace.observe(entries.length, performance.now() - began);
    if (!early) return;
    await this.pausedBeforeInstant(ms, entries);
    for (const [i, entry] of entries.entries()) entry.settle(outcomes[i]);
  }

  /** A fresh pause check just before an instant whose runs went early; paused, they are withdrawn. */
  private async pausedBeforeInstant(ms: number, entries: readonly AgendaEntry[]): Promise<void> {
    await this.sleepUntil(new Date(ms - PAUSE_CHECK_LEAD_MS));
    this.pausedAt = undefined;
    if (!(await this.paused())) return;
    await Promise.all(entries.map((entry) => this.limit(entry.withdraw).catch(() => undefined)));
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
