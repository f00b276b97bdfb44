/**
 * `reflex completion bash|zsh|fish`: a shell completion script, generated from the command tables
 * (commands, flags, allowed values), so it never lags behind the flags the commands parse.
 */
import { defineCommand, HELP, UsageError, type CommandSpec, type Flag } from './flags.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
const takesValue = (f: Flag) => (f.type ?? 'string') === 'string';
const words = (f: Flag) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])];
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** bash (and zsh through bashcompinit): flags per command, values of flags with choices, files otherwise. */
export function bashCompletion(specs: CommandSpec[]): string {
  const cases = specs.map((s) => `    ${s.name}) flags=${quote(s.flags.flatMap(words).join(' '))} ;;`);
  const values = specs.flatMap((s) =>
    s.flags.filter((f) => f.choices).map((f) => `    ${s.name}:--${f.name}${f.short ? `|${s.name}:-${f.short}` : ''}) COMPREPLY=($(compgen -W ${quote(f.choices!.join(' '))} -- "$cur")); return ;;`),
  );
  const valued = specs.flatMap((s) => s.flags.filter((f) => takesValue(f) && !f.choices).flatMap((f) => words(f).map((w) => `${s.name}:${w}`)));
  return [
    '# reflex completion for bash; load with: source <(reflex completion bash)',
    '_reflex() {',
    '  local cur prev cmd flags',
    '  cur="${COMP_WORDS[COMP_CWORD]}"',
    '  prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    COMPREPLY=($(compgen -W ${quote(specs.map((s) => s.name).join(' '))} -- "$cur")); return`,
    '  fi',
    '  cmd="${COMP_WORDS[1]}"',
    '  case "$cmd:$prev" in',
    ...values,
    `    ${valued.length ? valued.join('|') : '__none__'}) COMPREPLY=($(compgen -f -- "$cur")); return ;;`,
    '  esac',
    '  case "$cmd" in',
    ...cases,
    '    *) flags="" ;;',
    '  esac',
    '  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$flags" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi',
    '}',
    'complete -o default -F _reflex reflex kubectl-reflex',
    '',
  ].join('\n');
}

/** zsh: the bash function through zsh's bashcompinit (ships with zsh). */
export function zshCompletion(specs: CommandSpec[]): string {
  return ['# reflex completion for zsh; load with: source <(reflex completion zsh)', 'autoload -U +X bashcompinit && bashcompinit', bashCompletion(specs)].join('\n');
}

/** fish: one `complete` line per command and flag, with descriptions from the tables. */
export function fishCompletion(specs: CommandSpec[]): string {
  const lines = ['# reflex completion for fish; load with: reflex completion fish | source', 'complete -c reflex -f'];
  for (const s of specs) lines.push(`complete -c reflex -n __fish_use_subcommand -a ${s.name} -d ${quote(s.summary)}`);
  for (const s of specs) {
    for (const f of s.flags) {
      const arg = f.choices ? ` -x -a ${quote(f.choices.join(' '))}` : takesValue(f) ? ' -r -F' : '';
      lines.push(`complete -c reflex -n '__fish_seen_subcommand_from ${s.name}' -l ${f.name}${f.short ? ` -s ${f.short}` : ''}${arg} -d ${quote(f.help)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The command; `specs` gives the tables of every command (its own included). */
export function completionCommand(specs: () => CommandSpec[]) {
  return defineCommand(
    {
      name: 'completion',
      summary: 'print a shell completion script: bash, zsh or fish',
      positionals: { name: 'SHELL', help: 'bash, zsh or fish', required: true },
      flags: [HELP],
      exits: {},
      examples: ['source <(reflex completion bash)   # in ~/.bashrc', 'reflex completion fish > ~/.config/fish/completions/reflex.fish'],
    },
    async ({ positionals }, io) => {
      const [shell, ...extra] = positionals;
      if (extra.length > 0 || !(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`SHELL must be bash, zsh or fish; got "${positionals.join(' ')}"`);
      const all = specs();
      io.out(shell === 'bash' ? bashCompletion(all) : shell === 'zsh' ? zshCompletion(all) : fishCompletion(all));
      return 0;
    },
  );
}
