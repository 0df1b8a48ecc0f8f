import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument, renderApiMarkdown } from '../../src/api/docs.js';
import { errorCodes } from '../../src/api/errors.js';

describe('API reference', () => {
  it('docs/api.md is what `npm run docs:api` generates from the schemas (run it after changing them)', () => {
    const committed = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderApiMarkdown());
  });

  it('documents every route of DESIGN section 5 and every error code', () => {
    const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe('3.1.0');
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'GET /task-types',
        'GET /runs',
        'GET /backfills',
        'POST /tasks/{id}/backfill',
        'POST /tasks/{id}/runs/{runId}/replay',
        'GET /tasks',
        'POST /tasks',
        'POST /tasks/apply',
        'GET /tasks/{id}',
        'PATCH /tasks/{id}',
        'DELETE /tasks/{id}',
        'POST /tasks/{id}/run',
        'POST /tasks/{id}/cancel',
        'GET /tasks/{id}/runs',
        'GET /tasks/{id}/runs/{runId}',
        'GET /tasks/{id}/runs/{runId}/logs',
        'GET /scheduler',
        'POST /scheduler/pause',
        'POST /scheduler/resume',
        'GET /schedule-preview',
        'GET /audit',
        'GET /',
        'GET /dashboard-config',
      ].sort(),
    );
    const markdown = renderApiMarkdown();
    for (const code of Object.keys(errorCodes)) expect(markdown).toContain(`| \`${code}\` |`);
  });
});
