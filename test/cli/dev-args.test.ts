/** `tickwork dev`'s flags, parsed into the local runtime's options. */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.js';
import { parseDevArgs } from '../../src/cli/commands/dev.js';
import { main } from '../../src/cli/main.js';

describe('tickwork dev flags', () => {
  it('defaults to persistent storage under .tickwork, port 3000 on loopback, minutely ticks', () => {
    const command = parseDevArgs([], '/repo');
    expect(command).toMatchObject({
      help: false,
      storage: { kind: 'persistent', dataDir: '/repo/.tickwork' },
      table: 'tickwork',
      port: 3000,
      host: '127.0.0.1',
      tickEveryMs: 60_000,
      demo: true,
      graceMs: 5000,
    });
  });

  it('reads every flag', () => {
    expect(
      parseDevArgs(
        [
          '--dynamodb-endpoint',
          'http://127.0.0.1:8000',
          '--table',
          'shared',
          '--tick-every',
          '1s',
          '--no-demo',
          '--port',
          '0',
        ],
        '/repo',
      ),
    ).toMatchObject({
      storage: { kind: 'endpoint', endpoint: 'http://127.0.0.1:8000' },
      table: 'shared',
      tickEveryMs: 1000,
      demo: false,
      port: 0,
    });
    expect(parseDevArgs(['--in-memory'])).toMatchObject({ storage: { kind: 'in-memory' } });
    expect(parseDevArgs(['--help'])).toEqual({ help: true });
  });

  it('refuses contradictions and nonsense with a usage error', () => {
    expect(() => parseDevArgs(['--in-memory', '--data-dir', 'x'])).toThrow(UsageError);
    expect(() => parseDevArgs(['--dynamodb-endpoint', 'http://x', '--in-memory'])).toThrow(UsageError);
    expect(() => parseDevArgs(['--tick-every', 'often'])).toThrow(/tick-every/);
    expect(() => parseDevArgs(['--port', '70000'])).toThrow(/port/);
    expect(() => parseDevArgs(['--frobnicate'])).toThrow(UsageError);
  });
});

describe('tickwork dev --help and usage errors', () => {
  async function cli(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env: {} });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it('prints its own options, without the API ones', async () => {
    const help = await cli('dev', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('usage: tickwork dev [options]');
    expect(help.out).toContain('--tick-every DURATION');
    expect(help.out).toContain('TICKWORK_ENDPOINT');
    expect(help.out).not.toContain('--endpoint <url>');
    expect((await cli('--help')).out).toMatch(/^ {2}dev {2,}Run the scheduler on this machine/m);
  });

  it('refuses bad flags with exit 2 before starting anything', async () => {
    const bad = await cli('dev', '--in-memory', '--data-dir', 'x');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('tickwork dev: --in-memory keeps nothing: drop --data-dir');
    expect((await cli('dev', '--json')).code).toBe(2);
    expect((await cli('dev', 'extra')).code).toBe(2);
  });
});
