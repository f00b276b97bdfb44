/**
 * flags: one table per command, from which its parsing, `--help`, usage errors, shell completion
 * and docs/cli.md are produced. Parsing is node's `util.parseArgs` (strict) fed from the table;
 * the table adds what parseArgs lacks: help text, value names, allowed values, defaults, and flags
 * that may stand alone (`--leader-elect` meaning `--leader-elect=true`).
 */
import { parseArgs } from 'node:util';
import { ReflexError } from '../core/index.js';
import type { CommandIO } from './io.js';

/** One flag of a command. */
export interface Flag {
  /** Long name, without `--`. */
  name: string;
  /** One-letter alias, without `-`. */
  short?: string;
  /** `boolean` flags take no value. Default `string`. */
  type?: 'string' | 'boolean';
  /** May be given more than once; the values are collected in order. */
  multiple?: boolean;
  /** What the value is, in help: `FILE`, `PATH`, `NAME`. Default `VALUE`. */
  value?: string;
  /** The only values accepted; anything else is a usage error naming them. */
  choices?: readonly string[];
  /** The value when the flag is absent (shown in help). */
  default?: string;
  /** A bare `--name` means `--name=<bare>` (for true/false flags as Kubernetes components accept them). */
  bare?: string;
  /** One line: what the flag does. */
  help: string;
}

/** What a command takes besides flags. */
export interface Positionals {
  /** As shown in usage: `PATH…`. */
  name: string;
  help: string;
  /** At least one is needed. */
  required?: boolean;
}

/** A command's table: everything its help, parsing and docs say. */
export interface CommandSpec {
  name: string;
  /** One line, for `reflex --help`. */
  summary: string;
  /** Paragraphs shown under the usage line. */
  description?: string;
  positionals?: Positionals;
  flags: Flag[];
  /** Exit codes and what they mean; 2 is always "usage error". */
  exits: Record<number, string>;
  /** Lines of examples, shown at the end of help. */
  examples?: string[];
}

/** The flags almost every command shares. */
export const HELP: Flag = { name: 'help', short: 'h', type: 'boolean', help: 'show this help and exit' };
export const output = (choices: readonly string[], def = choices[0]): Flag => ({
  name: 'output',
  short: 'o',
  value: 'FORMAT',
  choices,
  default: def,
  help: 'output format',
});
export const KUBECONFIG: Flag = { name: 'kubeconfig', value: 'FILE', help: 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)' };
export const CONTEXT: Flag = { name: 'context', value: 'NAME', help: 'kubeconfig context (default: its current-context)' };
export const NAMESPACE = (help: string): Flag => ({ name: 'namespace', short: 'n', value: 'NAMESPACE', help });

/** The exit codes every command shares. */
export const USAGE_EXIT = { 2: 'usage error: an unknown flag, a missing or bad value' } as const;

/** A bad command line: one line naming the flag; the caller prints it with the usage line. */
export class UsageError extends ReflexError {
  constructor(message: string) {
    super(message, { code: 'ERR_USAGE' });
  }
}

/** What parsing returns: flag values by long name (defaults filled in) and the positionals. */
export interface ParsedArgs {
  values: Record<string, string | string[] | boolean | undefined>;
  positionals: string[];
}

/** Parses `args` against the table. Throws UsageError. */
export function parseCommandLine(spec: CommandSpec, args: string[]): ParsedArgs {
  const bare = new Map(spec.flags.filter((f) => f.bare !== undefined).map((f) => [`--${f.name}`, `--${f.name}=${f.bare}`]));
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of spec.flags) options[f.name] = { type: f.type ?? 'string', ...(f.short ? { short: f.short } : {}), ...(f.multiple ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: args.map((a) => bare.get(a) ?? a), options, allowPositionals: spec.positionals !== undefined, strict: true });
  } catch (err) {
    throw new UsageError(parseArgsMessage(err as Error));
  }
  const values = { ...parsed.values } as ParsedArgs['values'];
  for (const f of spec.flags) {
    const v = values[f.name];
    if (v === undefined && f.default !== undefined) values[f.name] = f.default;
    if (f.choices && v !== undefined) {
      for (const one of Array.isArray(v) ? v : [String(v)]) {
        if (!f.choices.includes(one)) throw new UsageError(`--${f.name} must be ${orList(f.choices)}; got "${one}"`);
      }
    }
  }
  if (spec.positionals?.required && parsed.positionals.length === 0 && values.help !== true) {
    throw new UsageError(`give at least one ${spec.positionals.name.replace(/…$/, '')}`);
  }
  return { values, positionals: parsed.positionals };
}

