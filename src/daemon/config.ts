/**
 * config: loads the daemon's configuration — defaults, then the YAML file, then `REFLEX_*`
 * environment variables, then flags (each layer overrides the one before) — and validates the
 * result with ajv. Any problem is one DaemonConfigError naming the file, variable or flag.
 */
import { readFileSync } from 'node:fs';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { load } from 'js-yaml';
import { errorMessage, ReflexError } from '../core/index.js';
import {
  defaultConfig,
  type DaemonConfig,
  type DaemonConfigOverrides,
} from './config-schema.js';
import { envLayer, isPlainObject, normalizeDurations, type Layer } from './config-sources.js';
import { config as generatedValidator } from './config-validator.generated.js';

export * from './config-schema.js';
export { envVariables, parseDurationSeconds, type EnvVariable } from './config-sources.js';

/** The configuration is unusable; the message is one line naming where the bad value came from. `reflex run` exits 2. */
export class DaemonConfigError extends ReflexError {
  constructor(
    message: string,
    /** The file, environment variable or flag at fault (e.g. `$REFLEX_WORKERS`, `--workers`). */
    readonly source: string,
    cause?: unknown,
  ) {
    super(message, { code: 'ERR_DAEMON_CONFIG', cause });
  }
}

export interface LoadDaemonConfigOptions {
  /** The YAML file; none means defaults + environment + flags. */
  file?: string;
  /** Overrides from the command line (the flags of `reflex run`, src/cli/run-flags.ts). */
  flags?: DaemonConfigOverrides;
  /** The environment: `REFLEX_*` overrides, plus POD_NAMESPACE and KUBERNETES_SERVICE_HOST for defaults. */
  env?: NodeJS.ProcessEnv;
  /** Reads the file; default fs.readFileSync as UTF-8 (tests pass text in). */
  readFile?: (file: string) => string;
}

/** The ajv options of the configuration's validator. */
export const DAEMON_CONFIG_OPTIONS = { allErrors: false, strict: true, verbose: true } as const;

/** Where `npm run gen` writes it: ajv standalone code of DAEMON_CONFIG_SCHEMA (src/cli/validator-files.ts). */
export const DAEMON_CONFIG_VALIDATOR_PATH = 'src/daemon/config-validator.generated.ts';

/** The configuration's validator (compiled ahead of time: `npm run gen`). */
const validate = generatedValidator as unknown as ValidateFunction;

/** Loads, merges and validates. Throws DaemonConfigError; touches nothing but the file. */
export function loadDaemonConfig(options: LoadDaemonConfigOptions): DaemonConfig {
  const env = options.env ?? {};
  const layers: Layer[] = [];
  if (options.file !== undefined) layers.push(fileLayer(options.file, options.readFile));
  layers.push(envLayer(env, (name, msg) => new DaemonConfigError(`environment variable ${name}: ${msg}`, name)));
  if (options.flags) layers.push({ source: 'flags', values: options.flags as Record<string, unknown>, origin: flagOrigin });
  let merged: Record<string, unknown> = defaultConfig(env) as unknown as Record<string, unknown>;
  const origins = new Map<string, string>();
  for (const layer of layers) {
    checkLayer(layer);
    merged = mergeInto(merged, layer.values, '', (path) => origins.set(path, layer.origin(path)));
  }
  checkLayer({ source: 'configuration', values: merged, origin: (p) => origins.get(p) ?? 'configuration' });
  const config = merged as unknown as DaemonConfig;
  checkSemantics(config, (path) => origins.get(path) ?? 'defaults');
  return config;
}

/**
 * Fills in the namespaces left to "the daemon's own namespace" (config.namespace, else `clientNamespace`,
 * the namespace of the kubeconfig context or of the in-cluster service account).
 */
export function resolveNamespaces(config: DaemonConfig, clientNamespace: string): DaemonConfig {
  const ns = config.namespace ?? clientNamespace;
  return {
    ...config,
    namespace: ns,
    rules: { ...config.rules, configMaps: { ...config.rules.configMaps, namespaces: config.rules.configMaps.namespaces ?? [ns] } },
    leaderElection: { ...config.leaderElection, leaseNamespace: config.leaderElection.leaseNamespace ?? ns },
  };
}

/** Whether the rule ConfigMaps are watched in all namespaces (`namespaces: ['*']`). */
export const allNamespaces = (namespaces: string[] | undefined): boolean => namespaces?.length === 1 && namespaces[0] === '*';

function flagOrigin(path: string): string {
  return `flag ${FLAG_OF_PATH[path] ?? `for ${path}`}`;
}

/** The flag that sets each field, for messages. */
export const FLAG_OF_PATH: Record<string, string> = {
  kubeconfig: '--kubeconfig',
  context: '--context',
  namespace: '--namespace',
  'rules.paths': '--rules',
  dryRun: '--dry-run',
  workers: '--workers',
  'log.level': '--log-level',
  'log.format': '--log-format',
  'metrics.address': '--metrics-address',
  'health.address': '--health-address',
  'leaderElection.enabled': '--leader-elect',
  'leaderElection.leaseName': '--lease-name',
  'leaderElection.leaseNamespace': '--lease-namespace',
  'sharding.enabled': '--sharding',
};

