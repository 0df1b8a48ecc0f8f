/** Usage errors that need no API: bare command groups. */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

async function cli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('usage errors', () => {
  it('a command group without its subcommand lists them', async () => {
    const bare = await cli('tasks');
    expect(bare.code).toBe(2);
    expect(bare.err.split('\n')[0]).toBe(
      'tickwork: unknown command "tasks": give one of list, get, create, update, delete, enable, disable, apply',
    );
  });
});
