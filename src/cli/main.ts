/** main: the `reflex` command line: dispatches to a command and returns its exit code. */
import { commands } from './commands.js';
import { helpText as commandHelp } from './flags.js';
import { stdio, type CommandIO } from './io.js';

/** The version `reflex --version` prints. */
export const VERSION = '0.1.0';

/** The top-level help text. */
export function helpText(): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length));
  const lines = commands.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`);
  return [
    'reflex: declarative automation for Kubernetes',
    '',
    'Usage: reflex COMMAND [flags]   (also as a kubectl plugin: kubectl reflex COMMAND)',
    '',
    'Commands:',
    ...lines,
    '',
    'Exit codes: 0 success, 1 findings (invalid rules, failed tests, problems reported), 2 usage error.',
    'Run `reflex COMMAND --help` (or `reflex help COMMAND`) for a command\'s flags.',
  ].join('\n');
}

/** Runs the command line `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[], io: CommandIO = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.out(helpText());
    return name === undefined ? 2 : 0;
  }
  if (name === 'help') {
    const cmd = commands.find((c) => c.spec.name === rest[0]);
    io.out(cmd ? commandHelp(cmd.spec) : helpText());
    return rest[0] === undefined || cmd ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    io.out(`reflex ${VERSION}`);
    return 0;
  }
  const cmd = commands.find((c) => c.spec.name === name);
  if (!cmd) {
    io.err(`reflex: unknown command "${name}"; commands: ${commands.map((c) => c.spec.name).join(', ')}`);
    return 2;
  }
  return cmd.run(rest, io);
}
