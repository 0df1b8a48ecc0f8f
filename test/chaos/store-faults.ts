/**
 * Store faults a real engine never produces on demand: writes that applied but whose reply was
 * lost, throttling, throttled statements inside a batch write and keys a batch read left
 * unprocessed.
 *
 * On DynamoDB they are injected into the AWS SDK client's middleware stack, so the store adapter
 * and the SDK's own retries meet them exactly as they would meet the service's:
 * - per attempt (below the SDK's retry middleware): the SDK retries, and the adapter must tell its
 *   own applied write from a lost race (its `writeId`, the transaction's client token);
 * - per call (above it): the SDK's retries are spent and the caller gets the error.
 *
 * The in-memory store has no SDK: {@link faultyStore} wraps the `TaskStore` port with the faults
 * that reach a caller (the per-call ones and a throttled statement inside `saveTasks`), which is
 * what the adapter passes on when the SDK's retries are spent.
 */
import {
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  type ServiceInputTypes,
  type ServiceOutputTypes,
} from '@aws-sdk/client-dynamodb';
import type {
  FinalizeHandlerArguments,
  InitializeHandlerArguments,
  RetryErrorInfo,
  RetryStrategyV2,
  RetryToken,
} from '@smithy/types';
import { StoreUnavailableError } from '../../src/core/errors.js';
import type { TaskStore } from '../../src/core/ports.js';
import type { Random } from './random.js';

/** Fault rates of the store, each a probability. */
export interface StoreFaultRates {
  /** Per attempt: the request applied and its reply was lost; the SDK sends it again. */
  lostReply: number;
  /** Per call: the request applied and the reply of its last attempt was lost; the caller gets an error. */
  lostReplySurfaced: number;
  /** Per attempt: throttled (not applied); the SDK sends it again. */
  throttled: number;
  /** Per call: throttled on every attempt; the caller gets `StoreUnavailableError`. */
  throttledSurfaced: number;
  /** Per statement of a batch write (BatchExecuteStatement): answered `ThrottlingError`, not applied. */
  batchStatement: number;
  /** Per key of a batch read (BatchGetItem): left unprocessed. */
  unprocessedKey: number;
}

export const noStoreFaults: StoreFaultRates = {
  lostReply: 0,
  lostReplySurfaced: 0,
  throttled: 0,
  throttledSurfaced: 0,
  batchStatement: 0,
  unprocessedKey: 0,
};

/** Counts by name; what a chaos run injected and observed. */
export class Tally {
  readonly counts = new Map<string, number>();
  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }
  get(name: string): number {
    return this.counts.get(name) ?? 0;
  }
}

/** Whether faults are injected now (seeding and the final drain run without). */
export interface FaultSwitch {
  on: boolean;
  rates: StoreFaultRates;
}

/** The error of a request whose reply never came: the SDK classes it as transient and retries it. */
function lostReplyError(): Error {
  return Object.assign(new Error('socket hang up: the reply was lost (injected)'), {
    name: 'TimeoutError',
    code: 'ETIMEDOUT',
    $metadata: {},
  });
}

function throttledError(): Error {
  return new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded (injected)',
    $metadata: { httpStatusCode: 400 },
  });
}

/**
 * The SDK's retry loop with 1 ms between attempts instead of its exponential backoff (100 ms base,
 * 500 ms when throttled): the same classification of errors (the SDK's retry middleware decides
 * the error type; client errors are never retried), in simulated time.
 */
export function fastRetries(maxAttempts: number): RetryStrategyV2 {
  const token = (count: number): RetryToken => ({ getRetryCount: () => count, getRetryDelay: () => 1 });
  return {
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous: RetryToken, info: RetryErrorInfo) => {
      const count = previous.getRetryCount() + 1;
      if (info.errorType === 'CLIENT_ERROR' || count >= maxAttempts)
        throw info.error ?? new Error('no retry');
      return token(count);
    },
    recordSuccess: () => {},
  };
}

type Input = Record<string, unknown>;

/** Throttles some statements of a BatchExecuteStatement: they are not sent, and answered `ThrottlingError`. */
async function throttleStatements(
  input: Input,
  send: (input: Input) => Promise<Input>,
  random: Random,
  tally: Tally,
  rate: number,
): Promise<Input> {
  const statements = (input.Statements as unknown[]) ?? [];
  const throttled = statements.map(() => random.chance(rate));
  if (!throttled.includes(true)) return send(input);
  tally.add('store: batch statement throttled', throttled.filter(Boolean).length);
  const kept = statements.filter((_, i) => !throttled[i]);
  const out = kept.length > 0 ? await send({ ...input, Statements: kept }) : { Responses: [] };
  const answers = [...((out.Responses as unknown[]) ?? [])];
  const error = {
    Error: { Code: 'ThrottlingError', Message: 'Throughput exceeds the current capacity (injected)' },
  };
  return { ...out, Responses: throttled.map((t) => (t ? error : answers.shift())) };
}

/** Leaves some keys of a BatchGetItem unprocessed: they are not read, and handed back. */
async function leaveKeysUnprocessed(
  input: Input,
  send: (input: Input) => Promise<Input>,
  random: Random,
  tally: Tally,
  rate: number,
): Promise<Input> {
  const requests = input.RequestItems as Record<string, { Keys: unknown[] }>;
  const [table, request] = Object.entries(requests)[0] ?? [];
  if (!table || !request || request.Keys.length < 2) return send(input);
  const left = request.Keys.filter(() => random.chance(rate));
  if (left.length === 0 || left.length === request.Keys.length) return send(input);
  tally.add('store: batch read key unprocessed', left.length);
  const keys = request.Keys.filter((k) => !left.includes(k));
  const out = await send({ ...input, RequestItems: { [table]: { ...request, Keys: keys } } });
  return { ...out, UnprocessedKeys: { [table]: { ...request, Keys: left } } };
}

