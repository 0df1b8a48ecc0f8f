import { describe, expect, it } from 'vitest';
import { leaseOfEvent, sameJson } from '../../src/core/lease-check.js';
import type { ActiveRun } from '../../src/core/model.js';
import { runEventOf } from '../../src/core/run-event.js';
import { aTask, at, T0 } from '../support/builders.js';

const lease: ActiveRun = {
  runId: 'run-1',
  token: 4,
  scheduledFor: T0,
  dispatchedAt: at(100),
  expiresAt: at(300_000),
  attempt: 2,
  trigger: 'retry',
  parameters: { a: 1, nested: { x: [1, 2], y: null } },
};
const task = aTask({ type: 'Acme.Job', fence: 4, active: [lease] });
const event = runEventOf(task, lease);

describe('leaseOfEvent', () => {
  it('finds the lease of an event the tick wrote, whatever the order of parameter keys', () => {
    expect(leaseOfEvent(task, event)).toEqual({ lease });
    const reordered = { ...event, parameters: { nested: { y: null, x: [1, 2] }, a: 1 } };
    expect(leaseOfEvent(task, reordered)).toEqual({ lease });
  });

  it('names every field that differs from the lease', () => {
    const forged = { ...event, token: 5, attempt: 1, parameters: { a: 2, nested: { x: [1, 2], y: null } } };
    expect(leaseOfEvent(task, forged)).toMatchObject({
      refused: 'mismatch',
      fields: ['token', 'attempt', 'parameters'],
    });
    expect(leaseOfEvent(task, { ...event, scheduledFor: at(1).toISOString() })).toMatchObject({
      fields: ['scheduledFor'],
    });
  });

  it('refuses a run no lease holds, and a task that is gone', () => {
    expect(leaseOfEvent(task, { ...event, runId: 'run-2' })).toMatchObject({ refused: 'no-lease' });
    expect(leaseOfEvent(undefined, event)).toMatchObject({ refused: 'no-lease' });
  });
});

describe('sameJson', () => {
  it('compares structure, not identity or key order', () => {
    expect(sameJson({ a: [1, { b: 'x' }] }, { a: [1, { b: 'x' }] })).toBe(true);
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(sameJson({ a: 1 }, { a: 1, b: undefined as never })).toBe(false);
    expect(sameJson([1, 2], [2, 1])).toBe(false);
    expect(sameJson({ a: null }, { a: 0 })).toBe(false);
    expect(sameJson([], {})).toBe(false);
  });
});
