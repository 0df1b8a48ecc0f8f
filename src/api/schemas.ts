/**
 * Request and response shapes of the admin API: the one source of truth. Routes validate with
 * them, views are typed by them, and `/openapi.json` (and so docs/api.md) is generated from them.
 */
import { z } from '@hono/zod-openapi';
import { successListings } from '../core/listing.js';
import { CatchUpPolicy, OverlapPolicy, RunStatus, Trigger } from '../core/model.js';
import { successIntervalMs } from '../core/overdue.js';
import { errorCodes } from './errors.js';

/** Task ids: letters, digits and `._:-`, 1-128 characters, starting with a letter or digit. */
export const TASK_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Run ids (ULIDs, or anything of the same alphabet). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
/** Largest serialized `parameters` object, in bytes. */
export const MAX_PARAMETERS_BYTES = 16 * 1024;
/** Deepest nesting of `parameters`. */
export const MAX_PARAMETERS_DEPTH = 16;
/** Largest request body, in bytes. */
export const MAX_BODY_BYTES = 256 * 1024;

const overlapValues = Object.values(OverlapPolicy) as [OverlapPolicy, ...OverlapPolicy[]];
const catchUpValues = Object.values(CatchUpPolicy) as [CatchUpPolicy, ...CatchUpPolicy[]];
const triggerValues = Object.values(Trigger) as [Trigger, ...Trigger[]];

/**
 * Checks a JSON value fits what the table can store: depth, size, safe numbers (DynamoDB numbers
 * and the SDK's marshalling refuse others), non-empty keys. Iterative, so no input can exhaust
 * the stack.
 */
export function jsonValueIssue(value: unknown): string | undefined {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (depth > MAX_PARAMETERS_DEPTH) return `is nested more than ${MAX_PARAMETERS_DEPTH} levels deep`;
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER) {
        return `holds ${v}; numbers must be within ±${Number.MAX_SAFE_INTEGER}`;
      }
      if (v !== 0 && Math.abs(v) < 1e-100) return `holds ${v}; numbers this small cannot be stored`;
    } else if (Array.isArray(v)) {
      for (const item of v) stack.push({ v: item, depth: depth + 1 });
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, item] of Object.entries(v)) {
        if (key.length === 0 || key.length > 256)
          return 'has a key that is empty or longer than 256 characters';
        stack.push({ v: item, depth: depth + 1 });
      }
    } else if (typeof v !== 'string' && typeof v !== 'boolean' && v !== null) {
      return 'holds a value that is not JSON';
    }
  }
  const bytes = Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (bytes > MAX_PARAMETERS_BYTES) return `is ${bytes} bytes of JSON; the limit is ${MAX_PARAMETERS_BYTES}`;
  return undefined;
}

/** Task parameters: a JSON object. */
export const ParametersSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    const issue = jsonValueIssue(value);
    if (issue) ctx.addIssue({ code: 'custom', message: issue });
  })
  .openapi('Parameters', {
    type: 'object',
    description: `A JSON object (at most ${MAX_PARAMETERS_BYTES / 1024} KiB, ${MAX_PARAMETERS_DEPTH} levels deep, numbers within ±2^53).`,
    additionalProperties: true,
  });

const isoInstant = z.iso.datetime({ offset: true }).openapi({ example: '2026-03-29T09:00:00Z' });
const isoOut = z.string().openapi({ format: 'date-time', example: '2026-03-29T09:00:00.000Z' });

export const RetryPolicySchema = z
  .strictObject({
    maxAttempts: z.int().min(1).max(20).openapi({ description: 'Attempts in all; 1 means no retry.' }),
    backoffSeconds: z
      .int()
      .min(0)
      .max(86_400)
      .openapi({ description: 'Delay before the first retry; doubles each time.' }),
    maxBackoffSeconds: z
      .int()
      .min(0)
      .max(7 * 86_400)
      .optional()
      .openapi({ description: 'Cap on one delay (default 3600).' }),
  })
  .openapi('RetryPolicy');