function fileLayer(file: string, readFile = (f: string) => readFileSync(f, 'utf8')): Layer {
  const fail = (msg: string, cause?: unknown) => new DaemonConfigError(`config file ${file}: ${msg}`, file, cause);
  let text: string;
  try {
    text = readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'no such file; pass an existing file to --config' : errorMessage(err), err);
  }
  let doc: unknown;
  try {
    doc = load(text);
  } catch (err) {
    throw fail(`not valid YAML: ${errorMessage(err).split('\n')[0]}`, err);
  }
  if (doc === undefined || doc === null) doc = {};
  if (!isPlainObject(doc)) throw fail('must be a YAML mapping of settings (see config/reflex.yaml)');
  const values = normalizeDurations(doc, (msg) => fail(msg));
  return { source: file, values, origin: () => `config file ${file}` };
}

/** Validates one layer against the schema (every field optional), naming its source on failure. */
function checkLayer(layer: Layer): void {
  if (validate(layer.values)) return;
  const err = validate.errors?.[0];
  if (!err) return;
  const path = err.instancePath.slice(1).replaceAll('/', '.');
  const origin = layer.origin(path);
  throw new DaemonConfigError(`${origin}: ${describe(err, path, layer.values)}`, origin);
}

function describe(err: ErrorObject, path: string, root: Record<string, unknown>): string {
  const field = path || 'the configuration';
  const got = JSON.stringify(valueAt(root, path));
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const schema = err.parentSchema as { properties?: Record<string, unknown> };
      const key = path ? `${path}.${String(p.additionalProperty)}` : String(p.additionalProperty);
      return `unknown field "${key}" (known here: ${Object.keys(schema.properties ?? {}).join(', ')})`;
    }
    case 'type':
      return `${field} must be ${article(String(p.type))}, got ${got}`;
    case 'enum':
      return `${field} must be one of ${(p.allowedValues as unknown[]).join(', ')}, got ${got}`;
    case 'pattern':
      return path.endsWith('address')
        ? `${field} must be HOST:PORT with a port from 1 to 65535 (e.g. ":9090" or "127.0.0.1:9090"), got ${got}`
        : `${field} must be a lowercase DNS subdomain name, got ${got}`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${field} must be ${p.comparison} ${p.limit}, got ${got}`;
    case 'minLength':
      return `${field} must not be empty`;
    case 'minItems':
      return `${field} must list at least one entry (use ["*"] for all namespaces)`;
    case 'uniqueItems':
      return `${field} lists an entry twice`;
    default:
      return `${field} ${err.message ?? 'is invalid'}, got ${got}`;
  }
}

function article(type: string): string {
  return `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`;
}

function valueAt(root: Record<string, unknown>, path: string): unknown {
  let v: unknown = root;
  for (const seg of path ? path.split('.') : []) v = isPlainObject(v) ? v[seg] : undefined;
  return v;
}

/** Cross-field rules of leader election (as client-go enforces) and of the ConfigMap namespaces. */
function checkSemantics(c: DaemonConfig, origin: (path: string) => string): void {
  const le = c.leaderElection;
  const fail = (path: string, msg: string) => {
    throw new DaemonConfigError(`${origin(path)}: ${msg}`, origin(path));
  };
  if (le.renewDeadlineSeconds >= le.leaseDurationSeconds) {
    fail('leaderElection.renewDeadlineSeconds',
      `leaderElection.renewDeadlineSeconds (${le.renewDeadlineSeconds}) must be less than leaseDurationSeconds (${le.leaseDurationSeconds})`);
  }
  if (le.retryPeriodSeconds * 1.2 >= le.renewDeadlineSeconds) {
    fail('leaderElection.retryPeriodSeconds',
      `leaderElection.retryPeriodSeconds (${le.retryPeriodSeconds}) × 1.2 must be less than renewDeadlineSeconds (${le.renewDeadlineSeconds})`);
  }
  const sh = c.sharding;
  if (sh.renewDeadlineSeconds >= sh.leaseDurationSeconds) {
    fail('sharding.renewDeadlineSeconds',
      `sharding.renewDeadlineSeconds (${sh.renewDeadlineSeconds}) must be less than leaseDurationSeconds (${sh.leaseDurationSeconds})`);
  }
  if (sh.retryPeriodSeconds >= sh.renewDeadlineSeconds) {
    fail('sharding.retryPeriodSeconds',
      `sharding.retryPeriodSeconds (${sh.retryPeriodSeconds}) must be less than renewDeadlineSeconds (${sh.renewDeadlineSeconds})`);
  }
  const ns = c.rules.configMaps.namespaces;
  if (ns && ns.length > 1 && ns.includes('*')) {
    fail('rules.configMaps.namespaces', 'rules.configMaps.namespaces: "*" (all namespaces) must be the only entry');
  }
  if (c.queue.baseDelayMs > c.queue.maxDelayMs) {
    fail('queue.baseDelayMs', `queue.baseDelayMs (${c.queue.baseDelayMs}) must not exceed queue.maxDelayMs (${c.queue.maxDelayMs})`);
  }
}

/** Deep-merges `over` into a copy of `base` (arrays and scalars replace), reporting each leaf path set. */
function mergeInto(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
  prefix: string,
  record: (path: string) => void,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && isPlainObject(out[key])) {
      out[key] = mergeInto(out[key] as Record<string, unknown>, value, path, record);
    } else {
      out[key] = value;
      record(path);
    }
  }
  return out;
}
