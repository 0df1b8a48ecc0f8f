/** Schedule helpers shared by the schedule suites. */
import { expect } from 'vitest';
import { ScheduleValidationError } from '../../src/core/errors.js';
import { parseSchedule, type ScheduleOptions } from '../../src/core/schedule.js';

/** The issues `parseSchedule` throws for an expression; fails the test when it does not throw. */
export function issuesOf(expression: string, options?: ScheduleOptions) {
  try {
    parseSchedule(expression, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleValidationError);
    return (error as ScheduleValidationError).issues;
  }
  throw new Error(`expected "${expression}" to be refused`);
}
