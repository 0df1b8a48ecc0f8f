import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { newId, randomFraction } from '../../src/ids.js';

describe('newId', () => {
  it('makes ULIDs of the current time', () => {
    const before = Date.now();
    const id = newId();
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(id)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(id)).toBeLessThanOrEqual(Date.now());
  });

  it('makes distinct ids that increase in the order they were made', () => {
    const ids = Array.from({ length: 20_000 }, () => newId());
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('draws its randomness uniformly from all 256 byte values', () => {
    const counts = new Array<number>(256).fill(0);
    const draws = 256 * 400;
    let outside = 0;
    for (let i = 0; i < draws; i++) {
      const x = randomFraction();
      if (!(x >= 0 && x < 1)) outside++;
      const byte = Math.round(x * 256);
      counts[byte] = (counts[byte] ?? 0) + 1;
    }
    expect(outside).toBe(0);
    // Each value is expected 400 times (sd 20): a stuck or short pool lands far outside.
    expect(Math.min(...counts)).toBeGreaterThan(250);
    expect(Math.max(...counts)).toBeLessThan(550);
  });
});
