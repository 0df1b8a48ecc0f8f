/** `tickwork completion bash|zsh|fish`: scripts made from the command registry. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { main } from '../../src/cli/main.js';

async function completion(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(['completion', ...args], {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: {},
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** What bash completes after `words` (the last one being completed). */
function bashComplete(script: string, words: string[]): string[] {
  const run = spawnSync(
    'bash',
    [
      '-c',
      `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _tickwork; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: 'utf8' },
  );
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split('\n').filter(Boolean);
}

describe('tickwork completion', () => {
  it.each(['bash', 'zsh', 'fish'])('%s: names every registered command and its long flags', async (shell) => {
    const { code, out } = await completion(shell);
    expect(code).toBe(0);
    for (const command of commands) {
      for (const word of command.name.split(' ')) expect(out).toMatch(new RegExp(`\\b${word}\\b`));
      for (const flag of Object.keys(command.options ?? {})) expect(out).toContain(flag);
    }
    for (const flag of ['endpoint', 'output', 'json', 'region']) expect(out).toContain(flag);
  });

  it('prints valid bash that completes commands, subcommands and flags', async () => {
    const { out } = await completion('bash');
    const check = spawnSync('bash', ['-n'], { input: out, encoding: 'utf8' });
    expect(check.status, check.stderr).toBe(0);
    expect(bashComplete(out, ['tickwork', 'lo'])).toEqual(['logs']);
    expect(bashComplete(out, ['tickwork', 'tasks', 'l'])).toEqual(['list']);
    expect(bashComplete(out, ['tickwork', 'logs', 'nightly', '--f'])).toEqual(['--follow']);
    expect(bashComplete(out, ['tickwork', 'tasks', 'list', '--a'])).toEqual(['--all']);
  });

  it('refuses an unknown shell with a usage error (exit 2)', async () => {
    const { code, err } = await completion('powershell');
    expect(code).toBe(2);
    expect(err).toContain('one of bash, zsh, fish');
  });
});
