/** The `reflex` commands: name, one-line summary, usage and implementation. */
import { runDryRun } from './dry-run.js';
import { runExplain } from './explain.js';
import { runRbac } from './rbac.js';
import { runRuleTestCommand } from './rule-test.js';
import { runValidate } from './validate.js';
import { runTail } from './tail.js';
import { runStart } from './start.js';
import { runRun } from './run.js';

/** A command's implementation: gets its arguments, returns the exit code. */
export type CommandRun = (args: string[], io: CommandIO) => Promise<number>;

/** Where a command writes; tests capture it. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  run: CommandRun;
}

export const commands: Command[] = [
  {
    name: 'run',
    summary: 'run the automation daemon against a cluster',
    usage: 'reflex run [--config FILE] [--kubeconfig FILE] [--context NAME] [--rules PATH…] [--dry-run=client|server]',
    run: runRun,
  },
  {
    name: 'validate',
    summary: 'check rule files: schema and JSONata compile; errors as file:line:col',
    usage: 'reflex validate PATH…',
    run: runValidate,
  },
  {
    name: 'dry-run',
    summary: 'plan the actions of rules against local manifests, no cluster needed',
    usage: 'reflex dry-run --rules PATH… --manifests PATH… [--now RFC3339] [--event E] [--output text|json|yaml]',
    run: runDryRun,
  },
  {
    name: 'test',
    summary: 'run rule tests (kind RuleTest): objects, a clock, events, expected actions',
    usage: 'reflex test PATH…',
    run: runRuleTestCommand,
  },
  {
    name: 'explain',
    summary: 'evaluate one rule against one live or local object, step by step',
    usage: 'reflex explain --rules PATH --rule NAME (--object KIND/NS/NAME | --manifests PATH…)',
    run: runExplain,
  },
  {
    name: 'rbac',
    summary: 'print the least-privilege ClusterRole the given rules need',
    usage: 'reflex rbac PATH…',
    run: runRbac,
  },
  {
    name: 'start',
    summary: 'what `npm start` runs: the daemon in client dry-run on the current context, else an offline dry-run of the examples',
    usage: 'reflex start',
    run: runStart,
  },
  {
    name: 'tail',
    summary: 'stream decision traces from a running daemon',
    usage: 'reflex tail [--url ws://HOST:PORT/traces] [--rule NAME]… [--output text|json]',
    run: runTail,
  },
];
