import type { TaskType } from '../core/model.js';
import type { Clock, TaskStore } from '../core/ports.js';

/**
 * The task-type registry as the tick and the API see it: read from the table once, then from
 * memory. A type it does not know makes it read again (at most once per `missRefreshMs`), so a
 * newly registered type works at once and an unknown one costs no read per tick.
 */
export class TaskTypeRegistry {
  private types = new Map<string, TaskType>();
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  /** Items read from the table so far, for reports. */
  itemsRead = 0;

  constructor(
    private readonly store: Pick<TaskStore, 'listTaskTypes'>,
    private readonly clock: Clock,
    private readonly options: { ttlMs?: number; missRefreshMs?: number } = {},
  ) {}

  /** Reads the registry now, whatever the cache holds. */
  async refresh(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const types = await this.store.listTaskTypes();
        this.itemsRead += types.length;
        this.types = new Map(types.map((t) => [t.name, t]));
        this.loadedAt = this.clock.now().getTime();
      } finally {
        this.loading = undefined;
      }
    })();
    await this.loading;
  }

  /** The registered type of that name, or undefined. */
  async resolve(name: string): Promise<TaskType | undefined> {
    const age = this.clock.now().getTime() - this.loadedAt;
    const known = this.types.get(name);
    if (known && age < (this.options.ttlMs ?? 300_000)) return known;
    if (known || age >= (this.options.missRefreshMs ?? 5_000)) await this.refresh();
    return this.types.get(name);
  }

  /** Every registered type. */
  async list(): Promise<TaskType[]> {
    await this.refresh();
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
