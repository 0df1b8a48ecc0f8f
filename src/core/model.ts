/**
 * The domain model: task descriptors, their scheduling state, runs and the run state machine.
 *
 * Times are `Date` objects here; only the store turns them into epoch milliseconds.
 */

/** What to do when a slot comes while a previous run of the same task is still going. */
export const OverlapPolicy = {
  /** Record the slot as a skipped run and move on (default). */
  Skip: 'skip',
  /** Run once right after the current run ends; further slots meanwhile are skipped. */
  QueueOne: 'queue-one',
  /** Start alongside the running one. */
  Allow: 'allow',
  /** Ask the running one to cancel, then start the new one at once. */
  Replace: 'replace',
} as const;
export type OverlapPolicy = (typeof OverlapPolicy)[keyof typeof OverlapPolicy];

/** What to do with slots that passed while the scheduler was down or paused. */
export const CatchUpPolicy = {
  /** One run now stands for every missed slot inside the catch-up window (default). */
  RunOnce: 'run-once',
  /** Record the missed slots as skipped and wait for the next one. */
  Skip: 'skip',
  /** One run per missed slot inside the window, up to `catchUpMaxRuns`, one after another. */
  RunAll: 'run-all',
} as const;
export type CatchUpPolicy = (typeof CatchUpPolicy)[keyof typeof CatchUpPolicy];

/** Why a run exists. */
export const Trigger = {
  Schedule: 'schedule',
  Manual: 'manual',
  Retry: 'retry',
  CatchUp: 'catch-up',
  /** A new run of an earlier one, with its parameters (`replayOf` names the original). */
  Replay: 'replay',
  /** A past slot run on request: its `scheduledFor` is the slot, so is its idempotency key. */
  Backfill: 'backfill',
} as const;
export type Trigger = (typeof Trigger)[keyof typeof Trigger];

/**
 * Run states. `dispatched -> running -> succeeded | failed | cancelled | timed-out`; `skipped`
 * and `missed` record slots that did not run, so history explains every gap.
 */
