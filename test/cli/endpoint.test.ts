/** Where the CLI looks for the API, and what it says when nothing answers there. */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

async function cli(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('the endpoint', () => {
  it('--help names TICKWORK_ENDPOINT and the default', async () => {
    const help = await cli(['--help']);
    expect(help.out).toContain(
      '--endpoint <url>   the admin API (default: $TICKWORK_ENDPOINT, else http://127.0.0.1:3000)',
    );
    expect((await cli(['tasks', 'list', '--help'])).out).toContain('$TICKWORK_ENDPOINT');
  });

  it('a connection error names the URL it tried, from --endpoint or TICKWORK_ENDPOINT', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const flag = await cli(['tasks', 'list', '--endpoint', url]);
    expect(flag.code).toBe(1);
    expect(flag.err).toBe(
      `error: could not reach the Tickwork API at ${url} (ECONNREFUSED)\n` +
        '  Is it running? Start one with `tickwork dev`, or point --endpoint or TICKWORK_ENDPOINT at it.',
    );
    const variable = await cli(['status'], { TICKWORK_ENDPOINT: url });
    expect(variable.err).toContain(`could not reach the Tickwork API at ${url} (ECONNREFUSED)`);
    const json = await cli(['status', '--json', '--endpoint', url]);
    expect(JSON.parse(json.err)).toEqual({
      error: {
        code: 'unreachable',
        message: `could not reach the Tickwork API at ${url} (ECONNREFUSED)`,
        details: [],
      },
    });
  });
});