/** Fields every task input shares (create and update). */
const taskFields = {
  name: z.string().trim().min(1).max(200),
  type: z
    .string()
    .min(1)
    .max(256)
    .openapi({ description: 'A registered task type (`GET /task-types`).', example: 'Acme.CleanupFiles' }),
  schedule: z.string().min(1).max(256).openapi({
    description:
      'Unix `cron` (5 fields, or 6 with leading seconds), EventBridge `cron(min hour dom month dow year)`, `rate(N minutes|hours|days)` or `at(YYYY-MM-DDTHH:mm:ss)` (docs/scheduling.md).',
    example: '0 9 * * 1-5',
  }),
  timezone: z.string().min(1).max(64).openapi({
    description: 'IANA time zone the schedule is read in (default UTC).',
    example: 'Europe/Berlin',
  }),
  enabled: z.boolean().openapi({
    description: 'Scheduled runs happen only while enabled (default true); manual runs always can.',
  }),
  priority: z
    .int()
    .min(-1000)
    .max(1000)
    .openapi({ description: 'Higher runs first when a tick is busy (default 0).' }),
  parameters: ParametersSchema,
  overlap: z
    .enum(overlapValues)
    .openapi({ description: 'What to do when a slot comes while a run is going (default skip).' }),
  catchUp: z.enum(catchUpValues).openapi({
    description: 'What to do with slots missed while the scheduler was down or paused (default run-once).',
  }),
  catchUpMaxRuns: z
    .int()
    .min(1)
    .max(100)
    .openapi({ description: 'Most runs `run-all` starts for one outage (default 10).' }),
  catchUpWindowSeconds: z
    .int()
    .min(0)
    .max(30 * 86_400)
    .openapi({ description: 'Slots older than this are recorded `missed` (default 86400).' }),
  retry: RetryPolicySchema,
  stopOnError: z
    .boolean()
    .openapi({ description: 'Disable the task after a failed final attempt (default false).' }),
  idempotent: z.boolean().openapi({
    description:
      "The body may run twice for one slot without harm (default false). Its runs skip the claim's write, one write unit a run fewer, and give up exactly-once starts: a duplicate delivery may run the body again; the first outcome is recorded.",
  }),
  listSucceeded: z.boolean().openapi({
    description:
      "Whether the task's successful runs are listed in runs across tasks (`GET /runs`); every run is in the task's history (`GET /tasks/{id}/runs`) either way. `true`: every success (one write unit a run more for a task due every minute); `false`: none. Absent (the default): every success except those of the scheduled slots of a task due every minute or more often. Failed, timed-out, cancelled, skipped, missed and running runs are listed whatever this says; the task's last run and counters count every success.",
  }),
  timeoutSeconds: z.int().min(1).max(900).openapi({
    description:
      "The run's deadline, counted from its start (default 300). The task's signal then fires with reason `timeout`; the run is recorded `timed-out` when the task stops, or 5 s later if it does not, and is retried per `retry`.",
  }),
  hidden: z
    .boolean()
    .openapi({ description: 'Left out of lists unless `includeHidden=true` (default false).' }),
  jitterSeconds: z.int().min(0).max(3600).openapi({
    description: 'Delay every slot by a fixed amount below this, derived from the id (default 0).',
  }),
  historyRetentionDays: z
    .int()
    .min(1)
    .max(3650)
    .openapi({ description: 'How long run history is kept (default 30).' }),
  mustSucceedEvery: z
    .string()
    .max(32)
    .superRefine((value, ctx) => {
      try {
        successIntervalMs(value);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .openapi({
      description:
        'A dead-man promise: the task must succeed at least this often, a whole number and a unit `s`, `m`, `h` or `d` (1 minute to 366 days), e.g. `26h`. Counted from the last success, or from when the promise was set. When it passes without one, the tick emits `Tickwork Task Overdue` once, until the next success (docs/operating.md). Default: no promise.',
      example: '26h',
    }),
};

export const TaskInputSchema = z
  .strictObject({
    id: z
      .string()
      .regex(TASK_ID_PATTERN)
      .optional()
      .openapi({ description: 'Generated (a ULID) when absent.', example: 'nightly-cleanup' }),
    name: taskFields.name,
    type: taskFields.type,
    schedule: taskFields.schedule,
    timezone: taskFields.timezone.optional(),
    enabled: taskFields.enabled.optional(),
    priority: taskFields.priority.optional(),
    parameters: taskFields.parameters.optional(),
    overlap: taskFields.overlap.optional(),
    catchUp: taskFields.catchUp.optional(),
    catchUpMaxRuns: taskFields.catchUpMaxRuns.optional(),
    catchUpWindowSeconds: taskFields.catchUpWindowSeconds.optional(),
    retry: taskFields.retry.optional(),
    stopOnError: taskFields.stopOnError.optional(),
    idempotent: taskFields.idempotent.optional(),
    listSucceeded: taskFields.listSucceeded.optional(),
    timeoutSeconds: taskFields.timeoutSeconds.optional(),
    hidden: taskFields.hidden.optional(),
    startAt: isoInstant.optional().openapi({ description: 'No slot before this instant.' }),
    endAt: isoInstant.optional().openapi({ description: 'No slot after this instant.' }),
    maxRuns: z
      .int()
      .min(1)
      .max(1_000_000_000)
      .optional()
      .openapi({ description: 'Stop scheduling after this many scheduled starts.' }),
    jitterSeconds: taskFields.jitterSeconds.optional(),
    historyRetentionDays: taskFields.historyRetentionDays.optional(),
    mustSucceedEvery: taskFields.mustSucceedEvery.optional(),
    description: z.string().max(2000).optional(),
    system: z.boolean().optional().openapi({
      description:
        'Read-only through the API (it can still be run and cancelled). Only a deploy sets it: `true` here is refused with 403 `task_read_only`.',
    }),
  })
  .openapi('TaskInput');
export type TaskInput = z.infer<typeof TaskInputSchema>;

/** Most declarations one `POST /tasks/apply` takes. */
export const MAX_APPLY_TASKS = 200;

/**
 * A task as code: the fields of `POST /tasks`, with `id` required (it names the task across
 * deploys) and `name` defaulting to the id. Applying it sets the fields it gives and leaves the
 * others as they are (docs/tasks-as-code.md).
 */
export const TaskDeclarationSchema = z
  .strictObject({
    ...TaskInputSchema.shape,
    id: TaskInputSchema.shape.id.unwrap().openapi({
      description: 'Names the task: created when absent, updated when present.',
      example: 'nightly-report',
    }),
    name: TaskInputSchema.shape.name
      .optional()
      .openapi({ description: 'Default: the id (when the task is created).' }),
    system: TaskInputSchema.shape.system.openapi({
      description:
        'Read-only through the API (it can still be run and cancelled). Set only by a deploy: `true` in `POST /tasks/apply` is refused with 403 `task_read_only`.',
    }),
    mustSucceedEvery: taskFields.mustSucceedEvery.nullable().optional().openapi({
      description: 'As in `POST /tasks`; `null` declares no promise (removes one the task has).',
    }),
  })
  .openapi('TaskDeclaration');
export type TaskDeclaration = z.infer<typeof TaskDeclarationSchema>;

export const ApplyInputSchema = z
  .strictObject({
    tasks: z
      .array(TaskDeclarationSchema)
      .max(MAX_APPLY_TASKS)
      .openapi({
        description: `The declarations, at most ${MAX_APPLY_TASKS}; each id once.`,
      }),
    dryRun: z
      .boolean()
      .optional()
      .openapi({ description: 'Validate and list the changes, write nothing (default false).' }),
  })
  .openapi('ApplyInput');

/**
 * A partial update: any field of `POST /tasks` but the id (and `system`, which only a deploy
 * sets); `null` removes an optional bound or the description.
 */
export const TaskPatchSchema = TaskInputSchema.omit({ id: true, system: true })
  .partial()
  .extend({
    startAt: isoInstant.nullable().optional().openapi({ description: '`null` removes it.' }),
    endAt: isoInstant.nullable().optional().openapi({ description: '`null` removes it.' }),
    maxRuns: TaskInputSchema.shape.maxRuns
      .unwrap()
      .nullable()
      .optional()
      .openapi({ description: '`null` removes it.' }),
    description: TaskInputSchema.shape.description
      .unwrap()
      .nullable()
      .optional()
      .openapi({ description: '`null` removes it.' }),
    mustSucceedEvery: taskFields.mustSucceedEvery
      .nullable()
      .optional()
      .openapi({ description: '`null` removes the promise; a new value starts its clock again.' }),
    listSucceeded: taskFields.listSucceeded.nullable().optional().openapi({
      description: '`true` lists every success across tasks, `false` none, `null` goes back to the default.',
    }),
  })
  .openapi('TaskPatch');
export type TaskPatch = z.infer<typeof TaskPatchSchema>;

export const RunNowInputSchema = z
  .strictObject({
    parameters: ParametersSchema.optional().openapi({
      description: "Merged over the task's default parameters (top-level keys).",
    }),
  })
  .openapi('RunNowInput');

export const CancelInputSchema = z
  .strictObject({
    runId: z
      .string()
      .regex(RUN_ID_PATTERN)
      .optional()
      .openapi({ description: 'Which run; default the active one (else the next queued one).' }),
  })
  .openapi('CancelInput');

// --- views ------------------------------------------------------------------------------------

export const ProgressSchema = z
  .object({
    value: z.number(),
    max: z.number().nullable(),
    percent: z.number().nullable().openapi({ description: '0-100, when `max` is known.' }),
    message: z.string().nullable(),
    updatedAt: isoOut.nullable(),
  })
  .openapi('Progress');

/** Run states, plus `queued` for a run the task owes but has not started (run-now, retry, queued slot). */
export const runViewStatuses = ['queued', ...Object.values(RunStatus)] as [
  RunStatus | 'queued',
  ...(RunStatus | 'queued')[],
];

export const RunViewSchema = z
  .object({
    runId: z.string(),
    taskId: z.string(),
    type: z.string(),
    status: z.enum(runViewStatuses),
    trigger: z.enum(triggerValues),
    attempt: z.int(),
    scheduledFor: isoOut,
    dispatchedAt: isoOut.nullable(),
    startedAt: isoOut.nullable(),
    finishedAt: isoOut.nullable(),
    durationMs: z.number().nullable(),
    latenessMs: z.number().nullable().openapi({
      description:
        'How late the run started: its start (the claim) minus its slot, in ms; null until it starts. For retries and catch-up runs it includes the wait for them.',
    }),
    parameters: z.record(z.string(), z.unknown()),
    result: z.string().nullable(),
    error: z
      .object({
        name: z.string(),
        message: z.string(),
        stack: z.string().nullable().optional().openapi({ description: 'At most 4 KB of the stack.' }),
      })
      .nullable(),
    progress: ProgressSchema.nullable(),
    cancelRequested: z.boolean(),
    note: z.string().nullable(),
    slotCount: z.int().nullable().openapi({
      description:
        'How many slots the record stands for, when more than one: a `run-once` catch-up run, or a skipped or missed record. Null for one slot (`scheduledFor`).',
    }),
    firstSlotAt: isoOut.nullable().openapi({
      description: 'With `slotCount`: the first slot the record stands for.',
    }),
    lastSlotAt: isoOut.nullable().openapi({
      description:
        'With `slotCount`: the last slot the record stands for (every slot of the schedule from `firstSlotAt` through this one).',
    }),
    logs: z.string().nullable().openapi({
      description: 'Where to read the logs: this API’s log route locally, a CloudWatch link on AWS.',
    }),
    ranOn: z
      .object({
        requestId: z.string().nullable(),
        functionName: z.string().nullable(),
        functionVersion: z.string().nullable(),
        logStream: z.string().nullable().openapi({
          description: 'The Lambda log stream on AWS; `local/<pid>` of the worker in the local runtime.',
        }),
      })
      .nullable()
      .openapi({ description: 'Where the run ran, as its claim recorded it; null before it was claimed.' }),

    replayOf: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: 'For a replay (`trigger: replay`): the run it repeats.' }),
  })
  .openapi('Run');
export type RunView = z.infer<typeof RunViewSchema>;

export const RunSummaryViewSchema = z
  .object({
    runId: z.string(),
    taskId: z.string(),
    type: z.string(),
    status: z.enum(runViewStatuses),
    trigger: z.enum(triggerValues),
    attempt: z.int(),
    scheduledFor: isoOut,
    dispatchedAt: isoOut.nullable(),
    startedAt: isoOut.nullable(),
    finishedAt: isoOut.nullable(),
    durationMs: z.number().nullable(),
    slotCount: z.int().nullable(),
    replayOf: z.string().nullable(),
  })
  .openapi('RunSummary', {
    description: 'A run as lists across tasks show it; `GET /tasks/{id}/runs/{runId}` has the rest.',
  });
export type RunSummaryView = z.infer<typeof RunSummaryViewSchema>;
export const RunSummaryPageSchema = z
  .object({ items: z.array(RunSummaryViewSchema), nextToken: z.string().nullable() })
  .openapi('RunSummaryPage');

export const ReplayAcceptedSchema = z
  .object({ runId: z.string(), status: z.enum(runViewStatuses), replayOf: z.string() })
  .openapi('ReplayAccepted');
export type ReplayAccepted = z.infer<typeof ReplayAcceptedSchema>;

export const BackfillInputSchema = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).openapi({ description: 'First instant of the range (included).' }),
    to: z.iso
      .datetime({ offset: true })
      .openapi({ description: 'Last instant of the range (included); not in the future.' }),
    concurrency: z.int().min(1).max(10).optional().openapi({
      description:
        'Backfill runs at once, 1-10 (default 1). Only a task whose overlap policy is `allow` runs more than one at a time.',
    }),
    dryRun: z.boolean().optional().openapi({ description: 'List the slots and queue nothing.' }),
  })
  .openapi('BackfillInput');
