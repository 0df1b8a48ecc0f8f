import type { AuditEntry } from './audit.js';
import type {
  CancelReason,
  Parameters,
  Progress,
  RunError,
  RunRecord,
  RunStatus,
  SchedulerState,
  SlotSpan,
  TaskState,
  TaskType,
  Trigger,
} from './model.js';
import type { RunEvent } from './run-event.js';

/** Where time comes from. Use cases take one in their deps; pure functions take `now`. */
export interface Clock {
  now(): Date;
}

/**
 * Where the use cases log: a structured logger (Powertools `Logger` fits), one message and
 * objects of fields per line. The tick, the API and the run lease all take this one.
 */
export interface Logger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** A page of a list and the opaque token of the next one. */
export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** The outcome of a compare-and-set write of a task. Losing is a value, not an exception. */
export type SaveTaskResult =
  | { saved: true; task: TaskState }
  /** `version`: the task changed (or vanished) since it was read; `run`: a run write's condition failed. */
  | { saved: false; reason: 'version' | 'run' }
  /**
   * `saveTasks` only: this one save still failed after its retries (throttled, say), while the
   * others of its batch stand. Whether it applied is not known: a lease it wrote is delivered
   * again or timed out like any other.
   */
  | { saved: false; reason: 'unavailable'; message: string };

/**
 * A write to a run item that must happen atomically with a task's compare-and-set.
 * - `record`: put a new run record (skipped, missed, or a run that was never claimed), only if
 *   no record with that id exists.
 * - `time-out`: mark the run `timed-out`: creates the record from `record` when the run was never
 *   claimed, or updates it when it is `running` and its own lease (`leaseExpiresAt`) ended at or
 *   before `now`. Any other state fails the whole write with `reason: 'run'`.
 */
export type RunWrite =
  | { kind: 'record'; record: RunRecord }
  | { kind: 'time-out'; record: RunRecord; now: Date };

/** The outcome of claiming a run inside its handler. */
export type ClaimResult =
  | { claimed: true; run: RunRecord }
  /** The run already has a record: a duplicate delivery, or a run reclaimed or cancelled before it started. */
  | { claimed: false; existing: RunRecord };

/** What {@link TaskStore.recordRun} did. */
export type RecordResult =
  | { recorded: true; run: RunRecord }
  /** The run already has a record: another delivery's, or a time-out's or cancel's. */
  | { recorded: false; existing: RunRecord };

/** What the task SDK asks of a claim. */
/**
 * What fences the writes of a run's holder after its claim: the run's fencing token (from the
 * tick, `RunEvent.token`) and the request id of the invocation that claimed it. The store
 * refuses a heartbeat or completion that carries another fence.
 */
/** A run-now idempotency key and the run it stands for. */
export interface IdempotencyRecord {
  taskId: string;
  key: string;
  runId: string;
  expiresAt: Date;
}

/** Putting an idempotency key: tied now, or already tied to an earlier run. */
export type IdempotencyResult = { created: true } | { created: false; runId: string };

export interface RunFence {
  token: number;
  requestId: string;
}

/** A claim copies the run event's slot span (a `run-once` catch-up run) onto the record. */
export interface RunClaim extends SlotSpan {
  taskId: string;
  runId: string;
  type: string;
  token: number;
  requestId: string;
  trigger: Trigger;
  attempt: number;
  scheduledFor: Date;
  dispatchedAt?: Date;
  startedAt: Date;
  leaseExpiresAt: Date;
  parameters: Parameters;
  logs?: string;
  /** Where the run runs (see `RunRecord`). */
  functionName?: string;
  functionVersion?: string;
  logStream?: string;

  /** For a replay: the run it repeats. */
  replayOf?: string;
  /** History retention: when the record may be removed. */
  expiresAt: Date;
}

/** The outcome of a heartbeat: the lease is still ours (and maybe cancel was asked), or it is lost. */
export type HeartbeatResult = { held: true; cancelRequested: boolean } | { held: false; status?: RunStatus };

/** How a run ended, as the task SDK reports it. */
export interface RunOutcome {
  /** `timed-out`: the run passed its task's `timeoutSeconds` (`src/task/deadline.ts`). */
  status:
    | typeof RunStatus.Succeeded
    | typeof RunStatus.Failed
    | typeof RunStatus.Cancelled
    | typeof RunStatus.TimedOut;
  finishedAt: Date;
  durationMs: number;
  result?: string;
  error?: RunError;
  note?: string;
  cancelReason?: CancelReason;
  progress?: Progress;
}

