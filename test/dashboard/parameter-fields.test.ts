/**
 * The dashboard's reading of a parameters schema, without a browser: which schemas become fields,
 * and that the example a JSON editor starts from is accepted by the schema it was built from
 * (by the original zod schema and by the API's check of its JSON Schema).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parameterIssues } from '../../src/api/parameters.js';
import {
  exampleOf,
  flatFieldsOf,
  initialParameters,
  parameterErrorsOf,
  parametersOf,
} from '../../src/dashboard/app/parameter-fields.js';
import { parametersJsonSchema } from '../../src/task/manifest.js';

interface Tree {
  name: string;
  children?: Tree[];
}
const tree: z.ZodType<Tree> = z.lazy(() =>
  z.object({ name: z.string(), children: z.array(tree).optional() }),
);

const nested: Record<string, z.ZodType> = {
  'nested objects': z.object({ target: z.object({ bucket: z.string(), region: z.enum(['eu', 'us']) }) }),
  'arrays with a minimum': z.object({ tags: z.array(z.string().min(2)).min(2), ids: z.array(z.int()) }),
  tuples: z.object({ pair: z.tuple([z.string(), z.number().min(3)]) }),
  unions: z.object({ id: z.union([z.int().min(5), z.string()]) }),
  'discriminated unions': z.object({
    source: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('s3'), bucket: z.string() }),
      z.object({ kind: z.literal('http'), url: z.url() }),
    ]),
  }),
  intersections: z.object({
    both: z.intersection(z.object({ a: z.string() }), z.object({ b: z.boolean() })),
  }),
  'recursive types ($ref)': z.object({ root: tree }),
  'formats and exclusive bounds': z.object({
    contact: z.object({ email: z.email(), site: z.url(), since: z.iso.datetime() }),
    ratio: z.number().gt(0).lte(1),
    count: z.int().gt(10),
    negative: z.number().max(-5),
  }),
  'nullable and literal': z.object({
    note: z.string().nullable(),
    mode: z.literal('full'),
    rest: z.record(z.string(), z.int()),
  }),
};

describe('exampleOf', () => {
  it.each(Object.entries(nested))('builds an accepted example for %s', (_what, schema) => {
    const json = parametersJsonSchema(schema);
    const example = exampleOf(json);
    expect(flatFieldsOf(json)).toBeUndefined();
    expect(schema.safeParse(example).error?.issues ?? []).toEqual([]);
    expect(parameterIssues({ name: 't', parametersSchema: json }, example)).toEqual([]);
  });

  it('keeps defaults, takes the first enum value, minimums, and required fields only', () => {
    const json = parametersJsonSchema(
      z.object({
        region: z.enum(['apac', 'eu']),
        pages: z.int().min(3).default(10),
        depth: z.int().min(2),
        limits: z.object({ max: z.number().min(1.5), note: z.string().optional() }),
        title: z.string().optional(),
      }),
    );
    expect(exampleOf(json)).toEqual({ region: 'apac', depth: 2, limits: { max: 1.5 } });
  });
});

describe('flatFieldsOf and the values it gives', () => {
  const json = parametersJsonSchema(
    z.object({
      region: z.enum(['eu', 'us']).describe('Where'),
      pages: z.int().min(1).max(9).default(3),
      ratio: z.number().optional(),
      dryRun: z.boolean().default(false),
      title: z.string().optional(),
    }),
  );

  it('reads one field per property, with kinds, bounds, defaults and required marks', () => {
    expect(flatFieldsOf(json)).toEqual([
      { name: 'region', kind: 'enum', required: true, description: 'Where', options: ['eu', 'us'] },
      { name: 'pages', kind: 'integer', required: false, default: 3, minimum: 1, maximum: 9 },
      { name: 'ratio', kind: 'number', required: false },
      { name: 'dryRun', kind: 'boolean', required: false, default: false },
      { name: 'title', kind: 'string', required: false },
    ]);
    expect(flatFieldsOf(null)).toBeUndefined();
    expect(flatFieldsOf(parametersJsonSchema(z.object({})))).toBeUndefined();
  });

  it('round-trips a task’s parameters, leaving empty fields out and keeping unknown keys', () => {
    const state = initialParameters(json, { region: 'us', pages: 7, legacy: 'kept' });
    expect(state.mode).toBe('fields');
    expect(parametersOf(state)).toEqual({ value: { legacy: 'kept', region: 'us', pages: 7, dryRun: false } });
    expect(parametersOf(initialParameters(json, undefined))).toEqual({ value: { dryRun: false } });
  });

  it('starts a type without a schema from {} and a nested one from its example', () => {
    expect(initialParameters(null, undefined)).toEqual({ mode: 'json', text: '{}' });
    const state = initialParameters(parametersJsonSchema(nested['nested objects'] as z.ZodType), undefined);
    expect(state.mode === 'json' && JSON.parse(state.text)).toEqual({ target: { bucket: '', region: 'eu' } });
  });

  it('files the API’s details by parameter path', () => {
    expect(
      parameterErrorsOf([
        { field: 'parameters.region', message: 'bad' },
        { field: 'parameters', message: 'whole' },
        { field: 'schedule', message: 'other' },
        { field: 'parameters.limits.max', message: 'deep' },
      ]),
    ).toEqual({ region: 'bad', '': 'whole', 'limits.max': 'deep' });
  });
});