export type BackfillInput = z.infer<typeof BackfillInputSchema>;

export const BackfillResultSchema = z
  .object({
    backfillId: z.string().nullable().openapi({ description: '`null` in a dry run.' }),
    dryRun: z.boolean(),
    count: z.int(),
    slots: z.array(
      z.object({
        scheduledFor: isoOut,
        idempotencyKey: z
          .string()
          .openapi({ description: "The run's `ctx.idempotencyKey`: `<taskId>:<slot>`." }),
      }),
    ),
  })
  .openapi('BackfillResult');
export type BackfillResult = z.infer<typeof BackfillResultSchema>;

export const BackfillViewSchema = z
  .object({
    backfillId: z.string(),
    taskId: z.string(),
    from: isoOut,
    to: isoOut,
    concurrency: z.int(),
    queued: z.int().openapi({ description: 'Slots queued as runs so far.' }),
    total: z.int(),
    nextSlotAt: isoOut,
    createdAt: isoOut,
  })
  .openapi('Backfill');
export type BackfillView = z.infer<typeof BackfillViewSchema>;
export const BackfillListSchema = z.object({ items: z.array(BackfillViewSchema) }).openapi('BackfillList');

export const TaskViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    type: z.string(),
    schedule: z.string(),
    scheduleDescription: z.string().nullable(),
    timezone: z.string(),
    enabled: z.boolean(),
    priority: z.int(),
    parameters: z.record(z.string(), z.unknown()),
    overlap: z.enum(overlapValues),
    catchUp: z.enum(catchUpValues),
    catchUpMaxRuns: z.int(),
    catchUpWindowSeconds: z.int(),
    retry: z.object({ maxAttempts: z.int(), backoffSeconds: z.number(), maxBackoffSeconds: z.number() }),
    stopOnError: z.boolean(),
    idempotent: z.boolean().optional().openapi({ description: 'Present, `true`, on an idempotent task.' }),
    listSucceeded: z
      .boolean()
      .optional()
      .openapi({ description: 'Present when set on the task; absent: the default listing.' }),
    successesListed: z.enum(successListings).openapi({
      description:
        'Which of its successes `GET /runs` lists: `all`; `except-scheduled` (the default for a task due every minute or more often: its scheduled slots are only in its history; run-now, retries, catch-up, replays and backfills are listed); `none` (`listSucceeded: false`).',
    }),
    timeoutSeconds: z.number(),
    hidden: z.boolean(),
    system: z.boolean(),
    startAt: isoOut.nullable(),
    endAt: isoOut.nullable(),
    maxRuns: z.int().nullable(),
    jitterSeconds: z.number(),
    historyRetentionDays: z.number(),
    mustSucceedEvery: z.string().nullable().openapi({ description: 'The dead-man promise; null: none.' }),
    lastSucceededAt: isoOut.nullable().openapi({ description: 'When the last successful run finished.' }),
    successDeadline: isoOut.nullable().openapi({
      description:
        'With a promise: when the task is overdue without a success (in the past while `overdue`); null without one.',
    }),
    overdue: z.boolean().openapi({
      description: 'The promise is broken: no success since `successDeadline`.',
    }),
    description: z.string().nullable(),
    version: z.int(),
    createdAt: isoOut,
    updatedAt: isoOut,
    nextRunAt: isoOut.nullable().openapi({
      description: 'Next scheduled start (jitter included), or an earlier queued run; null when none.',
    }),
    lastRunAt: isoOut.nullable(),
    lastStatus: z.string().nullable(),
    lastResult: z.string().nullable(),
    lastError: z.object({ name: z.string(), message: z.string() }).nullable(),
    lastDurationMs: z.number().nullable(),
    runCount: z.int(),
    disabledReason: z.string().nullable(),
    currentRun: RunViewSchema.nullable(),
    queuedRuns: z
      .int()
      .openapi({ description: 'Runs owed but not started (run-now, retries, queued slots).' }),
    nextSlots: z
      .array(isoOut)
      .openapi({ description: 'The next five nominal slots after now (none while disabled).' }),
  })
  .openapi('Task');
