/**
 * Deps for tests of the tick, dispatch and the API: `makeTestDeps({ store, ...overrides })` fills in
 * a fixed clock, a registry over the store, monotonic ULIDs and a {@link RecordingInvoker}.
 */
import { monotonicFactory } from 'ulid';
import type { InvokeResult, RunEvent, TaskInvoker, TaskStore } from '../../src/core/ports.js';
import type { TickDeps } from '../../src/tick/dispatch.js';
import { TaskTypeRegistry } from '../../src/tick/registry.js';
import { T0 } from './builders.js';

/**
 * A handler stand-in that records every event it is sent and accepts it; `onInvoke`, when given,
 * runs first (claim and complete, run the handler in-process, ...) and may answer instead.
 */
export class RecordingInvoker implements TaskInvoker {
  readonly calls: { functionName: string; event: RunEvent }[] = [];
  constructor(
    private readonly onInvoke?: (event: RunEvent, functionName: string) => Promise<InvokeResult | undefined>,
  ) {}

  /** The events received, in order. */
  get events(): RunEvent[] {
    return this.calls.map((c) => c.event);
  }

  /** The task of each event received, in order. */
  get taskIds(): string[] {
    return this.calls.map((c) => c.event.taskId);
  }

  async invoke(functionName: string, event: RunEvent): Promise<InvokeResult> {
    this.calls.push({ functionName, event });
    return (await this.onInvoke?.(event, functionName)) ?? { accepted: true };
  }
}

/**
 * The tick's deps over `store`: clock fixed at `T0`, a registry over the store (with that clock),
 * monotonic ULID run ids and a `RecordingInvoker`; anything in `overrides` wins.
 */
export function makeTestDeps<O extends Partial<TickDeps>>(overrides: O & { store: TaskStore }): TickDeps & O {
  const clock = overrides.clock ?? { now: () => T0 };
  return {
    invoker: new RecordingInvoker(),
    clock,
    registry: new TaskTypeRegistry(overrides.store, clock),
    newRunId: monotonicFactory(),
    ...overrides,
  };
}
