/**
 * start: what `npm start` runs. With a kubeconfig context, the daemon against it,
 * with the bundled rules in client dry-run (it plans and logs, never writes: a safe
 * first look at a real cluster). Without one, it says so in one line and plans the
 * bundled rules against the bundled example manifests, offline.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kubeconfigFiles, mergeKubeconfigs } from '../client/index.js';
import { defineCommand } from './flags.js';
import { RUN_SPEC } from './run-flags.js';
import { runCommand } from './run.js';
import { dryRunCommand } from './dry-run.js';

/** The package root (holding rules/ and examples/), from dist/src/cli or src/cli. */
const packageRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/dist\/$/, '');

/** The current kubeconfig context, or undefined when there is none (no file, or no current-context). */
export function currentContext(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const files = kubeconfigFiles({ env });
    if (files.length === 0) return undefined;
    return mergeKubeconfigs(files).currentContext || undefined;
  } catch {
    return undefined; // an unreadable kubeconfig is reported by `reflex run`; here it means "no context"
  }
}

export const startCommand = defineCommand(
  {
    name: 'start',
    summary: 'what `npm start` runs: the daemon in client dry-run on the current context, else an offline dry-run of the examples',
    description: 'With a context, the flags go to reflex run (all of its flags but --rules and --dry-run); offline they are not used.',
    flags: RUN_SPEC.flags.filter((f) => f.name !== 'rules' && f.name !== 'dry-run'),
    exits: { 1: 'as reflex run or reflex dry-run' },
  },
  async (_parsed, io, args) => {
    const rulesDir = `${packageRoot}rules`;
    const examplesDir = `${packageRoot}examples`;
    const context = currentContext();
    if (context) {
      io.err(`reflex: kubeconfig context "${context}": running the daemon with the bundled rules in client dry-run (plans are logged, nothing is written)`);
      return runCommand.run(['--rules', rulesDir, '--dry-run=client', ...args], io);
    }
    io.err('reflex: no kubeconfig context found ($KUBECONFIG or ~/.kube/config); planning the example rules (rules/) against the example manifests (examples/), offline');
    if (!existsSync(rulesDir) || !existsSync(examplesDir)) {
      io.err(`reflex: the bundled rules/ and examples/ are missing from ${packageRoot}`);
      return 2;
    }
    return dryRunCommand.run(['--rules', rulesDir, '--manifests', examplesDir], io);
  },
);