export type TaskView = z.infer<typeof TaskViewSchema>;

/** A value in an apply's field diff: what the API shows for the field (`null` when absent). */
const diffValue = z.unknown().openapi({ description: 'The field as the task view shows it.' });

export const TaskChangeSchema = z
  .object({
    id: z.string(),
    action: z.enum(['created', 'updated', 'unchanged']),
    fields: z
      .record(z.string(), z.object({ from: diffValue, to: diffValue }))
      .optional()
      .openapi({ description: 'For `updated`: each declared field that changed, `{from, to}`.' }),
  })
  .openapi('TaskChange');

export const ApplyResultSchema = z
  .object({
    dryRun: z.boolean().openapi({ description: 'True when nothing was written.' }),
    changes: z.array(TaskChangeSchema).openapi({ description: 'One per declaration, in order.' }),
  })
  .openapi('ApplyResult');
export type ApplyResult = z.infer<typeof ApplyResultSchema>;

export const TaskPageSchema = z
  .object({ items: z.array(TaskViewSchema), nextToken: z.string().nullable() })
  .openapi('TaskPage');
export const RunPageSchema = z
  .object({ items: z.array(RunViewSchema), nextToken: z.string().nullable() })
  .openapi('RunPage');

export const TaskTypeViewSchema = z
  .object({
    name: z.string(),
    functionName: z.string(),
    description: z.string().nullable(),
    timeoutSeconds: z.number().nullable(),
    parametersSchema: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({
        description:
          "JSON Schema (draft 2020-12) of the type's parameters, as its `defineTask` declares them; `null`: any JSON object. " +
          'Create, update and run-now refuse parameters that do not fit it (400 `validation_failed` naming each field).',
      }),
  })
  .openapi('TaskType');
