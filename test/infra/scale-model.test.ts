/**
 * The scale model (`infra/scale-model.ts`, docs/scaling.md) as the look-ahead tick runs a burst:
 * the lease phase before the slot within the lead the window gives, the invokes alone at the slot,
 * the tick's heap, life and cost, and the settings `recommendSettings` picks for a start target.
 */
import { describe, expect, it } from 'vitest';
import { TICK_INTERVAL, TICK_LOOKAHEAD } from '../../infra/names.js';
import {
  assessLoad,
  awsLimits,
  LEASE_LEAD_SECONDS,
  leaseLeadSeconds,
  recommendSettings,
  runCosts,
  tickDesign,
} from '../../infra/scale-model.js';

const defaults = { shardCount: 4, tickShardGroups: 1, tickMemoryMb: 512, tickTimeoutSeconds: 150 };
const oneVcpu = { ...defaults, tickMemoryMb: 1769 };
const load = (due: number) => ({ tasks: 1_000_000, duePerMinute: due });

describe('the lead before a slot', () => {
  it('is the construct’s cadence and window: 60 s for a 122 s look-ahead on a one-minute tick', () => {
    expect(tickDesign).toEqual({
      intervalSeconds: TICK_INTERVAL.toSeconds(),
      lookAheadSeconds: TICK_LOOKAHEAD.toSeconds(),
    });
    expect(LEASE_LEAD_SECONDS).toBe(60);
  });

  it('is a whole interval less than the window’s whole intervals, and none when the window stops in the next one', () => {
    expect(leaseLeadSeconds({ intervalSeconds: 60, lookAheadSeconds: 182 })).toBe(120);
    expect(leaseLeadSeconds({ intervalSeconds: 60, lookAheadSeconds: 119 })).toBe(0);
    expect(leaseLeadSeconds({ intervalSeconds: 10, lookAheadSeconds: 22 })).toBe(10);
  });

  it('shrinks when the tick timeout cuts the window (the tick waits for its last instant), and says so', () => {
    const a = assessLoad(load(1000), { ...oneVcpu, tickTimeoutSeconds: 120 });
    expect(a.lease.leadSeconds).toBe(0);
    expect(a.lease.fits).toBe(false);
    expect(a.problems[0]).toBe(
      "a 120 s tick timeout cuts the tick's look-ahead to 107 s of the 122 s it needs (the tick waits for its last instant): " +
        'the slots past it are not leased ahead',
    );
  });
});

