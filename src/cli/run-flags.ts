/** run-flags: the flag table of `reflex run` and the configuration overrides its values make. */
import type { DaemonConfigOverrides, DryRunMode, LogFormat, LogLevel } from '../daemon/index.js';
import { CONTEXT, HELP, KUBECONFIG, UsageError, type CommandSpec, type ParsedArgs } from './flags.js';

/** `reflex run`'s table. Every flag but --config overrides the config file and REFLEX_* variables. */
export const RUN_SPEC: CommandSpec = {
  name: 'run',
  summary: 'run the automation daemon against a cluster',
  description:
    'Flags override the config file, which overrides REFLEX_* variables, which override the defaults\n' +
    '(config/reflex.yaml, shipped with reflex, documents every setting). SIGTERM or SIGINT stops it gracefully.',
  flags: [
    { name: 'config', value: 'FILE', help: 'configuration file (config/reflex.yaml documents every field)' },
    KUBECONFIG,
    CONTEXT,
    { name: 'namespace', short: 'n', value: 'NAMESPACE', help: "the daemon's own namespace: rule ConfigMaps, the Lease (default: $POD_NAMESPACE, the context's)" },
    { name: 'rules', value: 'PATH', multiple: true, help: 'rule file or directory; must exist' },
    { name: 'dry-run', value: 'MODE', choices: ['none', 'client', 'server'], help: 'none (the default) writes; client plans and logs only; server sends writes with dryRun=All' },
    { name: 'workers', value: 'N', help: 'concurrent workers (default 32)' },
    { name: 'log-level', value: 'LEVEL', choices: ['debug', 'info', 'warn', 'error'], help: 'lowest level logged; info is the default' },
    { name: 'log-format', value: 'FORMAT', choices: ['auto', 'json', 'text'], help: 'auto (the default): json unless stdout is a terminal' },
    { name: 'metrics-address', value: 'ADDR', help: '/metrics and /traces (default :9090)' },
    { name: 'health-address', value: 'ADDR', help: '/healthz and /readyz (default :8081)' },
    { name: 'leader-elect', value: 'BOOL', bare: 'true', choices: ['true', 'false'], help: 'leader election on a Lease; on by default inside a Pod' },
    { name: 'lease-name', value: 'NAME', help: 'Lease name (default reflex)' },
    { name: 'lease-namespace', value: 'NAMESPACE', help: "Lease namespace (default the daemon's namespace)" },
    { name: 'trim-caches', value: 'BOOL', bare: 'true', choices: ['true', 'false'], help: 'caches keep only what the rules read of each object (default true)' },
    { name: 'sharding', value: 'BOOL', bare: 'true', choices: ['true', 'false'], help: 'replicas split the work by buckets held on Leases (default false)' },
    HELP,
  ],
  exits: {
    0: 'stopped by a signal after a graceful shutdown',
    1: 'the daemon failed while running',
    2: 'usage or configuration error (bad flag, config file, kubeconfig, a --rules path that does not exist)',
  },
  examples: ['reflex run --rules rules/ --dry-run=client', 'reflex run --config /etc/reflex/reflex.yaml --leader-elect=false'],
};

/** What the command line asks for: the config file and the overrides (highest precedence). */
export interface RunFlags {
  config?: string;
  flags: DaemonConfigOverrides;
}

/** Turns parsed values into overrides; loadDaemonConfig range-checks them and names the flag. Throws UsageError. */
export function runOverrides(values: ParsedArgs['values']): RunFlags {
  const s = (name: string) => values[name] as string | undefined;
  const flags: DaemonConfigOverrides = {};
  if (s('kubeconfig') !== undefined) flags.kubeconfig = s('kubeconfig');
  if (s('context') !== undefined) flags.context = s('context');
  if (s('namespace') !== undefined) flags.namespace = s('namespace');
  if (values.rules) flags.rules = { paths: values.rules as string[] };
  if (s('dry-run') !== undefined) flags.dryRun = s('dry-run') as DryRunMode;
  const workers = s('workers');
  if (workers !== undefined) {
    if (!/^\d+$/.test(workers)) throw new UsageError(`--workers expects a whole number of workers; got "${workers}"`);
    flags.workers = Number(workers);
  }
  const log: { level?: LogLevel; format?: LogFormat } = {};
  if (s('log-level') !== undefined) log.level = s('log-level') as LogLevel;
  if (s('log-format') !== undefined) log.format = s('log-format') as LogFormat;
  if (log.level !== undefined || log.format !== undefined) flags.log = log;
  if (s('metrics-address') !== undefined) flags.metrics = { address: s('metrics-address') };
  if (s('health-address') !== undefined) flags.health = { address: s('health-address') };
  const le: NonNullable<DaemonConfigOverrides['leaderElection']> = {};
  if (s('leader-elect') !== undefined) le.enabled = s('leader-elect') === 'true';
  if (s('lease-name') !== undefined) le.leaseName = s('lease-name');
  if (s('lease-namespace') !== undefined) le.leaseNamespace = s('lease-namespace');
  if (Object.keys(le).length > 0) flags.leaderElection = le;
  if (s('trim-caches') !== undefined) flags.caches = { trim: s('trim-caches') === 'true' };
  if (s('sharding') !== undefined) flags.sharding = { enabled: s('sharding') === 'true' };
  return { config: s('config'), flags };
}
