/**
 * Backfill (`POST /tasks/{id}/backfill`): a task's slots over a past range, each run as a pending
 * run with `trigger: backfill` and the slot as `scheduledFor` (so the slot's idempotency key),
 * at most `concurrency` at once. A dry run lists the slots and queues nothing. The first runs are
 * queued and dispatched at once; the tick's backfill pump (`src/tick/backfill.ts`) queues the rest
 * as runs finish.
 */
import { AuditAction, type AuditEntry } from '../core/audit.js';
import { backfillSlots, MAX_BACKFILL_SLOTS } from '../core/backfill.js';
import { TaskNotFoundError, ValidationError } from '../core/errors.js';
import type { BackfillJob } from '../core/ports.js';
import { idempotencyKeyOf } from '../core/run-event.js';
import { newId } from '../ids.js';
import { pumpBackfill } from '../tick/backfill.js';
import { dispatchNow } from '../tick/dispatch.js';
import { type AuditContext, auditEntry } from './audit.js';
import type { ApiDeps } from './deps.js';
import type { BackfillInput, BackfillResult, BackfillView } from './schemas.js';

/** The slots of a backfill request, checked: a past, ordered range of at most 1000 slots. */
export async function startBackfill(
  deps: ApiDeps,
  taskId: string,
  input: BackfillInput,
  context: AuditContext = {},
): Promise<BackfillResult> {
  const task = await deps.store.getTask(taskId);
  if (!task) throw new TaskNotFoundError(taskId);
  const now = deps.clock.now();
  const from = new Date(input.from);
  const to = new Date(input.to);
  if (to.getTime() > now.getTime()) {
    throw new ValidationError([
      { field: 'to', message: `must not be in the future (now is ${now.toISOString()})` },
    ]);
  }
  if (from.getTime() > to.getTime())
    throw new ValidationError([{ field: 'from', message: 'must not be after `to`' }]);
  const slots = backfillSlots(task, from, to, MAX_BACKFILL_SLOTS + 1);
  if (slots.length > MAX_BACKFILL_SLOTS) {
    throw new ValidationError([
      { field: 'to', message: `the range holds more than ${MAX_BACKFILL_SLOTS} slots; backfill it in parts` },
    ]);
  }
  const listed = slots.map((slot) => ({
    scheduledFor: slot.toISOString(),
    idempotencyKey: idempotencyKeyOf({ taskId, scheduledFor: slot.toISOString() }),
  }));
  const first = slots[0];
  if (input.dryRun === true || first === undefined) {
    return { backfillId: null, dryRun: input.dryRun === true, count: slots.length, slots: listed };
  }
  const job: BackfillJob = {
    taskId,
    backfillId: newId(),
    from,
    to,
    concurrency: input.concurrency ?? 1,
    nextSlotAt: first,
    queued: 0,
    total: slots.length,
    createdAt: now,
  };
  await deps.store.putBackfill(job, { audit: backfillAudit(deps, context, job) });
  const queued = await pumpBackfill(deps, job, now);
  if (queued.length > 0) {
    await dispatchNow(deps, taskId).catch((error: unknown) =>
      deps.logger?.warn('backfill: dispatch failed; the next tick starts the runs', {
        taskId,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
  }
  return { backfillId: job.backfillId, dryRun: false, count: slots.length, slots: listed };
}

/** The audit entry of a started backfill: its range, concurrency and slot count. */
function backfillAudit(deps: ApiDeps, context: AuditContext, job: BackfillJob): AuditEntry {
  const set = (field: string, after: unknown) => ({ field, before: null, after });
  return auditEntry(deps, context, {
    action: AuditAction.Backfill,
    taskId: job.taskId,
    changes: [
      set('from', job.from.toISOString()),
      set('to', job.to.toISOString()),
      set('concurrency', job.concurrency),
      set('slots', job.total),
    ],
  });
}

/** Backfills still queueing slots (one whose every slot is queued is gone: see its runs). */
export async function listBackfills(deps: ApiDeps): Promise<{ items: BackfillView[] }> {
  const jobs = await deps.store.listBackfills();
  return {
    items: jobs.map((job) => ({
      backfillId: job.backfillId,
      taskId: job.taskId,
      from: job.from.toISOString(),
      to: job.to.toISOString(),
      concurrency: job.concurrency,
      queued: job.queued,
      total: job.total,
      nextSlotAt: job.nextSlotAt.toISOString(),
      createdAt: job.createdAt.toISOString(),
    })),
  };
}
