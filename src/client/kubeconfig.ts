/** kubeconfig: reads and merges kubeconfig files by kubectl's rules and resolves one context to a ConnectionConfig. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { load, type YAMLException } from 'js-yaml';
import { type AuthConfig, type ConnectionConfig, DEFAULT_NAMESPACE, type ExecConfig, type Impersonation } from './config.js';
import { KubeconfigError } from './errors.js';

type Dict = Record<string, unknown>;

/** A named entry (cluster, user or context) and the file that defined it. */
interface Entry {
  name: string;
  body: Dict;
  file: string;
}

/** Several kubeconfig files merged: for each map the first file that defines a name wins. */
export interface MergedKubeconfig {
  files: string[];
  currentContext?: string;
  clusters: Map<string, Entry>;
  users: Map<string, Entry>;
  contexts: Map<string, Entry>;
}

export interface KubeconfigLocation {
  /** An explicit file (like `kubectl --kubeconfig`): only it is read, and it must exist. */
  kubeconfig?: string;
  /** Environment; default process.env (for KUBECONFIG). */
  env?: NodeJS.ProcessEnv;
  /** Home directory for ~/.kube/config; default os.homedir(). */
  homeDir?: string;
}

/**
 * The kubeconfig files kubectl would read, in order: the explicit path; else every
 * existing entry of KUBECONFIG; else ~/.kube/config if it exists. Empty: none found.
 */
export function kubeconfigFiles(loc: KubeconfigLocation = {}): string[] {
  if (loc.kubeconfig) return [resolve(loc.kubeconfig)];
  const env = loc.env ?? process.env;
  if (env.KUBECONFIG) {
    const seen = new Set<string>();
    return env.KUBECONFIG.split(delimiter)
      .filter((p) => p.trim() !== '')
      .map((p) => resolve(p))
      .filter((p) => (seen.has(p) ? false : (seen.add(p), existsSync(p))));
  }
  const home = join(loc.homeDir ?? homedir(), '.kube', 'config');
  return existsSync(home) ? [home] : [];
}

/** Reads one kubeconfig file; throws a KubeconfigError naming the file and what is wrong. */
function readKubeconfig(file: string): Dict {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (err as Error).message;
    throw new KubeconfigError(`cannot read kubeconfig ${file}: ${why}`, { file, cause: err });
  }
  let doc: unknown;
  try {
    doc = load(text);
  } catch (err) {
    // Only the reason and position: the snippet could show a token or key.
    const y = err as YAMLException;
    const at = y.mark ? ` at line ${y.mark.line + 1}, column ${y.mark.column + 1}` : '';
    throw new KubeconfigError(`malformed kubeconfig ${file}: invalid YAML${at}: ${y.reason ?? 'parse error'}`, { file, cause: err });
  }
  if (doc === undefined || doc === null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new KubeconfigError(`malformed kubeconfig ${file}: expected a mapping (apiVersion: v1, kind: Config), found ${Array.isArray(doc) ? 'a list' : typeof doc}`, { file });
  }
  return doc as Dict;
}

function entries(doc: Dict, key: 'clusters' | 'users' | 'contexts', inner: string, file: string): Entry[] {
  const list = doc[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeconfigError(`malformed kubeconfig ${file}: "${key}" must be a list`, { file });
  return list.map((item: unknown, i) => {
    const e = item as Dict | null;
    if (!e || typeof e !== 'object' || typeof e.name !== 'string' || !e.name) {
      throw new KubeconfigError(`malformed kubeconfig ${file}: ${key}[${i}] has no name`, { file });
    }
    const body = e[inner] ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) {
      throw new KubeconfigError(`malformed kubeconfig ${file}: ${key}[${i}] ("${e.name}").${inner} must be a mapping`, { file });
    }
    return { name: e.name, body: body as Dict, file };
  });
}

