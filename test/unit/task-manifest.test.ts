import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { taskTypeFromItem, taskTypeToItem } from '../../src/store/dynamo-items.js';
import { defineTask } from '../../src/task/index.js';
import { taskTypeManifest } from '../../src/task/manifest.js';

const report = defineTask({
  description: 'Builds a report',
  parameters: z.object({ region: z.enum(['eu', 'us']), days: z.number().int().default(7) }),
  run: async (ctx) => ctx.parameters.region,
});

describe('taskTypeManifest', () => {
  it('names each type once, with its description and the input schema of its parameters', () => {
    const [entry, plain] = taskTypeManifest({ 'Acme.Report': report, 'Acme.Plain': async () => 'ok' });
    expect(entry?.name).toBe('Acme.Report');
    expect(entry?.description).toBe('Builds a report');
    expect(entry?.parametersSchema).toMatchObject({
      type: 'object',
      properties: { region: { enum: ['eu', 'us'] }, days: { type: 'integer', default: 7 } },
      required: ['region'],
    });
    expect(plain).toEqual({ name: 'Acme.Plain' });
  });

  it('refuses a name that cannot be a task type, naming it', () => {
    expect(() => taskTypeManifest({ 'bad name': report })).toThrow(/"bad name"/);
  });

  it('keeps the schema on the type item through a round trip', () => {
    const [entry] = taskTypeManifest({ 'Acme.Report': report });
    const type = { name: 'Acme.Report', functionName: 'fn', parametersSchema: entry?.parametersSchema };
    expect(taskTypeFromItem(taskTypeToItem(type))).toEqual(type);
  });
});