/** parseArgs's messages, shortened to one line in our words. */
function parseArgsMessage(err: Error): string {
  const m = err.message;
  let x = /^Unknown option '([^']+)'/.exec(m);
  if (x) return `unknown flag ${x[1]}`;
  x = /^Option '(-\w, )?(--[\w-]+)[^']*' argument missing/.exec(m);
  if (x) return `flag ${x[2]} needs a value`;
  x = /^Option '(-\w, )?(--[\w-]+)' does not take an argument/.exec(m);
  if (x) return `flag ${x[2]} takes no value`;
  x = /^Unexpected argument '([^']+)'/.exec(m);
  if (x) return `unexpected argument "${x[1]}" (this command takes flags only)`;
  return m.replace(/\. To specify .*$/s, '');
}

const orList = (xs: readonly string[]) => (xs.length === 1 ? xs[0] : `${xs.slice(0, -1).join(', ')} or ${xs[xs.length - 1]}`);

/** `reflex NAME [flags] PATH…`. */
export function usageLine(spec: CommandSpec): string {
  const pos = spec.positionals ? ` ${spec.positionals.required ? spec.positionals.name : `[${spec.positionals.name}]`}` : '';
  return `reflex ${spec.name} [flags]${pos}`;
}

/** `-o, --output FORMAT`. */
export function flagTerm(f: Flag): string {
  const value = (f.type ?? 'string') === 'boolean' ? '' : f.bare !== undefined ? `[=${f.value ?? 'VALUE'}]` : ` ${f.value ?? 'VALUE'}`;
  return `${f.short ? `-${f.short}, ` : '    '}--${f.name}${value}`;
}

/** The help line's tail: allowed values, default, repeatable. */
export function flagNotes(f: Flag): string {
  const notes: string[] = [];
  if (f.choices) notes.push(`one of ${f.choices.join(', ')}`);
  if (f.default !== undefined) notes.push(`default ${f.default}`);
  if (f.multiple) notes.push('repeatable');
  return notes.length ? ` (${notes.join('; ')})` : '';
}

/** The full `--help` text of a command. */
export function helpText(spec: CommandSpec): string {
  const lines = [`Usage: ${usageLine(spec)}`, '', spec.summary + (spec.summary.endsWith('.') ? '' : '.')];
  if (spec.description) lines.push('', spec.description);
  if (spec.positionals) lines.push('', 'Arguments:', `  ${spec.positionals.name}  ${spec.positionals.help}`);
  const terms = spec.flags.map(flagTerm);
  const width = Math.max(...terms.map((t) => t.length));
  lines.push('', 'Flags:', ...spec.flags.map((f, i) => `  ${terms[i].padEnd(width)}  ${f.help}${flagNotes(f)}`));
  lines.push('', 'Exit codes:', ...Object.entries({ 0: 'success', ...spec.exits, ...USAGE_EXIT }).map(([c, why]) => `  ${c}  ${why}`));
  if (spec.examples?.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/** Prints a usage error: one line naming the problem, then where the flags are listed. Returns 2. */
export function reportUsage(spec: CommandSpec, message: string, io: CommandIO): number {
  io.err(`reflex ${spec.name}: ${message}\nUsage: ${usageLine(spec)}; \`reflex ${spec.name} --help\` lists every flag`);
  return 2;
}

/** A command: its table and its implementation, which gets the parsed arguments. */
export interface Command {
  spec: CommandSpec;
  /** Runs the command line (without `reflex NAME`); answers `--help` and usage errors itself. */
  run(args: string[], io: CommandIO): Promise<number>;
}

/** Builds a Command whose `run` parses with the table, answers `--help`, and turns UsageError into exit 2. */
export function defineCommand(spec: CommandSpec, impl: (parsed: ParsedArgs, io: CommandIO, args: string[]) => Promise<number>): Command {
  return {
    spec,
    async run(args, io) {
      try {
        const parsed = parseCommandLine(spec, args);
        if (parsed.values.help === true) {
          io.out(helpText(spec));
          return 0;
        }
        return await impl(parsed, io, args);
      } catch (err) {
        if (err instanceof UsageError) return reportUsage(spec, err.message, io);
        throw err;
      }
    },
  };
}
