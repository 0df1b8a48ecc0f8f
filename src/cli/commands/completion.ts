/** `tickwork completion bash|zsh|fish`: a shell completion script made from the command list. */
import { UsageError } from '../args.js';
import type { Command } from '../command.js';
import { completionScript, shells } from '../completion.js';

const completion: Command = {
  name: 'completion',
  usage: 'tickwork completion bash|zsh|fish',
  summary: 'Print a shell completion script (bash, zsh or fish)',
  details: `  bash   source <(tickwork completion bash)        (in ~/.bashrc)
  zsh    source <(tickwork completion zsh)         (in ~/.zshrc, after compinit)
  fish   tickwork completion fish > ~/.config/fish/completions/tickwork.fish`,
  args: 1,
  global: false,
  async run(ctx, [name]) {
    const shell = shells.find((s) => s === name);
    if (!shell) throw new UsageError(`one of ${shells.join(', ')}, got "${name}"`);
    // The registry lists this command too, so it is read when the command runs.
    const { commands } = await import('./index.js');
    ctx.io.out(completionScript(shell, commands).trimEnd());
    return 0;
  },
};

/** The command that prints completion scripts. */
export const completionCommands: Command[] = [completion];
