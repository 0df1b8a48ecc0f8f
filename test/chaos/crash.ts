/**
 * A process that can die: once `crash()` is called, every call it makes through a
 * {@link crashable} store never returns, as if the Lambda's process had gone. What it had already
 * written stays written; nothing after the crash point is.
 */
import type { TaskStore } from '../../src/core/ports.js';

export class Life {
  crashed = false;
  private resolveDied!: () => void;
  /** Settles when the process dies, so the harness stops waiting for it. */
  readonly died = new Promise<'crashed'>((resolve) => {
    this.resolveDied = () => resolve('crashed');
  });
  crash(): void {
    if (this.crashed) return;
    this.crashed = true;
    this.resolveDied();
  }
}

/** A promise that never settles: the rest of a dead process. */
export function never<T>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** Where a store call stands when a crash is checked: before it is sent, or after it applied. */
export type CrashPoint = 'before' | 'after';

/**
 * `store` as seen by a process with `life`: a dead process's calls never return; `crashAt` says
 * whether the process dies before sending a call or once it applied (its reply lost with it).
 * `observe` sees each call's result.
 */
export function crashable(
  store: TaskStore,
  life: Life,
  crashAt: (method: string, point: CrashPoint, args: unknown[]) => boolean,
  observe?: (method: string, args: unknown[], result: unknown) => void,
): TaskStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return async (...args: unknown[]) => {
        if (life.crashed) return never();
        if (crashAt(property, 'before', args)) {
          life.crash();
          return never();
        }
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        observe?.(property, args, result);
        if (life.crashed) return never();
        if (crashAt(property, 'after', args)) {
          life.crash();
          return never();
        }
        return result;
      };
    },
  });
}
