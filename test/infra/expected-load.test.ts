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
  it('warns that the defaults cannot start 100,000 due runs in a minute, naming the bound and the memory', () => {
    // Act
    const warnings = warningsOf({ expectedLoad: million });

    // Assert
    expect(warnings.join('\n')).toMatch(/starting 100,000 due runs takes ~\d+(\.\d)? s \(paced by tickCpu\)/);
    expect(warnings.join('\n')).toMatch(/beyond the tick's budget of 140 s/);
    expect(warnings.join('\n')).toMatch(/over 80% of its 512 MB/);
  });

  it('is quiet about the settings the model recommends for that load, and notes what the account needs', () => {
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
  });

  it('warns when the tick timeout leaves too little time for the burst, and not with a longer one', () => {
    // 20,000 runs at ~2.1 ms of a vCPU each: ~42 s for one 1,769 MB tick.
    const load = { tasks: 20_000, duePerMinute: 20_000 };
    const short = warningsOf({ expectedLoad: load, tickMemorySize: 1769, tickTimeout: Duration.seconds(30) });
    expect(short.join('\n')).toMatch(
      /starting 20,000 due runs takes ~4\d(\.\d)? s \(paced by tickCpu\), beyond the tick's budget of 25 s/,
    );
    expect(
      warningsOf({ expectedLoad: load, tickMemorySize: 1769, tickTimeout: Duration.seconds(60) }),
    ).toEqual([]);
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
