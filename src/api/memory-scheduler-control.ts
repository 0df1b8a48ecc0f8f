import type { SchedulerControl } from '../core/ports.js';

/** A {@link SchedulerControl} that only remembers the state: for tests. */
export class MemorySchedulerControl implements SchedulerControl {
  constructor(private paused = false) {}
  async state(): Promise<'running' | 'paused'> {
    return this.paused ? 'paused' : 'running';
  }
  async pause(): Promise<void> {
    this.paused = true;
  }
  async resume(): Promise<void> {
    this.paused = false;
  }
}
