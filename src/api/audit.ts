/**
 * The audit trail's use cases: building an entry for a change (the store writes it in the same
 * transaction as the change, so an action is never without its entry) and reading the trail.
 */
import {
  type Actor,
  type AuditAction,
  type AuditEntry,
  type AuditVia,
  DEFAULT_AUDIT_RETENTION_DAYS,
  type FieldChange,
} from '../core/audit.js';
import { newId } from '../ids.js';
import type { AuditEntryView } from './audit-schemas.js';
import type { ApiDeps } from './deps.js';
import { localActor } from './roles.js';
import { TASK_ID_PATTERN } from './schemas.js';

const DAY_MS = 86_400_000;

/** Who acts and through which door; the local actor through the API unless said. */
export interface AuditContext {
  actor?: Actor | undefined;
  via?: AuditVia | undefined;
}

/** An entry for an action happening now, kept `deps.auditRetentionDays` (90 unless set). */
export function auditEntry(
  deps: Pick<ApiDeps, 'clock' | 'auditRetentionDays'>,
  context: AuditContext,
  what: { action: AuditAction; taskId?: string; runId?: string; changes?: FieldChange[] },
): AuditEntry {
  const at = deps.clock.now();
  const days = deps.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS;
  return {
    id: newId(),
    at,
    actor: context.actor ?? localActor,
    action: what.action,
    via: context.via ?? 'api',
    ...(what.taskId !== undefined ? { taskId: what.taskId } : {}),
    ...(what.runId !== undefined ? { runId: what.runId } : {}),
    changes: what.changes ?? [],
    expiresAt: new Date(at.getTime() + days * DAY_MS),
  };
}

export function auditView(entry: AuditEntry): AuditEntryView {
  return {
    id: entry.id,
    at: entry.at.toISOString(),
    actor: { kind: entry.actor.kind, id: entry.actor.id, name: entry.actor.name ?? null },
    action: entry.action,
    via: entry.via,
    taskId: entry.taskId ?? null,
    runId: entry.runId ?? null,
    changes: entry.changes,
    expiresAt: entry.expiresAt.toISOString(),
  };
}

/**
 * The trail, newest first, or one task's (also of a deleted task: entries outlive it). An id
 * that cannot be a task's has no entries: an empty page, not a 404.
 */
export async function listAudit(
  deps: ApiDeps,
  query: { taskId?: string | undefined; limit?: number | undefined; nextToken?: string | undefined },
): Promise<{ items: AuditEntryView[]; nextToken: string | null }> {
  const { taskId } = query;
  if (taskId !== undefined && !TASK_ID_PATTERN.test(taskId)) return { items: [], nextToken: null };
  const page = await deps.store.listAudit({
    limit: query.limit ?? 25,
    ...(taskId !== undefined ? { taskId } : {}),
    ...(query.nextToken !== undefined ? { nextToken: query.nextToken } : {}),
  });
  return { items: page.items.map(auditView), nextToken: page.nextToken ?? null };
}