/** The outcome of completing a run: refused when the lease was reclaimed or the run was never ours. */
export type CompleteResult = { completed: true; run: RunRecord } | { completed: false; current?: RunRecord };

/**
 * Whether a run's end is listed in runs across tasks (the run index). `listed: false` writes the
 * record without a run-index key, and a completion removes the key a heartbeat set, so the run is
 * in its task's history only. Absent: listed. The task SDK passes `false` for a success of a task
 * with `listSucceeded: false`.
 */
export interface RunListing {
  listed?: boolean;
}

/** The outcome of asking a run to cancel. */
export type CancelRequestResult =
  /** The running run's cancel flag is set; its heartbeat will see it. */
  | { requested: true; status: 'running' }
  /** The run had not been claimed: it is now recorded `cancelled` and will never start. */
  | { requested: true; status: 'cancelled' }
  /** The run already ended. */
  | { requested: false; status: RunStatus };

/** What `listRunsAcross` filters on; every filter is optional. */
export interface RunQuery {
  /** Any of these states (key conditions of the run index: a rare state reads only its runs). */
  statuses?: RunStatus[];
  type?: string;
  trigger?: Trigger;
  taskId?: string;
  /** Runs created (run id time) at or after this instant. */
  from?: Date;
  /** Runs created at or before this instant. */
  to?: Date;
  limit: number;
  nextToken?: string;
}

/** A run as the run index holds it: what a list shows, without parameters, result or error. */
export type RunSummary = Pick<
  RunRecord,
  'taskId' | 'runId' | 'type' | 'status' | 'trigger' | 'attempt' | 'scheduledFor'
> &
  Partial<
    Pick<RunRecord, 'dispatchedAt' | 'startedAt' | 'finishedAt' | 'durationMs' | 'slotCount' | 'replayOf'>
  >;

/**
 * A backfill in progress: the slots of a task between `from` and `to`, queued as pending runs
 * (trigger `backfill`) at most `concurrency` at a time. Removed once every slot is queued.
 */
export interface BackfillJob {
  taskId: string;
  backfillId: string;
  from: Date;
  to: Date;
  concurrency: number;
  /** The next slot to queue. */
  nextSlotAt: Date;
  /** Slots queued so far; the compare-and-set counter of the job. */
  queued: number;
  total: number;
  createdAt: Date;
}

/** Items and capacity a store call consumed; the tick adds them up for its report. */
export interface StoreUsage {
  itemsRead: number;
  writes: number;
}

/**
 * The persistence port. Adapters: DynamoDB (`dynamo-task-store.ts`) and in memory
 * (`memory-task-store.ts`); one contract suite runs against both.
 *
 * Task items are written by compare-and-set on `version` ({@link TaskStore.saveTask}); run items
 * by conditional writes that carry the lease's fencing token. Losing a race is a value.
 */
export interface TaskStore {
  /** Number of due-index shards; a task's shard comes from a hash of its id. */
  readonly shardCount: number;

  /** Writes a task type into the registry (overwrites). */
  putTaskType(type: TaskType): Promise<void>;
  listTaskTypes(): Promise<TaskType[]>;

  /**
   * Creates a task; `false` when one with that id exists. The task is stored as given (version
   * included). `audit`: an entry written in the same transaction (never without the task).
   */
  createTask(task: TaskState, options?: AuditOption): Promise<{ created: boolean }>;
  /** A strongly consistent read of one task. */
  getTask(taskId: string): Promise<TaskState | undefined>;
  /**
   * Strongly consistent reads of several tasks at once (the tick's just-in-time plans): those
   * that exist, in no particular order; an id given twice is read once.
   */
  getTasks(taskIds: readonly string[]): Promise<TaskState[]>;
  /** Tasks in id order. */
  listTasks(options: { limit: number; nextToken?: string }): Promise<Page<TaskState>>;
  /**
   * Writes `task` (whose `version` must be `expectedVersion + 1`) if the stored version is
   * `expectedVersion`, together with `runWrites` atomically. The task's due-index entry follows
   * from its state (see `dueAt` in `src/core/plan.ts`).
   */
  saveTask(
    task: TaskState,
    options: { expectedVersion: number; runWrites?: RunWrite[] } & AuditOption,
  ): Promise<SaveTaskResult>;
  /**
   * Many {@link saveTask}s without run writes, each its own compare-and-set (never atomic
   * together): what the tick does with most of a tick's dispatches. Results in input order;
   * no two saves may be of the same task. DynamoDB sends up to 25 per request.
   */
  saveTasks(saves: { task: TaskState; expectedVersion: number }[]): Promise<SaveTaskResult[]>;
  /**
   * Deletes a task and its history if the stored version is `expectedVersion`. The audit trail
   * is not history: a task's entries outlive it (until their own TTL).
   */
  deleteTask(
    taskId: string,
    options: { expectedVersion: number } & AuditOption,
  ): Promise<{ deleted: boolean }>;