export const TaskTypeListSchema = z.object({ items: z.array(TaskTypeViewSchema) }).openapi('TaskTypeList');

export const RunAcceptedSchema = z
  .object({
    runId: z.string(),
    status: z.enum(runViewStatuses).openapi({
      description:
        'Run-now: `dispatched` when started at once, `queued` when it waits (overlap policy, or dispatch failed: the next tick starts it). Cancel: `running` (flag set) or `cancelled` (never started).',
    }),
  })
  .openapi('RunAccepted');

export const SchedulerViewSchema = z
  .object({
    state: z.enum(['running', 'paused']),
    lastTickAt: isoOut.nullable(),
    lastTickDurationMs: z.number().nullable(),
    lastTickStarted: z.number().nullable().openapi({ description: 'Runs the last tick started.' }),
  })
  .openapi('Scheduler');

export const PreviewSchema = z
  .object({ schedule: z.string(), timezone: z.string(), description: z.string(), next: z.array(isoOut) })
  .openapi('SchedulePreview');

export const LogsSchema = z
  .object({
    lines: z
      .array(z.object({ at: z.string(), level: z.string().nullable(), message: z.string() }))
      .nullable(),
    url: z.string().nullable(),
  })
  .openapi('RunLogs');

const errorCodeValues = Object.keys(errorCodes) as [keyof typeof errorCodes, ...(keyof typeof errorCodes)[]];
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.enum(errorCodeValues),
      message: z.string(),
      details: z.array(z.object({ field: z.string(), message: z.string() })),
    }),
  })
  .openapi('Error');

