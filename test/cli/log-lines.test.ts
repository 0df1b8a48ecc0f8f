import { describe, expect, it } from 'vitest';
import { classifyLogLine, foldMetrics, formatLogLine } from '../../src/cli/log-lines.js';

const metrics = JSON.stringify({
  _aws: {
    Timestamp: 1764476400000,
    CloudWatchMetrics: [
      {
        Namespace: 'Tickwork',
        Dimensions: [['service']],
        Metrics: [
          { Name: 'Succeeded', Unit: 'Count' },
          { Name: 'RunDuration', Unit: 'Milliseconds' },
        ],
      },
    ],
  },
  service: 'handler',
  Succeeded: 1,
  RunDuration: 28,
});

describe('classifyLogLine', () => {
  it("tells Lambda's own lines from the task's", () => {
    expect(classifyLogLine('START RequestId: 8f5c Version: $LATEST')).toBe('platform');
    expect(classifyLogLine('END RequestId: 8f5c')).toBe('platform');
    expect(classifyLogLine('REPORT RequestId: 8f5c\tDuration: 28.12 ms\tBilled Duration: 29 ms')).toBe(
      'platform',
    );
    expect(classifyLogLine('INIT_START Runtime Version: nodejs:20.v40')).toBe('platform');
    expect(classifyLogLine('reindexed 50 rows')).toBe('task');
    expect(classifyLogLine('the END of the batch')).toBe('task');
    expect(classifyLogLine('STARTING RequestId: no')).toBe('task');
  });

  it('recognizes a Powertools metrics blob, and only that JSON', () => {
    expect(classifyLogLine(metrics)).toBe('metrics');
    expect(classifyLogLine(`${metrics}\n`)).toBe('metrics');
    expect(classifyLogLine('{"level":"INFO","message":"hello"}')).toBe('task');
    expect(classifyLogLine('{"_aws":{"Timestamp":1}}')).toBe('task');
    expect(classifyLogLine('{"_aws": broken')).toBe('task');
    expect(classifyLogLine('[1,2]')).toBe('task');
  });
});

describe('foldMetrics', () => {
  it('folds a metrics blob to one line with short units', () => {
    expect(foldMetrics(metrics)).toBe('[metrics] Succeeded=1 RunDuration=28ms');
  });

  it('leaves out declared metrics without a value and keeps other messages as they are', () => {
    const partial = JSON.stringify({ _aws: { CloudWatchMetrics: [{ Metrics: [{ Name: 'Failed' }] }] } });
    expect(foldMetrics(partial)).toBe('[metrics]');
    expect(foldMetrics('plain')).toBe('plain');
  });
});

describe('formatLogLine', () => {
  const at = '2026-11-30T04:05:06.789Z';

  it('prints time, padded level and message; no level when there is none', () => {
    expect(formatLogLine({ at, level: 'info', message: 'hello' }, false)).toBe('04:05:06.789 INFO  hello');
    expect(formatLogLine({ at, level: 'ERROR', message: 'boom' }, false)).toBe('04:05:06.789 ERROR boom');
    expect(formatLogLine({ at, level: null, message: 'bare' }, false)).toBe('04:05:06.789 bare');
  });

  it('hides platform lines and metrics unless all, then marks and folds them', () => {
    expect(formatLogLine({ at, level: null, message: 'END RequestId: 1' }, false)).toBeUndefined();
    expect(formatLogLine({ at, level: null, message: metrics }, false)).toBeUndefined();
    expect(formatLogLine({ at, level: null, message: 'END RequestId: 1' }, true)).toBe(
      '04:05:06.789 [platform] END RequestId: 1',
    );
    expect(formatLogLine({ at, level: null, message: metrics }, true)).toBe(
      '04:05:06.789 [metrics] Succeeded=1 RunDuration=28ms',
    );
  });
});