  /**
   * Tasks of one due-index shard whose due instant is at or before `now`, oldest first, found by
   * the index and read eventually consistent. `itemsRead` counts the task records read.
   */
  queryDue(
    shard: number,
    now: Date,
    options?: { limit?: number },
  ): Promise<{ tasks: TaskState[]; usage: StoreUsage }>;

  /** Run records by id, for the runs a tick must fold back into their tasks. Missing ones are absent from the map. */
  getRuns(
    keys: { taskId: string; runId: string }[],
  ): Promise<{ runs: Map<string, RunRecord>; usage: StoreUsage }>;
  getRun(taskId: string, runId: string): Promise<RunRecord | undefined>;
  /** A task's history, newest first. */
  listRuns(taskId: string, options: { limit: number; nextToken?: string }): Promise<Page<RunRecord>>;
  /**
   * Runs of every task, newest first (by run id), from the run index: each page reads a bounded
   * number of index items whatever the history's size. With type, trigger or task filters a page
   * may hold fewer than `limit` runs (even none) and still have a `nextToken`.
   */
  listRunsAcross(query: RunQuery): Promise<Page<RunSummary> & { usage: StoreUsage }>;
  /**
   * `running` records whose own lease ended at or before `now` (a run whose holder died and that
   * no tick timed out): the run index's `running` partitions, which hold only the runs running
   * now, and a consistent read of those records. At most `limit` (default 100).
   */
  listLapsedRuns(now: Date, options?: { limit?: number }): Promise<{ runs: RunRecord[]; usage: StoreUsage }>;

  /** Stores a new backfill job (throws when one with its id exists); `audit` in the same transaction. */
  putBackfill(job: BackfillJob, options?: AuditOption): Promise<void>;
  /** Backfills in progress (all tasks), oldest first. */
  listBackfills(): Promise<BackfillJob[]>;
  /**
   * Replaces a job if its stored `queued` count is `expectedQueued` (compare-and-set); `false` when
   * another writer moved it first or it is gone.
   */
  saveBackfill(job: BackfillJob, expectedQueued: number): Promise<boolean>;
  deleteBackfill(taskId: string, backfillId: string): Promise<void>;

  /** Creates the run's record as `running` if it has none yet (the claim). */
  claimRun(claim: RunClaim): Promise<ClaimResult>;
  /**
   * Creates a finished run's record if the run has none yet: the one write of a run of an
   * idempotent task that ended unclaimed. The first record wins; a later one gets it back.
   * `listed: false` leaves it out of the run index.
   */
  recordRun(record: RunRecord, listing?: RunListing): Promise<RecordResult>;
  /**
   * Extends the run's own lease and stores progress (when given), if the run is `running` with
   * this token and request id; returns whether cancellation was asked for, in the same request.
   */
  heartbeat(
    taskId: string,
    runId: string,
    fence: RunFence,
    update: { now: Date; leaseExpiresAt: Date; progress?: Progress },
  ): Promise<HeartbeatResult>;
  /**
   * Records a run's end if it is `running` with this token and request id. `listed: false`
   * leaves it out of the run index (and takes it out of `running`, where a heartbeat put it).
   */
  completeRun(
    taskId: string,
    runId: string,
    fence: RunFence,
    outcome: RunOutcome,
    listing?: RunListing,
  ): Promise<CompleteResult>;
  /**
   * Asks a run to cancel: sets the flag of a running run, or records a never-claimed run as
   * `cancelled` (from `record`) so that it never starts.
   */
  requestCancel(record: RunRecord, now: Date, options?: AuditOption): Promise<CancelRequestResult>;