// --- parameters --------------------------------------------------------------------------------

const limitParam = z.coerce
  .number()
  .int()
  .min(1)
  .max(100)
  .optional()
  .openapi({
    param: { name: 'limit', in: 'query' },
    description: 'Page size, 1-100 (default 25).',
    type: 'integer',
  });
const nextTokenParam = z
  .string()
  .max(4096)
  .optional()
  .openapi({ param: { name: 'nextToken', in: 'query' }, description: 'From the previous page.' });
const booleanParam = (name: string, description: string) =>
  z
    .enum(['true', 'false'])
    .optional()
    .openapi({ param: { name, in: 'query' }, description });

export const TaskIdParams = z.object({
  id: z
    .string()
    .max(1024)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'nightly-cleanup' }),
});
export const RunIdParams = z.object({
  id: z
    .string()
    .max(1024)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'nightly-cleanup' }),
  runId: z
    .string()
    .max(1024)
    .openapi({ param: { name: 'runId', in: 'path' }, example: '01JQ0000000000000000000000' }),
});
export const ListTasksQuery = z.object({
  limit: limitParam,
  nextToken: nextTokenParam,
  includeHidden: booleanParam('includeHidden', 'Include hidden tasks.'),
});
export const ListRunsQuery = z.object({ limit: limitParam, nextToken: nextTokenParam });
const queryText = (name: string, description: string, max = 256) =>
  z
    .string()
    .min(1)
    .max(max)
    .optional()
    .openapi({ param: { name, in: 'query' }, description });
