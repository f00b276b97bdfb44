/** run-flags: the command-line flags of `reflex run`, read with node:util parseArgs into configuration overrides. */
import { parseArgs } from 'node:util';
import { errorMessage } from '../core/index.js';
import { DaemonConfigError } from './config.js';
import type { DaemonConfigOverrides, DryRunMode, LogFormat, LogLevel } from './config-schema.js';

/** What the command line asks for: the config file and the overrides of the flags (highest precedence). */
export interface RunFlags {
  /** `--config FILE`. */
  config?: string;
  flags: DaemonConfigOverrides;
  /** `--help`/`-h` was given. */
  help: boolean;
}

/** The parseArgs options of `reflex run`; every flag takes a value (`--rules` repeats). */
export const RUN_FLAG_OPTIONS = {
  config: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  rules: { type: 'string', multiple: true },
  'dry-run': { type: 'string' },
  workers: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'metrics-address': { type: 'string' },
  'health-address': { type: 'string' },
  'leader-elect': { type: 'string' },
  'lease-name': { type: 'string' },
  'lease-namespace': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Usage lines of the flags, for `reflex run --help`. */
export const RUN_FLAGS_USAGE = [
  '  --config FILE              configuration file (config/reflex.yaml documents every field)',
  '  --kubeconfig FILE          kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)',
  '  --context NAME             kubeconfig context',
  '  --rules PATH               rule file or directory; repeat for more',
  '  --dry-run=client|server    client: plan and log only; server: writes sent with dryRun=All',
  '  --workers N                concurrent workers (default 32)',
  '  --log-level LEVEL          debug, info, warn or error (default info)',
  '  --log-format FORMAT        auto, json or text (default auto: json unless stdout is a terminal)',
  '  --metrics-address ADDR     /metrics and /traces (default :9090)',
  '  --health-address ADDR      /healthz and /readyz (default :8081)',
  '  --leader-elect=true|false  leader election on a Lease (default true inside a Pod)',
  '  --lease-name NAME          Lease name (default reflex)',
  '  --lease-namespace NS       Lease namespace (default the daemon\'s namespace)',
].join('\n');

/**
 * Parses `reflex run`'s arguments. Throws DaemonConfigError (one line naming the flag) for an
 * unknown flag, a missing value or a value of the wrong kind; values are range-checked later by
 * loadDaemonConfig, which names the flag too.
 */
export function parseRunFlags(argv: string[]): RunFlags {
  // `--leader-elect` alone means true, as Kubernetes components accept it.
  const args = argv.map((a) => (a === '--leader-elect' ? '--leader-elect=true' : a));
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options: RUN_FLAG_OPTIONS, allowPositionals: false, strict: true }));
  } catch (err) {
    const msg = errorMessage(err).replace(/\. To specify .*$/s, '');
    throw new DaemonConfigError(`${msg}; see reflex run --help`, 'flags', err);
  }
  const s = (name: string) => values[name] as string | undefined;
  const flags: DaemonConfigOverrides = {};
  if (s('kubeconfig') !== undefined) flags.kubeconfig = s('kubeconfig');
  if (s('context') !== undefined) flags.context = s('context');
  if (values.rules) flags.rules = { paths: values.rules as string[] };
  const dryRun = s('dry-run');
  if (dryRun !== undefined) flags.dryRun = dryRun as DryRunMode;
  const workers = s('workers');
  if (workers !== undefined) {
    if (!/^\d+$/.test(workers)) throw flagError('--workers', `expects a whole number of workers, got "${workers}"`);
    flags.workers = Number(workers);
  }
  const log: { level?: LogLevel; format?: LogFormat } = {};
  if (s('log-level') !== undefined) log.level = s('log-level') as LogLevel;
  if (s('log-format') !== undefined) log.format = s('log-format') as LogFormat;
  if (log.level !== undefined || log.format !== undefined) flags.log = log;
  if (s('metrics-address') !== undefined) flags.metrics = { address: s('metrics-address') };
  if (s('health-address') !== undefined) flags.health = { address: s('health-address') };
  const le: NonNullable<DaemonConfigOverrides['leaderElection']> = {};
  const elect = s('leader-elect');
  if (elect !== undefined) {
    if (elect !== 'true' && elect !== 'false') throw flagError('--leader-elect', `expects true or false, got "${elect}"`);
    le.enabled = elect === 'true';
  }
  if (s('lease-name') !== undefined) le.leaseName = s('lease-name');
  if (s('lease-namespace') !== undefined) le.leaseNamespace = s('lease-namespace');
  if (Object.keys(le).length > 0) flags.leaderElection = le;
  return { config: s('config'), flags, help: values.help === true };
}

function flagError(flag: string, msg: string): DaemonConfigError {
  return new DaemonConfigError(`flag ${flag}: ${msg}`, flag);
}
