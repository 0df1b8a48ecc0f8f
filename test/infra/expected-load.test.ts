/**
 * `expectedLoad`: synth warns when the construct's settings cannot start the declared busiest
 * minute in time (the scale model, `infra/scale-model.ts`), stays quiet when they can, and
 * refuses a load that is not a count. `tickMemorySize` reaches the tick function.
 */
import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { recommendSettings } from '../../infra/scale-model.js';
import { aTickworkStack, logicalId } from './support.js';

function warningsOf(props: Parameters<typeof aTickworkStack>[0]): string[] {
  const { stack } = aTickworkStack(props, { types: [] });
  return Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('expectedLoad'))
    .map((w) => String(w.entry.data));
}

function infosOf(props: Parameters<typeof aTickworkStack>[0]): string[] {
  const { stack } = aTickworkStack(props, { types: [] });
  return Annotations.fromStack(stack)
    .findInfo('*', Match.stringLikeRegexp('expectedLoad'))
    .map((w) => String(w.entry.data));
}

const million = { tasks: 1_000_000, duePerMinute: 100_000 };

describe('expectedLoad', () => {
  it('warns that the defaults cannot lease 100,000 due runs before their slot, naming the bound, the tick life and the memory', () => {
    // Act
    const warnings = warningsOf({ expectedLoad: million }).join('\n');

    // Assert
    expect(warnings).toMatch(
      /leasing 100,000 due runs ahead takes ~\d+(\.\d)? s \(paced by tickCpu\), more than the 60 s a tick has before their slot/,
    );
    expect(warnings).toMatch(
      /invoking 100,000 runs at their slot takes ~\d+(\.\d)? s \(paced by tickCpu\), longer than the minute/,
    );
    expect(warnings).toMatch(/a tick lives ~\d+(\.\d)? s .* beyond its budget of 140 s/);
    expect(warnings).toMatch(/over 80% of its 512 MB/);
  });

  it('is quiet about the settings the model recommends for that load, and notes what the account needs and the figures', () => {
    // Arrange
    const r = recommendSettings(million);

    // Act
    const props = {
      expectedLoad: million,
      shardCount: r.shardCount,
      tickShardGroups: r.tickShardGroups,
      tickMemorySize: r.tickMemoryMb,
    };

    // Assert
    expect(warningsOf(props)).toEqual([]);
    const infos = infosOf(props).join('\n');
    expect(infos).toContain('table warm throughput');
    expect(infos).toContain('Lambda concurrency');
    // With the account's default Invoke quota (10,000 a second), 100,000 invokes take 10 s.
    expect(infos).toMatch(
      /leases take ~2(\.\d)? s of the 60 s before its slot; its runs start ~9\.9 s after the slot at p99 \(paced by invokeQuota/,
    );
  });

  it('warns when the tick timeout cuts the look-ahead short, and not with the default timeout', () => {
    // 20,000 runs leased at ~1.3 ms of a vCPU each: ~26 s for one 1,769 MB tick, within the 60 s lead.
    const load = { tasks: 20_000, duePerMinute: 20_000 };
    const short = warningsOf({
      expectedLoad: load,
      tickMemorySize: 1769,
      tickTimeout: Duration.seconds(120),
    }).join('\n');
    expect(short).toMatch(/a 120 s tick timeout cuts the tick's look-ahead to 107 s of the 122 s it needs/);
    expect(short).toMatch(
      /leasing 20,000 due runs ahead takes ~26(\.\d)? s \(paced by tickCpu\), more than the 0 s/,
    );
    expect(short).toMatch(/a tick lives ~123 s .* beyond its budget of 110 s/);
    expect(warningsOf({ expectedLoad: load, tickMemorySize: 1769 })).toEqual([]);
  });

  it('says nothing without a declared load, and nothing for a small one on the defaults', () => {
    expect(warningsOf({})).toEqual([]);
    expect(warningsOf({ expectedLoad: { tasks: 5000, duePerMinute: 1000 } })).toEqual([]);
  });

  it('refuses a load that is not a count, and more due than tasks', () => {
    expect(() => aTickworkStack({ expectedLoad: { tasks: -1, duePerMinute: 0 } })).toThrow(
      'expectedLoad.tasks must be a whole number, 0 or more, got -1',
    );
    expect(() => aTickworkStack({ expectedLoad: { tasks: 10, duePerMinute: 11 } })).toThrow(
      'expectedLoad.duePerMinute (11) cannot exceed expectedLoad.tasks (10)',
    );
    expect(() => aTickworkStack({ expectedLoad: { tasks: 10, duePerMinute: 1, runSeconds: 0 } })).toThrow(
      'expectedLoad.runSeconds must be a number of seconds above 0, got 0',
    );
  });
});

describe('tickMemorySize', () => {
  it('sets the tick function memory (512 MB unless set) and refuses what Lambda refuses', () => {
    const { stack, tickwork, template } = aTickworkStack({ tickMemorySize: 1769 }, { types: [] });
    const tick = template.toJSON().Resources[logicalId(stack, tickwork.tickFunction)];
    expect(tick.Properties.MemorySize).toBe(1769);
    const plain = aTickworkStack({}, { types: [] });
    expect(
      plain.template.toJSON().Resources[logicalId(plain.stack, plain.tickwork.tickFunction)].Properties
        .MemorySize,
    ).toBe(512);
    expect(() => aTickworkStack({ tickMemorySize: 100 })).toThrow(
      'tickMemorySize must be a whole number of MB from 128 to 10240, got 100',
    );
  });
});