/** Reads and merges `files` by kubectl's rules: first definition of a name wins; current-context from the first file that sets one. */
export function mergeKubeconfigs(files: string[]): MergedKubeconfig {
  const merged: MergedKubeconfig = { files, clusters: new Map(), users: new Map(), contexts: new Map() };
  for (const file of files) {
    const doc = readKubeconfig(file);
    for (const [key, inner, map] of [
      ['clusters', 'cluster', merged.clusters],
      ['users', 'user', merged.users],
      ['contexts', 'context', merged.contexts],
    ] as const) {
      for (const e of entries(doc, key, inner, file)) if (!map.has(e.name)) map.set(e.name, e);
    }
    const cc = doc['current-context'];
    if (merged.currentContext === undefined && typeof cc === 'string' && cc !== '') merged.currentContext = cc;
  }
  return merged;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Resolves a path relative to the kubeconfig file that mentions it (kubectl's rule). */
const relTo = (file: string, p: string): string => (isAbsolute(p) ? p : resolve(dirname(file), p));

function readPem(e: Entry, field: string, kind: string): string | undefined {
  const data = str(e.body[`${field}-data`]);
  if (data) {
    const text = Buffer.from(data, 'base64').toString('utf8');
    if (!text.includes('-----BEGIN')) {
      throw new KubeconfigError(`malformed kubeconfig ${e.file}: ${kind} "${e.name}" ${field}-data is not base64-encoded PEM`, { file: e.file });
    }
    return text;
  }
  const path = str(e.body[field]);
  if (!path) return undefined;
  const full = relTo(e.file, path);
  try {
    return readFileSync(full, 'utf8');
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${e.file}: ${kind} "${e.name}" ${field} ${full} cannot be read: ${(err as Error).message}`, { file: e.file, cause: err });
  }
}

function execConfig(e: Entry, cluster: Entry): ExecConfig {
  const x = e.body.exec as Dict;
  const bad = (why: string) => new KubeconfigError(`malformed kubeconfig ${e.file}: user "${e.name}" exec ${why}`, { file: e.file });
  const apiVersion = str(x.apiVersion);
  if (!apiVersion) throw bad('has no apiVersion (client.authentication.k8s.io/v1 or v1beta1)');
  const command = str(x.command);
  if (!command) throw bad('has no command');
  let mode = str(x.interactiveMode);
  if (!mode) {
    if (apiVersion === 'client.authentication.k8s.io/v1') throw bad('needs interactiveMode (Never, IfAvailable or Always) with apiVersion v1');
    mode = 'IfAvailable';
  }
  if (!['Never', 'IfAvailable', 'Always'].includes(mode)) throw bad(`interactiveMode "${mode}" is not Never, IfAvailable or Always`);
  const env = Array.isArray(x.env) ? (x.env as Dict[]).map((v) => ({ name: String(v.name), value: String(v.value ?? '') })) : [];
  const args = Array.isArray(x.args) ? (x.args as unknown[]).map(String) : [];
  const ext = Array.isArray(cluster.body.extensions)
    ? (cluster.body.extensions as Dict[]).find((x) => x.name === 'client.authentication.k8s.io/exec')?.extension
    : undefined;
  return {
    apiVersion,
    command,
    args,
    env,
    interactiveMode: mode as ExecConfig['interactiveMode'],
    provideClusterInfo: x.provideClusterInfo === true,
    installHint: str(x.installHint),
    baseDir: dirname(e.file),
    clusterConfig: ext,
  };
}

function authConfig(u: Entry, cluster: Entry): AuthConfig {
  const b = u.body;
  if (b.exec) return { type: 'exec', exec: execConfig(u, cluster) };
  if (str(b.token)) return { type: 'token', token: b.token as string };
  if (str(b.tokenFile)) return { type: 'tokenFile', path: relTo(u.file, b.tokenFile as string) };
  if (str(b.username) || str(b.password)) return { type: 'basic', username: String(b.username ?? ''), password: String(b.password ?? '') };
  if (b['auth-provider']) {
    const name = (b['auth-provider'] as Dict).name;
    throw new KubeconfigError(`kubeconfig ${u.file}: user "${u.name}" uses auth-provider "${String(name)}", which is not supported; use an exec credential plugin instead`, { file: u.file });
  }
  return { type: 'none' };
}

function impersonation(u: Entry): Impersonation | undefined {
  const b = u.body;
  const imp: Impersonation = {};
  if (str(b.as)) imp.user = b.as as string;
  if (Array.isArray(b['as-groups'])) imp.groups = (b['as-groups'] as unknown[]).map(String);
  if (str(b['as-uid'])) imp.uid = b['as-uid'] as string;
  if (b['as-user-extra'] && typeof b['as-user-extra'] === 'object') {
    imp.extra = Object.fromEntries(Object.entries(b['as-user-extra'] as Dict).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : [String(v)]]));
  }
  return Object.keys(imp).length > 0 ? imp : undefined;
}

/** Resolves `context` (default: current-context) of a merged kubeconfig to a ConnectionConfig. */
export function resolveContext(kc: MergedKubeconfig, context?: string): ConnectionConfig {
  const where = kc.files.length === 1 ? `kubeconfig ${kc.files[0]}` : `kubeconfig files ${kc.files.join(', ')}`;
  const known = [...kc.contexts.keys()];
  const list = known.length > 0 ? known.map((c) => `"${c}"`).join(', ') : '(none)';
  const name = context ?? kc.currentContext;
  if (!name) throw new KubeconfigError(`${where} sets no current-context; choose a context (contexts that exist: ${list})`, { file: kc.files[0] });
  const ctx = kc.contexts.get(name);
  if (!ctx) throw new KubeconfigError(`context "${name}" not found in ${where}; contexts that exist: ${list}`, { file: kc.files[0] });
  const clusterName = str(ctx.body.cluster);
  const cluster = clusterName ? kc.clusters.get(clusterName) : undefined;
  if (!cluster) throw new KubeconfigError(`context "${name}" in ${ctx.file} refers to cluster "${clusterName ?? ''}", which is not defined in ${where}`, { file: ctx.file });
  const userName = str(ctx.body.user);
  const user = userName ? kc.users.get(userName) : undefined;
  if (userName && !user) throw new KubeconfigError(`context "${name}" in ${ctx.file} refers to user "${userName}", which is not defined in ${where}`, { file: ctx.file });
  const server = str(cluster.body.server);
  if (!server) throw new KubeconfigError(`malformed kubeconfig ${cluster.file}: cluster "${cluster.name}" has no server`, { file: cluster.file });
  let url: URL;
  try {
    url = new URL(server);
  } catch (err) {
    throw new KubeconfigError(`malformed kubeconfig ${cluster.file}: cluster "${cluster.name}" server "${server}" is not a URL`, { file: cluster.file, cause: err });
  }
  const caPath = str(cluster.body['certificate-authority']);
  const caSource = str(cluster.body['certificate-authority-data'])
    ? `certificate-authority-data of cluster "${cluster.name}" in ${cluster.file}`
    : caPath
      ? `certificate-authority ${relTo(cluster.file, caPath)}`
      : "the system's trusted CAs";
  const u: Entry = user ?? { name: '', body: {}, file: ctx.file };
  return {
    source: 'kubeconfig',
    server: url.href.replace(/\/+$/, ''),
    namespace: str(ctx.body.namespace) ?? DEFAULT_NAMESPACE,
    contextName: name,
    clusterName,
    userName,
    files: kc.files,
    tls: {
      ca: readPem(cluster, 'certificate-authority', 'cluster'),
      caSource,
      cert: readPem(u, 'client-certificate', 'user'),
      key: readPem(u, 'client-key', 'user'),
      insecureSkipTLSVerify: cluster.body['insecure-skip-tls-verify'] === true,
      serverName: str(cluster.body['tls-server-name']),
    },
    proxyUrl: str(cluster.body['proxy-url']),
    auth: authConfig(u, cluster),
    impersonate: impersonation(u),
  };
}
