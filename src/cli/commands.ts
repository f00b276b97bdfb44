/**
 * The `reflex` commands, in the order `reflex --help` lists them. Each command file exports its
 * Command (table + implementation) and imports nothing from here, so there is no import cycle.
 */
import { completionCommand } from './completion.js';
import { dryRunCommand } from './dry-run.js';
import { explainCommand } from './explain.js';
import type { Command } from './flags.js';
import { rbacCommand } from './rbac.js';
import { testCommand } from './rule-test.js';
import { runCommand } from './run.js';
import { startCommand } from './start.js';
import { tailCommand } from './tail.js';
import { validateCommand } from './validate.js';

export type { Command } from './flags.js';
export type { CommandIO } from './io.js';

export const commands: Command[] = [
  runCommand,
  validateCommand,
  dryRunCommand,
  testCommand,
  explainCommand,
  rbacCommand,
  tailCommand,
  startCommand,
];
commands.push(completionCommand(() => commands.map((c) => c.spec)));
