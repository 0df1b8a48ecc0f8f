/** The audit trail's API shapes (`GET /audit`), from zod, like `schemas.ts`. */
import { z } from '@hono/zod-openapi';
import { auditActions } from '../core/audit.js';

export const AuditEntryViewSchema = z
  .object({
    id: z.string().openapi({ description: 'The entry id (a ULID: entries sort by it).' }),
    at: z.string().openapi({ description: 'When, ISO 8601 UTC.' }),
    actor: z
      .object({
        kind: z.enum(['jwt', 'iam', 'local', 'deploy']),
        id: z.string().openapi({
          description:
            "A JWT's `sub`, an IAM caller's ARN, `local` (the local runtime; `local:token` beyond loopback), or `cloudformation` (a deploy).",
        }),
        name: z.string().nullable().openapi({ description: "The JWT's username, when it has one." }),
      })
      .openapi('AuditActor'),
    action: z.enum(auditActions as [string, ...string[]]),
    via: z.enum(['api', 'apply', 'deploy']).openapi({
      description: 'The door: the HTTP API, `POST /tasks/apply`, or a deploy (tasks as code).',
    }),
    taskId: z.string().nullable(),
    runId: z.string().nullable(),
    changes: z
      .array(z.object({ field: z.string(), before: z.unknown(), after: z.unknown() }).openapi('AuditChange'))
      .openapi({
        description:
          'Field by field: a create lists the fields set (before `null`), an update those it changed, a delete the task as it was (after `null`); a run-now the parameters it overrode; a replay `replayOf` (the new run is `runId`); a backfill its `from`, `to`, `concurrency` and `slots`.',
      }),
    expiresAt: z.string().openapi({ description: 'When the entry may be removed (the retention).' }),
  })
  .openapi('AuditEntry');
export type AuditEntryView = z.infer<typeof AuditEntryViewSchema>;

export const AuditPageSchema = z
  .object({ items: z.array(AuditEntryViewSchema), nextToken: z.string().nullable() })
  .openapi('AuditPage');

export const ListAuditQuery = z.object({
  taskId: z
    .string()
    .max(1024)
    .optional()
    .openapi({
      param: { name: 'taskId', in: 'query' },
      description: "Only this task's entries (they outlive the task).",
    }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .openapi({
      param: { name: 'limit', in: 'query' },
      description: 'Page size, 1-100 (default 25).',
      type: 'integer',
    }),
  nextToken: z
    .string()
    .max(4096)
    .optional()
    .openapi({ param: { name: 'nextToken', in: 'query' }, description: 'From the previous page.' }),
});