/**
 * Installs the faults into `client`'s middleware stack (shared by the document client the store
 * builds on it). `faults.on` turns them on and off.
 */
export function installDynamoFaults(
  client: DynamoDBClient,
  faults: FaultSwitch,
  random: Random,
  tally: Tally,
) {
  type Out = { output: Input; response: unknown };
  // Per call, above the SDK's retries: spent retries, and batch answers.
  client.middlewareStack.add(
    (next, context) => async (args: InitializeHandlerArguments<ServiceInputTypes>) => {
      const { rates } = faults;
      if (!faults.on) return next(args);
      const command = String(context.commandName).replace(/Command$/, '');
      if (random.chance(rates.throttledSurfaced)) {
        tally.add('store: throttled after retries');
        throw throttledError();
      }
      const send = async (input: Input) =>
        ((await next({ ...args, input: input as ServiceInputTypes })) as unknown as Out).output;
      let output: Input;
      if (command === 'BatchExecuteStatement' && rates.batchStatement > 0) {
        output = await throttleStatements(args.input as Input, send, random, tally, rates.batchStatement);
      } else if (command === 'BatchGetItem' && rates.unprocessedKey > 0) {
        output = await leaveKeysUnprocessed(args.input as Input, send, random, tally, rates.unprocessedKey);
      } else {
        output = await send(args.input as Input);
      }
      if (random.chance(rates.lostReplySurfaced)) {
        tally.add('store: reply lost after retries (applied)');
        throw lostReplyError();
      }
      return { output: output as unknown as ServiceOutputTypes, response: undefined } as never;
    },
    { step: 'initialize', priority: 'high', name: 'chaosPerCall' },
  );
  // Per attempt, below the SDK's retry middleware: what the SDK retries.
  client.middlewareStack.add(
    (next) => async (args: FinalizeHandlerArguments<ServiceInputTypes>) => {
      const { rates } = faults;
      if (!faults.on) return next(args);
      if (random.chance(rates.throttled)) {
        tally.add('store: throttled, retried by the SDK');
        throw throttledError();
      }
      const out = await next(args);
      if (random.chance(rates.lostReply)) {
        tally.add('store: reply lost, retried by the SDK (applied)');
        throw lostReplyError();
      }
      return out;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'chaosPerAttempt' },
  );
}

const writes = new Set([
  'createTask',
  'saveTask',
  'saveTasks',
  'claimRun',
  'heartbeat',
  'completeRun',
  'requestCancel',
  'updateSchedulerState',
]);

/**
 * The in-memory store with the faults a caller of the DynamoDB adapter meets once the SDK's
 * retries are spent: throttled (not applied, `StoreUnavailableError`), applied with the reply
 * lost (an error after the write), and inside `saveTasks` a throttled statement, which the adapter
 * sends again on its own (`saveTask`), so its own faults may fail the whole call after the other
 * statements applied.
 */
export function faultyStore(
  inner: TaskStore,
  faults: FaultSwitch,
  random: Random,
  tally: Tally,
  observed: Tally = tally,
): TaskStore {
  const call = async (method: string, args: unknown[]): Promise<unknown> => {
    const fn = (inner as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[method];
    if (!fn) throw new Error(`no store method ${method}`);
    const { rates } = faults;
    if (!faults.on) return fn.apply(inner, args);
    if (random.chance(rates.throttledSurfaced)) {
      tally.add('store: throttled after retries');
      throw new StoreUnavailableError('the task store is unavailable (injected throttling); retry later');
    }
    const out =
      method === 'saveTasks' && rates.batchStatement > 0
        ? await saveTasksWithThrottledStatements(args[0] as Parameters<TaskStore['saveTasks']>[0])
        : await fn.apply(inner, args);
    if (writes.has(method) && random.chance(rates.lostReplySurfaced)) {
      tally.add('store: reply lost after retries (applied)');
      throw lostReplyError();
    }
    return out;
  };
  const wrapped: TaskStore = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      return (...args: unknown[]) => call(property, args);
    },
  });
  const saveTasksWithThrottledStatements = async (saves: Parameters<TaskStore['saveTasks']>[0]) => {
    const throttled = saves.map(() => random.chance(faults.rates.batchStatement));
    if (!throttled.includes(true)) return inner.saveTasks(saves);
    tally.add('store: batch statement throttled', throttled.filter(Boolean).length);
    const batch = await inner.saveTasks(saves.filter((_, i) => !throttled[i]));
    const applied = batch.filter((r) => r.saved).length;
    try {
      return await Promise.all(
        saves.map((save, i) =>
          throttled[i]
            ? wrapped.saveTask(save.task, { expectedVersion: save.expectedVersion })
            : batch.shift(),
        ),
      );
    } catch (error) {
      // What the DynamoDB adapter does too (`saveChunk`): the call fails, though these saves applied.
      observed.add('store: saveTasks failed after other saves of it applied (calls)');
      observed.add('store: saveTasks failed after other saves of it applied (saves applied)', applied);
      throw error;
    }
  };
  return wrapped;
}
