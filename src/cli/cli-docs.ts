/** cli-docs: docs/cli.md, generated from the command tables (`npm run gen`; a test fails when it is stale). */
import { flagNotes, flagTerm, usageLine, USAGE_EXIT, type CommandSpec } from './flags.js';

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The text of docs/cli.md. */
export function cliReference(specs: CommandSpec[]): string {
  const out = [
    '<!-- Generated from the command tables in src/cli by `npm run gen`; do not edit by hand. -->',
    '# The `reflex` command',
    '',
    '`reflex COMMAND --help` prints the same text as each section below: both come from one table per',
    'command, which also drives the parsing, the usage errors and `reflex completion`. Installed as a',
    'package, the command is also `kubectl-reflex`, so `kubectl reflex validate rules/` works.',
    '',
    'Exit codes: **0** success, **1** findings (invalid rules, failed tests, problems reported, a',
    'failure while running), **2** usage error (an unknown flag, a missing or bad value). A usage',
    'error is one line naming the problem, then the usage line.',
    '',
    'Paths: a flag or argument taking rule or manifest paths accepts files and directories (read',
    'recursively, `.yaml`, `.yml`, `.json`) and `-` for standard input, e.g.',
    '`kubectl get deploy -A -o yaml | reflex dry-run --rules rules/ --manifests -`.',
    '',
    'Kinds (`--object KIND/NS/NAME`) take what kubectl takes: `deploy`, `deployments`, `Deployment`,',
    '`deployment.apps`. Against a cluster the names come from its discovery (short names and plurals',
    'of custom resources too); offline from a built-in table of the Kubernetes kinds.',
    '',
    '| command | what it does |',
    '|---|---|',
    ...specs.map((s) => `| [\`reflex ${s.name}\`](#reflex-${s.name}) | ${cell(s.summary)} |`),
    '',
    'Shell completion: `source <(reflex completion bash)` (bash; zsh likewise with `zsh`),',
    '`reflex completion fish | source` (fish).',
  ];
  for (const s of specs) {
    out.push('', `## reflex ${s.name}`, '', `\`${usageLine(s)}\``, '', s.summary.charAt(0).toUpperCase() + s.summary.slice(1) + '.');
    if (s.description) out.push('', s.description.replace(/\n/g, ' '));
    if (s.positionals) out.push('', `Arguments: \`${s.positionals.name}\`: ${s.positionals.help}.`);
    out.push('', '| flag | meaning |', '|---|---|');
    for (const f of s.flags) out.push(`| \`${flagTerm(f).trim()}\` | ${cell(f.help + flagNotes(f))} |`);
    out.push('', 'Exit codes: ' + Object.entries({ 0: 'success', ...s.exits, ...USAGE_EXIT }).map(([c, why]) => `**${c}** ${why}`).join('; ') + '.');
    if (s.examples?.length) out.push('', '```sh', ...s.examples, '```');
  }
  out.push(
    '',
    '## Why `util.parseArgs` and a table',
    '',
    "The parser is node's built-in `util.parseArgs` (strict mode: unknown flags and missing values are",
    'errors), fed from a table per command (`src/cli/flags.ts`). The table adds what `parseArgs`',
    'lacks: help text, value names, allowed values, defaults and true/false flags that may stand alone',
    '(`--leader-elect`). An argument-parsing library (commander, yargs) would bring its own help',
    'layout and a second place where flags are declared; with the table, help, usage errors, this',
    'page and the shell completions cannot disagree with what the command parses, and a test runs',
    'every command with `--help` to prove each flag it parses is listed. It costs no dependency and',
    'works the same in ESM.',
  );
  return `${out.join('\n')}\n`;
}
