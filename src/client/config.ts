/** ConnectionConfig: everything needed to talk to one API server, resolved from a kubeconfig or the in-cluster environment. */

/** How requests authenticate. Secrets live here: never log a ConnectionConfig. */
export type AuthConfig =
  | { type: 'none' }
  | { type: 'token'; token: string }
  /** A bearer token read from a file, re-read when the file changes (rotating service-account tokens). */
  | { type: 'tokenFile'; path: string }
  | { type: 'basic'; username: string; password: string }
  | { type: 'exec'; exec: ExecConfig };

/** An exec credential plugin, as in kubeconfig `users[].user.exec`. */
export interface ExecConfig {
  /** client.authentication.k8s.io/v1 or /v1beta1. */
  apiVersion: string;
  command: string;
  args: string[];
  env: { name: string; value: string }[];
  /** Never, IfAvailable or Always. Default IfAvailable (v1beta1); v1 requires it. */
  interactiveMode: 'Never' | 'IfAvailable' | 'Always';
  provideClusterInfo: boolean;
  installHint?: string;
  /** Directory relative commands resolve against (the kubeconfig's directory). */
  baseDir?: string;
  /** The cluster's `extensions` entry named client.authentication.k8s.io/exec, passed as spec.cluster.config. */
  clusterConfig?: unknown;
}

export interface TLSConfig {
  /** PEM CA bundle; absent: the system's trusted CAs. */
  ca?: string;
  /** Where the CA came from, for error messages: a file path, `certificate-authority-data of cluster "x"`, or the system CAs. */
  caSource: string;
  /** PEM client certificate and key. */
  cert?: string;
  key?: string;
  insecureSkipTLSVerify: boolean;
  /** SNI and the name the server certificate is checked against. */
  serverName?: string;
}

export interface Impersonation {
  user?: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** A resolved connection: one server, its TLS, one identity. */
export interface ConnectionConfig {
  /** Where it came from. */
  source: 'kubeconfig' | 'in-cluster';
  /** Server URL without a trailing slash, e.g. https://127.0.0.1:6443 or https://[fd00::1]:443. */
  server: string;
  /** Default namespace: the context's namespace, the in-cluster namespace file, or `default`. */
  namespace: string;
  /** The context used (kubeconfig only). */
  contextName?: string;
  clusterName?: string;
  userName?: string;
  /** The kubeconfig files that were read, in order. */
  files: string[];
  tls: TLSConfig;
  /** proxy-url of the cluster (http, https or socks5 URL). */
  proxyUrl?: string;
  auth: AuthConfig;
  impersonate?: Impersonation;
}

/** The default namespace when the configuration names none. */
export const DEFAULT_NAMESPACE = 'default';

/** Joins host and port into a URL authority, putting IPv6 addresses in brackets. */
export function hostPort(host: string, port: string | number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${h}:${port}`;
}