const queryInstant = (name: string, description: string) =>
  z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name, in: 'query' }, description });
export const ListAllRunsQuery = z.object({
  status: z
    .string()
    .regex(
      new RegExp(`^(${Object.values(RunStatus).join('|')})(,(${Object.values(RunStatus).join('|')}))*$`),
      `must be one or more of ${Object.values(RunStatus).join(', ')}, comma-separated`,
    )
    .optional()
    .openapi({
      param: { name: 'status', in: 'query' },
      description: 'Only runs in these states (comma-separated), e.g. `failed,timed-out`.',
    }),
  type: queryText('type', 'Only runs of this task type.'),
  trigger: z
    .enum(triggerValues)
    .optional()
    .openapi({ param: { name: 'trigger', in: 'query' }, description: 'Only runs with this trigger.' }),
  taskId: queryText('taskId', 'Only runs of this task.', 128),
  from: queryInstant('from', 'Only runs created at or after this instant.'),
  to: queryInstant('to', 'Only runs created at or before this instant.'),
  limit: limitParam,
  nextToken: nextTokenParam,
});
export type ListAllRunsQuery = z.infer<typeof ListAllRunsQuery>;
export const DeleteQuery = z.object({
  force: booleanParam('force', 'Cancel active runs, then delete.'),
});
export const IfMatchHeaders = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"?\d{1,15}"?$/, 'must be the task version, e.g. "3"')
    .optional()
    .openapi({
      param: { name: 'if-match', in: 'header' },
      description: 'The version the change is based on; 409 `version_conflict` if the task moved on.',
    }),
});
export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters without spaces')
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description:
        'Run-now once per key: the same key within 24 hours answers with the first run (header `Idempotent-Replayed: true`) and starts nothing. `tickwork run` sends one per invocation.',
    }),
});
export const PreviewQuery = z.object({
  schedule: z
    .string()
    .min(1)
    .max(256)
    .openapi({ param: { name: 'schedule', in: 'query' }, example: '0 9 * * 1-5' }),
  timezone: z
    .string()
    .min(1)
    .max(64)
    .optional()
    .openapi({ param: { name: 'timezone', in: 'query' }, example: 'Europe/Berlin' }),
  count: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .optional()
    .openapi({
      param: { name: 'count', in: 'query' },
      description: 'Slots to list, 1-50 (default 5).',
      type: 'integer',
    }),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({
      param: { name: 'from', in: 'query' },
      description: 'List slots after this instant (default now).',
    }),
});