describe('assessLoad', () => {
  it('splits the measured tick CPU per run into the lease phase and the invoke at the slot', () => {
    expect(runCosts.tickLeaseCpuMs + runCosts.tickInvokeCpuMs).toBeCloseTo(2.1);
  });

  it('times the start at the slot by the invokes alone: the largest group at its vCPU share, its I/O, the Invoke quota', () => {
    // Act: 10,000 due over 8 shards in 8 groups, one vCPU a tick.
    const a = assessLoad(load(10_000), { ...oneVcpu, shardCount: 8, tickShardGroups: 8 });

    // Assert: 1,250 invokes a tick at 0.8 ms; 64 in flight at 25 ms; 10,000 a second of quota.
    expect(a.largestGroup).toBe(1250);
    expect(a.start.bounds.tickCpu).toBeCloseTo(1.0);
    expect(a.start.bounds.tickIo).toBeCloseTo((1250 * 0.025) / 64);
    expect(a.start.bounds.invokeQuota).toBeCloseTo(1.0);
    expect(a.start.seconds).toBeCloseTo(1.0);
    expect(a.start.p99Seconds).toBeCloseTo(0.99);
  });

  it('times the lease phase by the read and the slowest of the writes’ bounds, and checks it against the lead', () => {
    const a = assessLoad(load(10_000), defaults);
    // 10,000 leases at 1.3 ms of a vCPU, in a 512 MB tick (0.29 of one).
    expect(a.lease.limitedBy).toBe('tickCpu');
    expect(a.lease.bounds.tickCpu).toBeCloseTo((10_000 * 1.3) / 1000 / (512 / 1769));
    expect(a.lease.seconds).toBeCloseTo(a.lease.bounds.read + a.lease.bounds.tickCpu);
    expect(a.lease.leadSeconds).toBe(60);
    expect(a.lease.fits).toBe(true);
    expect(assessLoad(load(100_000), defaults).lease.fits).toBe(false);
  });

  it('throttles the due index when a tick offers a shard more than a partition takes, from runCosts’ units', () => {
    // One tick at one vCPU leases ~770 runs a second over its shards: at 1 unit each, one shard
    // keeps up; at 2 units a dispatch (a key that moves), it does not.
    const one = { ...oneVcpu, shardCount: 1, tickShardGroups: 1 };
    expect(assessLoad(load(5000), one).throttled).toEqual([]);
    const moving = assessLoad(load(5000), one, { ...runCosts, dueIndexWriteUnits: 2 });
    expect(moving.throttled).toEqual(['dueIndex']);
    expect(moving.lease.limitedBy).toBe('dueIndex');
    expect(moving.problems.join('\n')).toContain('it throttles; add shards');
  });

  it('holds the window’s leased runs in the tick’s heap and keeps the tick alive until its last instant', () => {
    const a = assessLoad(load(10_000), defaults);
    expect(a.tick.heapMb).toBeCloseTo(90 + (10_000 * 6000) / 2 ** 20);
    // The window, then the last instant's invokes (10,000 at 0.8 ms of 0.29 vCPU).
    expect(a.start.seconds).toBeCloseTo((10_000 * 0.8) / 1000 / (512 / 1769));
    expect(a.tick.durationSeconds).toBeCloseTo(122 + a.start.seconds);
    expect(a.tick.budgetSeconds).toBe(140);
    expect(a.problems.join('\n')).toMatch(
      /a tick lives ~149\.6 s .* beyond its budget of 140 s: it is cut off/,
    );
    // Three ticks alive at once (one a minute, each ~150 s), billed for their whole life.
    expect(a.tick.alive).toBe(3);
    expect(a.tick.gbSecondsPerMonth).toBeCloseTo(a.tick.durationSeconds * 0.5 * 43_800);
    expect(a.tick.usdPerMonth).toBeCloseTo(a.tick.gbSecondsPerMonth * awsLimits.lambdaGbSecondUsd);
  });

  it('carries 1,000 due on the defaults, with nothing to ask of the account', () => {
    const a = assessLoad(load(1000), defaults);
    expect(a.problems).toEqual([]);
    expect(a.accountNeeds).toEqual([]);
    expect(a.lease.fits).toBe(true);
  });
});

describe('recommendSettings', () => {
  it('meets a 1 s p99 start at the slot for 1,000 and 10,000 due, leasing well within the lead', () => {
    for (const due of [1000, 10_000]) {
      const r = recommendSettings(load(due));
      expect(r.startTarget.met, String(due)).toBe(true);
      expect(r.assessment.start.p99Seconds).toBeLessThanOrEqual(1);
      expect(r.assessment.lease.seconds).toBeLessThanOrEqual(0.8 * LEASE_LEAD_SECONDS);
      expect(r.assessment.problems).toEqual([]);
      expect(r.shardCount % r.tickShardGroups).toBe(0);
      expect(r.tickTimeoutSeconds).toBe(150);
    }
  });

  it('gives the closest it can reach for 100,000 due in 1 s, and says why; meets a 10 s target with fewer ticks', () => {
    const r = recommendSettings(load(100_000));
    expect(r.tickShardGroups).toBe(64);
    expect(r.startTarget.met).toBe(false);
    expect(r.assessment.start.p99Seconds).toBeGreaterThan(1);
    expect(r.startTarget.reason).toMatch(
      /^1\.2 s at p99 is the least these settings reach: 64 shard groups \(at most 64 shards\) leave 1,563 invokes to each tick/,
    );
    expect(r.assessment.accountNeeds.join('\n')).toContain('Lambda concurrency quota of');
    const relaxed = recommendSettings(load(100_000), 10);
    expect(relaxed.startTarget.met).toBe(true);
    expect(relaxed.tickShardGroups).toBeLessThan(r.tickShardGroups);
    expect(relaxed.assessment.tick.usdPerMonth).toBeLessThan(r.assessment.tick.usdPerMonth);
  });

  it('keeps each shard below 80% of a partition under a tick’s lease writes, whatever a dispatch costs the index', () => {
    const r = recommendSettings(load(100_000), 1, { ...runCosts, dueIndexWriteUnits: 2 });
    // 770 leases a second at 2 units a shard: two shards a group, so at most 32 groups.
    expect(r.shardCount / r.tickShardGroups).toBeGreaterThanOrEqual(2);
    expect(r.assessment.throttled).toEqual([]);
  });
});
