/**
 * Shell completion scripts for `tickwork`, made from the command registry: command and
 * subcommand names, each command's long flags and the global options. `tickwork completion
 * bash|zsh|fish` prints one.
 */
import { globalOptions, type Options } from './args.js';
import type { Command } from './command.js';

export const shells = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof shells)[number];

/** One word the user types first (`tasks`, `run`) and what follows it. */
interface Group {
  word: string;
  summary: string;
  /** The flags of the one-word command, when there is one. */
  flags: string[];
  subcommands: { word: string; summary: string; flags: string[] }[];
}

function longFlags(options: Options | undefined): string[] {
  return Object.keys(options ?? {}).map((name) => `--${name}`);
}

function flagsOf(command: Command): string[] {
  const global = command.global === false ? { help: globalOptions.help } : globalOptions;
  return [...new Set([...longFlags(command.options), ...longFlags(global)])];
}

/** The registry by first word, in its order. */
export function groupsOf(commands: readonly Command[]): Group[] {
  const groups = new Map<string, Group>();
  for (const command of commands) {
    const [word, sub] = command.name.split(' ') as [string, string | undefined];
    const group = groups.get(word) ?? { word, summary: command.summary, flags: [], subcommands: [] };
    if (sub === undefined) Object.assign(group, { summary: command.summary, flags: flagsOf(command) });
    else group.subcommands.push({ word: sub, summary: command.summary, flags: flagsOf(command) });
    groups.set(word, group);
  }
  for (const group of groups.values()) {
    if (group.flags.length === 0) group.summary = group.subcommands.map((s) => s.word).join(', ');
  }
  return [...groups.values()];
}

const GLOBAL_FLAGS = longFlags(globalOptions);

function bash(groups: Group[]): string {
  const cases = groups.map((g) => {
    if (g.subcommands.length === 0) return `    ${g.word}) words="${g.flags.join(' ')}" ;;`;
    const subs = g.subcommands.map((s) => `          ${s.word}) words="${s.flags.join(' ')}" ;;`);
    return [
      `    ${g.word})`,
      `      if [[ $COMP_CWORD -eq 2 ]]; then words="${[...g.subcommands.map((s) => s.word), ...g.flags].join(' ')}"`,
      `      else case "$sub" in\n${subs.join('\n')}\n        esac`,
      '      fi ;;',
    ].join('\n');
  });
  return `# bash completion for tickwork: source <(tickwork completion bash)
_tickwork() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="\${COMP_WORDS[1]}" sub="\${COMP_WORDS[2]}" words=""
  if [[ $COMP_CWORD -eq 1 ]]; then
    words="${[...groups.map((g) => g.word), ...GLOBAL_FLAGS].join(' ')}"
  else
    case "$cmd" in
${cases.join('\n')}
    esac
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _tickwork tickwork
`;
}

function zsh(groups: Group[]): string {
  const cases = groups.map((g) => {
    if (g.subcommands.length === 0) return `    ${g.word}) choices=(${g.flags.join(' ')}) ;;`;
    const subs = g.subcommands.map((s) => `          ${s.word}) choices=(${s.flags.join(' ')}) ;;`);
    return [
      `    ${g.word})`,
      `      if (( CURRENT == 3 )); then choices=(${[...g.subcommands.map((s) => s.word), ...g.flags].join(' ')})`,
      `      else case "\${words[3]}" in\n${subs.join('\n')}\n        esac`,
      '      fi ;;',
    ].join('\n');
  });
  return `#compdef tickwork
# zsh completion for tickwork: source <(tickwork completion zsh), after compinit
_tickwork() {
  local -a choices
  if (( CURRENT == 2 )); then
    choices=(${[...groups.map((g) => g.word), ...GLOBAL_FLAGS].join(' ')})
  else
    case "\${words[2]}" in
${cases.join('\n')}
    esac
  fi
  (( \${#choices} )) && compadd -a choices || _files
}
if [[ "\${funcstack[1]}" == "_tickwork" ]]; then
  _tickwork "$@"
else
  compdef _tickwork tickwork
fi
`;
}

/** A fish single-quoted string. */
const quoted = (text: string) => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

function fishFlags(condition: string, flags: string[]): string[] {
  return flags.map((f) => `complete -c tickwork -n ${quoted(condition)} -l ${f.slice(2)}`);
}

function fish(groups: Group[]): string {
  const lines = [
    '# fish completion for tickwork: tickwork completion fish > ~/.config/fish/completions/tickwork.fish',
  ];
  lines.push(...GLOBAL_FLAGS.map((f) => `complete -c tickwork -l ${f.slice(2)}`));
  for (const g of groups) {
    lines.push(`complete -c tickwork -f -n __fish_use_subcommand -a ${g.word} -d ${quoted(g.summary)}`);
    const seen = `__fish_seen_subcommand_from ${g.word}`;
    lines.push(...fishFlags(seen, g.flags));
    const subs = g.subcommands.map((s) => s.word).join(' ');
    for (const s of g.subcommands) {
      lines.push(
        `complete -c tickwork -f -n ${quoted(`${seen}; and not __fish_seen_subcommand_from ${subs}`)} -a ${s.word} -d ${quoted(s.summary)}`,
        ...fishFlags(`${seen}; and __fish_seen_subcommand_from ${s.word}`, s.flags),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell` over `commands`. */
export function completionScript(shell: Shell, commands: readonly Command[]): string {
  const groups = groupsOf(commands);
  return shell === 'bash' ? bash(groups) : shell === 'zsh' ? zsh(groups) : fish(groups);
}