export const DashboardConfigSchema = z
  .object({
    login: z
      .object({
        issuer: z.string().openapi({ description: 'The OIDC issuer the API trusts.' }),
        clientId: z
          .string()
          .openapi({ description: 'The public client (no secret) the dashboard signs in as.' }),
        scopes: z.array(z.string()).openapi({ description: 'Scopes to request, `openid` first.' }),
        redirectUri: z
          .string()
          .openapi({ description: 'Where the provider sends the browser back: the dashboard.' }),
        authorizationEndpoint: z.string(),
        tokenEndpoint: z.string(),
        endSessionEndpoint: z.string().nullable(),
      })
      .nullable()
      .openapi({ description: 'How the dashboard signs in; `null` when it needs no sign-in (IAM, local).' }),
  })
  .openapi('DashboardConfig');

// --- the views as clients type them (the CLI, the dashboard, the e2e client) ------------------

export type RunAccepted = z.infer<typeof RunAcceptedSchema>;
export type SchedulerView = z.infer<typeof SchedulerViewSchema>;
export type TaskTypeView = z.infer<typeof TaskTypeViewSchema>;
export type SchedulePreview = z.infer<typeof PreviewSchema>;
export type RunLogs = z.infer<typeof LogsSchema>;
export type DashboardConfig = z.infer<typeof DashboardConfigSchema>;
/** One page of a list: its items and the token of the next page (`null` on the last). */
export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

/** The audit trail's view (declared in `audit-schemas.ts`), for clients that read this module's types. */
export type { AuditEntryView } from './audit-schemas.js';
