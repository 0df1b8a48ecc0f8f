/** `tickwork preview`, computed offline: no API answers these tests. */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // An endpoint where nothing listens: preview must not need it.
  const env = { TICKWORK_ENDPOINT: 'http://127.0.0.1:9' };
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('tickwork preview', () => {
  it('prints each slot in the zone and in UTC, across a DST change', async () => {
    const preview = await cli(
      'preview',
      '30 2 * * *',
      '--tz',
      'Europe/Berlin',
      '--from',
      '2026-03-27T00:00:00Z',
      '--count',
      '3',
    );
    expect(preview.code, preview.err).toBe(0);
    expect(preview.out).toBe(
      [
        'At 02:30 AM (Europe/Berlin)',
        '  Fri 2026-03-27 02:30 +01:00   2026-03-27T01:30:00Z',
        '  Sat 2026-03-28 02:30 +01:00   2026-03-28T01:30:00Z',
        '  Sun 2026-03-29 03:00 +02:00   2026-03-29T01:00:00Z', // 02:30 does not exist that night
      ].join('\n'),
    );
  });

  it('answers with the API’s preview shape in JSON', async () => {
    const preview = await cli(
      'preview',
      'rate(5 minutes)',
      '--from',
      '2026-01-01T00:01:00Z',
      '--count',
      '2',
      '--json',
    );
    expect(JSON.parse(preview.out)).toEqual({
      schedule: 'rate(5 minutes)',
      timezone: 'UTC',
      description: 'Every 5 minutes',
      next: ['2026-01-01T00:05:00.000Z', '2026-01-01T00:10:00.000Z'],
    });
  });

  it('refuses what the deployment would refuse, down to --min-interval', async () => {
    const bad = await cli('preview', '61 * * * *');
    expect(bad.code).toBe(1);
    expect(bad.err).toBe('error: minute: 61 is out of range 0-59 (invalid_schedule)');
    const tooOften = await cli('preview', '*/10 * * * * *', '--json');
    expect(tooOften.code).toBe(1);
    expect(JSON.parse(tooOften.err).error).toMatchObject({
      code: 'invalid_schedule',
      details: [{ field: 'schedule' }],
    });
    const local = await cli(
      'preview',
      '*/10 * * * * *',
      '--min-interval',
      '1s',
      '--from',
      '2026-01-01T00:00:00Z',
      '--count',
      '1',
    );
    expect(local.out).toBe('Every 10 seconds (UTC)\n  Thu 2026-01-01 00:00:10 +00:00');
  });

  it('usage errors exit 2', async () => {
    expect((await cli('preview', '* * * * *', '--count', '0')).code).toBe(2);
    expect((await cli('preview', '* * * * *', '--from', 'yesterday')).code).toBe(2);
    expect((await cli('preview', '* * * * *', '--min-interval', 'often')).code).toBe(2);
  });
});
