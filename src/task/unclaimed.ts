/**
 * Runs of idempotent tasks (`idempotent: true` on the task): the claim's write is put off. The
 * handler still reads the task and starts only from its lease, then runs the body at once. A run
 * that ends before its first heartbeat writes its record once, at its end, on condition it has
 * none (`recordRun`): the first outcome wins. A run that heartbeats writes the claim at its first
 * beat, and from there on is an ordinary claimed run (a duplicate that loses that claim finds its
 * lease gone and its signal fires).
 *
 * What it gives up is the exactly-once start: two deliveries of one run may both run the body.
 * What it saves is one write unit a run (docs/architecture.md, "Fewer writes per run").
 */
import type { RunRecord } from '../core/model.js';
import type { CompleteResult, RunClaim, RunFence, RunListing, RunOutcome, TaskStore } from '../core/ports.js';
import { runFromClaim } from '../store/dynamo-items.js';

/** The claim of a run of an idempotent task while it is not written (none once it is). */
export interface PendingClaim {
  claim?: RunClaim;
}

/**
 * The store the run's lease beats through: with a pending claim, the first beat writes the
 * claim first (from this beat's lease end), and reports a lost lease if another delivery's
 * record is there.
 */
export function leaseStoreOf(
  store: Pick<TaskStore, 'heartbeat' | 'claimRun'>,
  pending: PendingClaim,
): Pick<TaskStore, 'heartbeat'> {
  if (!pending.claim) return store;
  return {
    heartbeat: async (taskId, runId, fence, update) => {
      const claim = pending.claim;
      if (claim) {
        const claimed = await store.claimRun({ ...claim, leaseExpiresAt: update.leaseExpiresAt });
        if (!claimed.claimed) return { held: false, status: claimed.existing.status };
        pending.claim = undefined;
      }
      return store.heartbeat(taskId, runId, fence, update);
    },
  };
}

/**
 * The run's end: the fenced completion of a claimed run, or the one record of an unclaimed one;
 * listed in runs across tasks or not, as `listing` says.
 */
export async function recordEnd(
  store: Pick<TaskStore, 'completeRun' | 'recordRun'>,
  pending: PendingClaim,
  ids: { taskId: string; runId: string },
  fence: RunFence,
  outcome: RunOutcome,
  listing: RunListing = {},
): Promise<CompleteResult> {
  const claim = pending.claim;
  if (!claim) return store.completeRun(ids.taskId, ids.runId, fence, outcome, listing);
  const record: RunRecord = {
    ...runFromClaim(claim),
    status: outcome.status,
    finishedAt: outcome.finishedAt,
    durationMs: outcome.durationMs,
    ...(outcome.result !== undefined ? { result: outcome.result } : {}),
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    ...(outcome.note !== undefined ? { note: outcome.note } : {}),
    ...(outcome.progress !== undefined ? { progress: outcome.progress } : {}),
  };
  const result = await store.recordRun(record, listing);
  return result.recorded
    ? { completed: true, run: result.run }
    : { completed: false, current: result.existing };
}