export const RunStatus = {
  Dispatched: 'dispatched',
  Running: 'running',
  Succeeded: 'succeeded',
  Failed: 'failed',
  Cancelled: 'cancelled',
  TimedOut: 'timed-out',
  Skipped: 'skipped',
  Missed: 'missed',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** States a run never leaves. */
export const terminalStatuses: ReadonlySet<RunStatus> = new Set<RunStatus>([
  RunStatus.Succeeded,
  RunStatus.Failed,
  RunStatus.Cancelled,
  RunStatus.TimedOut,
  RunStatus.Skipped,
  RunStatus.Missed,
]);

/** True for a state a run never leaves. */
export function isTerminal(status: RunStatus): boolean {
  return terminalStatuses.has(status);
}

/** Why a task's cancellation token fired. */
export const CancelReason = {
  Cancelled: 'cancelled',
  /** The task's `timeoutSeconds` passed since the run started. */
  Timeout: 'timeout',
  /** The Lambda itself is about to run out of time. */
  Deadline: 'deadline',
  LeaseLost: 'lease-lost',
} as const;
export type CancelReason = (typeof CancelReason)[keyof typeof CancelReason];

/** Retry policy of a task: attempts in all (1 = no retry) and exponential backoff with a cap. */
export interface RetryPolicy {
  maxAttempts: number;
  backoffSeconds: number;
  /** Upper bound of one backoff delay. */
  maxBackoffSeconds: number;
}

/** JSON-compatible values: parameters and results. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type Parameters = Record<string, JsonValue>;

/** What an administrator configures: the task descriptor. */
export interface TaskConfig {
  id: string;
  name: string;
  /** Registered task type, e.g. `Acme.CleanupFiles`. */
  type: string;
  /** Unix `cron` (5 or 6 fields), EventBridge `cron(...)`, `rate(N minutes|hours|days)` or `at(YYYY-MM-DDTHH:mm:ss)`. */
  schedule: string;
  /** IANA time zone the schedule is read in. */
  timezone: string;
  enabled: boolean;
  /** Higher runs first when a tick has more due work than it can start. */
  priority: number;
  /** Default parameters, merged under those of a run-now request. */
  parameters: Parameters;
  overlap: OverlapPolicy;
  catchUp: CatchUpPolicy;
  /** Most runs `run-all` starts for one outage. */
  catchUpMaxRuns: number;
  /** Slots older than this when the tick sees them are recorded as `missed`. */
  catchUpWindowSeconds: number;
  retry: RetryPolicy;
  /** Disable the task after its final failed attempt. */
  stopOnError: boolean;
  /**
   * The body may run twice for one slot without harm: its runs skip the claim's write (one write
   * unit a run fewer) and give up exactly-once starts (docs/writing-tasks.md, "Idempotent tasks").
   * Absent: false.
   */
  idempotent?: boolean;
  /**
   * Whether this task's successes are listed in runs across tasks (the run index; every run is
   * in its task's history either way). `true`: every success, one write unit a run more for a
   * task due every minute; `false`: none. Absent: every success except the scheduled slots of a
   * task due every minute or more often (`successListingOf`, src/core/listing.ts). Every other
   * end, and a running run that heartbeats, is listed as always (docs/writing-tasks.md,
   * "Which successes are listed across tasks").
   */
  listSucceeded?: boolean;
  timeoutSeconds: number;
  /** Left out of lists unless asked for. */
  hidden: boolean;
  /** Read-only through the API. */
  system: boolean;
  startAt?: Date;
  endAt?: Date;
  /** Stop scheduling after this many scheduled starts. */
  maxRuns?: number;
  /** Each slot is delayed by a fixed amount in `[0, jitterSeconds)` derived from the task id. */
  jitterSeconds: number;
  historyRetentionDays: number;
  description?: string;
  /**
   * A dead-man promise: the task must succeed at least this often (`26h`, `90m`; see
   * `src/core/overdue.ts`). Otherwise the tick reports it overdue, once per episode.
   */
  mustSucceedEvery?: string;
}

/**
 * The slots a run or a record stands for when it stands for more than one: a `run-once` catch-up
 * run, or a `skipped` or `missed` record. Every slot of the schedule from `firstSlotAt` through
 * `lastSlotAt`, `slotCount` of them. All three are set together, or none (one slot:
 * `scheduledFor`).
 */
export interface SlotSpan {
  firstSlotAt?: Date;
  lastSlotAt?: Date;
  slotCount?: number;
}

/** The span fields of `from` that are set, to spread into another run or record. */
export function slotSpanOf(from: SlotSpan): SlotSpan {
  if (from.slotCount === undefined || from.firstSlotAt === undefined || from.lastSlotAt === undefined)
    return {};
  return { firstSlotAt: from.firstSlotAt, lastSlotAt: from.lastSlotAt, slotCount: from.slotCount };
}

/** A run that holds a lease on its task: dispatched, maybe claimed, not yet folded back. */
export interface ActiveRun extends SlotSpan {
  runId: string;
  /** Fencing token: grows with every lease the task hands out. */
  token: number;
  scheduledFor: Date;
  dispatchedAt: Date;
  /** When the tick looks at this run again: the lease's end unless a heartbeat extended it. */
  expiresAt: Date;
  attempt: number;
  trigger: Trigger;
  parameters: Parameters;
  /** For a replay: the run it repeats. */
  replayOf?: string;
}

/** A run the task owes but has not started: a run-now request, a retry, a queued slot. */
export interface PendingRun extends SlotSpan {
  runId: string;
  trigger: Trigger;
  scheduledFor: Date;
  /** Not started before this instant (retries wait for their backoff). */
  notBefore: Date;
  attempt: number;
  parameters: Parameters;
  /** For a replay: the run it repeats. */
  replayOf?: string;
}

/** The error a failed run recorded. */
export interface RunError {
  name: string;
  message: string;
  /** At most 4 KB of the stack. */
  stack?: string;
}

/** What the task view shows about the latest finished run. */
export interface TaskSummary {
  lastRunAt?: Date;
  lastStatus?: RunStatus;
  lastResult?: string;
  lastError?: RunError;
  lastDurationMs?: number;
  /** Runs that finished (any terminal state but skipped and missed). */
  runCount: number;
}

/** A task descriptor with its scheduling state, as stored on the task item. */
export interface TaskState extends TaskConfig {
  /** Compare-and-set counter: every write of the task item increments it. */
  version: number;
  createdAt: Date;
  updatedAt: Date;
  /** The next nominal slot not yet handled; absent when the schedule is exhausted. */
  nextSlotAt?: Date;
  /** Scheduled starts so far, for `maxRuns`. */
  scheduledStarts: number;
  /** The last fencing token handed out. */
  fence: number;
  active: ActiveRun[];
  pending: PendingRun[];
  /**
   * The due index's key as the store last wrote it (`dueAt`); absent when out of the index.
   * Stores set it when reading; `dueIndexKey` decides the next one.
   */
  dueKey?: Date;
  summary: TaskSummary;
  /** Why the task was disabled by the scheduler (stopOnError), shown to the administrator. */
  disabledReason?: string;
  /** When the last successful run finished (as its fold saw it). */
  lastSucceededAt?: Date;
  /** When `mustSucceedEvery` was last set or changed; the promise counts from here until a success. */
  mustSucceedSetAt?: Date;
  /** When the tick reported the current overdue episode; cleared by the next success. */
  overdueReportedAt?: Date;
}

/** Progress a running task reported. */
export interface Progress {
  value: number;
  max?: number;
  message?: string;
  updatedAt: Date;
}

/** One execution of a task (or a slot that was not run), as stored in history. */
export interface RunRecord extends SlotSpan {
  taskId: string;
  runId: string;
  type: string;
  status: RunStatus;
  trigger: Trigger;
  attempt: number;
  scheduledFor: Date;
  dispatchedAt?: Date;
  startedAt?: Date;
  finishedAt?: Date;
  durationMs?: number;
  parameters: Parameters;
  /** The result message (what the task returned, as text). */
  result?: string;
  error?: RunError;
  progress?: Progress;
  /** The fencing token of the lease this run held. */
  token?: number;
  /** The Lambda request id that claimed the run. */
  requestId?: string;
  /** The run's own lease, extended by heartbeats. */
  leaseExpiresAt?: Date;
  heartbeatAt?: Date;
  cancelRequested?: boolean;
  /** Why the run ended the way it did, or why it was skipped or missed. */
  note?: string;
  /** Where the run's logs are (a CloudWatch link on AWS, the log endpoint locally). */
  logs?: string;
  /** Where it ran: the handler function's name, as its claim saw it. */
  functionName?: string;
  /** The function version that ran it (`$LATEST`, or a published version number). */
  functionVersion?: string;
  /** The log stream of the Lambda instance that ran it (on AWS), or `local/<pid>` of the local worker. */
  logStream?: string;

  /** For a replay: the run it repeats. */
  replayOf?: string;
  /** When history retention removes this record. */
  expiresAt: Date;
}

/** A registered task type. */
export interface TaskType {
  name: string;
  /** Function name or ARN of the handler Lambda. */
  functionName: string;
  description?: string;
  timeoutSeconds?: number;
  /**
   * JSON Schema (draft 2020-12, as `z.toJSONSchema` writes it) of the type's parameters, published
   * when the type is registered, so the API can refuse bad parameters before a run.
   */
  parametersSchema?: JsonSchema;
}

/** A JSON Schema document, kept as the plain JSON object it is. */
export type JsonSchema = { [key: string]: JsonValue };

/** The whole scheduler's state. */
export interface SchedulerState {
  paused: boolean;
  lastTickAt?: Date;
  lastTickDurationMs?: number;
  lastTickStarted?: number;
}

/** Defaults for the optional parts of a task descriptor. */
export const taskDefaults = {
  timezone: 'UTC',
  enabled: true,
  priority: 0,
  overlap: OverlapPolicy.Skip,
  catchUp: CatchUpPolicy.RunOnce,
  catchUpMaxRuns: 10,
  catchUpWindowSeconds: 24 * 3600,
  retry: { maxAttempts: 1, backoffSeconds: 30, maxBackoffSeconds: 3600 },
  stopOnError: false,
  timeoutSeconds: 300,
  hidden: false,
  system: false,
  jitterSeconds: 0,
  historyRetentionDays: 30,
} as const;