  /**
   * Ties a run-now idempotency key to the run it starts, if the key is not tied yet (or its record
   * expired); otherwise returns the run it is tied to. The record expires at `expiresAt`.
   */
  putIdempotencyKey(record: IdempotencyRecord, now: Date): Promise<IdempotencyResult>;
  /** Unties a key whose run-now failed before recording its run, so a retry starts one. */
  deleteIdempotencyKey(taskId: string, key: string): Promise<void>;

  getSchedulerState(): Promise<SchedulerState>;
  /** Merges the given fields into the scheduler's state. */
  updateSchedulerState(update: Partial<SchedulerState>, options?: AuditOption): Promise<void>;

  /**
   * The audit trail, newest first: every entry, or one task's (which outlive the task). An entry
   * is written only with the change it records (`AuditOption`).
   */
  listAudit(options: { taskId?: string; limit: number; nextToken?: string }): Promise<Page<AuditEntry>>;
}

/**
 * An audit entry to write atomically with a change: both are written or neither (a transaction
 * on DynamoDB). A change whose condition fails writes no entry.
 */
export interface AuditOption {
  audit?: AuditEntry;
}

/** The run event moved to `run-event.ts` (schema, writer, parser); re-exported for callers of this module. */
export type { RunEvent } from './run-event.js';

/** The outcome of an asynchronous invoke. */
export type InvokeResult = { accepted: true } | { accepted: false; error: { name: string; message: string } };

/** Sends run events to handlers. The AWS adapter uses Lambda `Invoke` with `InvocationType: 'Event'`. */
export interface TaskInvoker {
  invoke(functionName: string, event: RunEvent): Promise<InvokeResult>;
}

/** Pauses and resumes the whole scheduler (the tick's schedule on AWS, the timer locally). */
export interface SchedulerControl {
  state(): Promise<'running' | 'paused'>;
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/**
 * Asks a tick to plan tasks now, outside its schedule: the API calls it after a write that makes
 * a task due before the next scheduled tick would plan it (a new sub-minute task, an edited
 * schedule, a resume), so that slot still starts on its second. On AWS an asynchronous invoke of
 * the tick function; locally a tick in the runtime's process. Best effort: the next scheduled
 * tick plans what a lost request did not, late.
 */
export interface TickPlanner {
  /** Plan these tasks (at most 100), or every due task when `taskIds` is absent. */
  plan(taskIds?: readonly string[]): Promise<void>;
}

/** Something users may want to be alerted about: a run that failed, timed out, was skipped or missed. */
export interface RunNotice {
  taskId: string;
  /** Known to the tick; the task SDK, which never reads the task before completing, leaves it out. */
  taskName?: string;
  type: string;
  runId: string;
  status: 'failed' | 'timed-out' | 'skipped' | 'missed';
  scheduledFor: Date;
  attempt: number;
  /** For skipped and missed records standing for several slots. */
  slotCount?: number;
  note?: string;
  error?: { name: string; message: string };
}

/**
 * A task that broke its `mustSucceedEvery` promise: no success within it (`src/core/overdue.ts`).
 * Sent once per overdue episode, by the tick that found it.
 */
export interface TaskOverdueNotice {
  status: 'overdue';
  taskId: string;
  taskName: string;
  type: string;
  /** The promise, as declared (`26h`). */
  mustSucceedEvery: string;
  /** When the task became overdue: `countedFrom` plus the promise. */
  overdueSince: Date;
  /** The last success, or (none since) when the promise was set or the task created. */
  countedFrom: Date;
  /** Absent when the task never succeeded (since the store kept it). */
  lastSucceededAt?: Date;
  lastRunAt?: Date;
  lastStatus?: RunStatus;
  enabled: boolean;
  /** When the tick found it. */
  detectedAt: Date;
}

/** What the tick and the task SDK publish: run notices and overdue tasks. */
export type Notice = RunNotice | TaskOverdueNotice;

/** Publishes notices (EventBridge on AWS, `source: tickwork`). Must not throw for a bad notice. */
export interface RunNotifier {
  notify(notices: Notice[]): Promise<void>;
}
