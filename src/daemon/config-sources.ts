/** config-sources: the environment-variable layer of the daemon's configuration and the file's duration aliases. */
import { parseDuration } from '../core/index.js';
import { DAEMON_CONFIG_SCHEMA } from './config-schema.js';

/** One layer of settings and where each of its fields came from, for messages. */
export interface Layer {
  source: string;
  values: Record<string, unknown>;
  origin(path: string): string;
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A field settable from the environment. */
export interface EnvVariable {
  /** e.g. `REFLEX_QUEUE_BASE_DELAY_MS`. */
  name: string;
  /** e.g. `queue.baseDelayMs`. */
  path: string;
  /** How the text is read: `string`, `integer`, `number`, `boolean` (true/false/1/0), `list` (comma-separated), or an enum. */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'list' | 'enum';
}

/**
 * Every leaf of the schema is a variable: `REFLEX_` + its path, camelCase turned into
 * UPPER_SNAKE and dots into `_` (`leaderElection.leaseName` → `REFLEX_LEADER_ELECTION_LEASE_NAME`).
 */
export function envVariables(): EnvVariable[] {
  const out: EnvVariable[] = [];
  const walk = (schema: Record<string, unknown>, path: string[]) => {
    const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
    if (schema.type === 'object' && props) {
      for (const [k, s] of Object.entries(props)) walk(s, [...path, k]);
      return;
    }
    const snake = path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
    const type = schema.enum ? 'enum' : schema.type === 'array' ? 'list' : (schema.type as EnvVariable['type']);
    out.push({ name: `REFLEX_${snake}`, path: path.join('.'), type });
  };
  walk(DAEMON_CONFIG_SCHEMA as unknown as Record<string, unknown>, []);
  return out;
}

/** The `REFLEX_*` variables present in `env`, typed; an unreadable value throws through `fail`. */
export function envLayer(env: NodeJS.ProcessEnv, fail: (name: string, message: string) => Error): Layer {
  const values: Record<string, unknown> = {};
  const names = new Map<string, string>();
  for (const v of envVariables()) {
    const raw = env[v.name];
    if (raw === undefined || raw === '') continue;
    setPath(values, v.path, parseEnvValue(v, raw, (msg) => fail(v.name, msg)));
    names.set(v.path, v.name);
  }
  return { source: 'environment', values, origin: (path) => `environment variable ${names.get(path) ?? path}` };
}

function parseEnvValue(v: EnvVariable, raw: string, fail: (msg: string) => Error): unknown {
  const text = raw.trim();
  switch (v.type) {
    case 'integer':
      if (!/^-?\d+$/.test(text)) throw fail(`${v.path} must be an integer, got "${raw}"`);
      return Number(text);
    case 'number':
      if (text === '' || !Number.isFinite(Number(text))) throw fail(`${v.path} must be a number, got "${raw}"`);
      return Number(text);
    case 'boolean':
      if (/^(true|1|yes)$/i.test(text)) return true;
      if (/^(false|0|no)$/i.test(text)) return false;
      throw fail(`${v.path} must be true or false, got "${raw}"`);
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    default:
      return text;
  }
}

function setPath(root: Record<string, unknown>, path: string, value: unknown): void {
  const segs = path.split('.');
  let node = root;
  for (const seg of segs.slice(0, -1)) {
    if (!isPlainObject(node[seg])) node[seg] = {};
    node = node[seg] as Record<string, unknown>;
  }
  node[segs[segs.length - 1]] = value;
}

/** Kubernetes-style duration fields the file may use instead of the `…Seconds` ones (the Helm chart writes these). */
const DURATION_ALIASES: Record<string, string> = {
  leaseDuration: 'leaseDurationSeconds',
  renewDeadline: 'renewDeadlineSeconds',
  retryPeriod: 'retryPeriodSeconds',
};

/**
 * Rewrites `leaderElection.leaseDuration: 15s` (and renewDeadline, retryPeriod, in `sharding` too; a Go-style duration
 * such as `500ms`, `15s`, `1m30s`, or a number of seconds) to the `…Seconds` field. Setting both is an error.
 */
export function normalizeDurations(doc: Record<string, unknown>, fail: (msg: string) => Error): Record<string, unknown> {
  let result = doc;
  for (const section of ['leaderElection', 'sharding']) {
    const le = doc[section];
    if (!isPlainObject(le)) continue;
    const out: Record<string, unknown> = { ...le };
    for (const [alias, field] of Object.entries(DURATION_ALIASES)) {
      if (!(alias in out)) continue;
      if (field in out) throw fail(`set ${section}.${alias} or ${section}.${field}, not both`);
      const seconds = parseDurationSeconds(out[alias]);
      if (seconds === undefined) {
        throw fail(`${section}.${alias} must be a duration such as "15s", "500ms" or "1m", got ${JSON.stringify(out[alias])}`);
      }
      delete out[alias];
      out[field] = seconds;
    }
    result = { ...result, [section]: out };
  }
  return result;
}

/** `15s` → 15, `500ms` → 0.5, `1m30s` → 90, `2` → 2; undefined when unreadable. */
export function parseDurationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  return ms === undefined ? undefined : Math.round(ms) / 1000;
}
