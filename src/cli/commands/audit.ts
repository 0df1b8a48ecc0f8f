/** `tickwork audit [<task>]`: the audit trail, who did what and what it changed, newest first. */
import type { AuditEntryView } from '../../api/audit-schemas.js';
import { int } from '../args.js';
import { allPages } from '../client.js';
import type { Command } from '../command.js';
import { table } from '../format.js';
import { emit } from '../print.js';

const shown = (value: unknown) => (value === null || value === undefined ? '-' : JSON.stringify(value));

/** `field: before → after`, one per change; `wide` keeps every change whole. */
export function changesText(entry: AuditEntryView, wide: boolean): string {
  if (entry.action === 'create' || entry.action === 'delete') {
    const fields = entry.changes.map((c) => c.field);
    if (!wide) return fields.length > 0 ? `${fields.length} fields` : '';
    return entry.changes
      .map((c) => `${c.field}: ${shown(entry.action === 'create' ? c.after : c.before)}`)
      .join('; ');
  }
  const text = entry.changes.map((c) => `${c.field}: ${shown(c.before)} → ${shown(c.after)}`).join('; ');
  return wide || text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}

const who = (entry: AuditEntryView) =>
  entry.actor.name ? `${entry.actor.name} (${entry.actor.id})` : entry.actor.id;

/** Entries as a table; `wide` adds the door, the entry id, and every change whole. */
export function auditTable(entries: AuditEntryView[], wide = false): string {
  const headers = ['at', 'who', 'action', 'task', 'run', 'changes'];
  const row = (e: AuditEntryView) => [e.at, who(e), e.action, e.taskId, e.runId];
  if (!wide)
    return table(
      headers,
      entries.map((e) => [...row(e), changesText(e, false)]),
    );
  return table(
    [...headers.slice(0, -1), 'via', 'entry', 'changes'],
    entries.map((e) => [...row(e), e.via, e.id, changesText(e, true)]),
  );
}

const audit: Command = {
  name: 'audit',
  usage: 'tickwork audit [<id>] [--limit <n>]',
  summary:
    'Who created, edited, deleted, ran, replayed, backfilled, cancelled, paused or resumed what, newest first',
  details: `  <id>               only this task's entries (also of a deleted task)
  --limit <n>        at most n entries (default 20)`,
  options: { limit: { type: 'string' } },
  args: [0, 1],
  async run(ctx, [taskId], values) {
    const limit = int(values.limit, 'limit') ?? 20;
    const items = await allPages(
      (nextToken) => ctx.client().audit({ taskId, limit: Math.min(100, limit), nextToken }),
      limit,
    );
    emit(ctx, items, (wide) => (items.length === 0 ? 'no audit entries' : auditTable(items, wide)));
    return 0;
  },
};

/** The audit trail's command. */
export const auditCommands: Command[] = [audit];
