/** loadConfig: finds the configuration as kubectl and client-go do (explicit kubeconfig, KUBECONFIG, ~/.kube/config, in-cluster). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConnectionConfig, DEFAULT_NAMESPACE, hostPort } from './config.js';
import { KubeconfigError } from './errors.js';
import { kubeconfigFiles, type KubeconfigLocation, mergeKubeconfigs, resolveContext } from './kubeconfig.js';

/** Where the kubelet mounts the service-account token, CA and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface LoadConfigOptions extends KubeconfigLocation {
  /** Context to use; default the kubeconfig's current-context. */
  context?: string;
  /** Use the in-cluster configuration even when a kubeconfig exists. Default false. */
  inCluster?: boolean;
  /** Service-account directory of the in-cluster configuration. Default /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir?: string;
}

/**
 * The in-cluster configuration: KUBERNETES_SERVICE_HOST/_PORT (IPv6 in brackets), the
 * service-account token (a token file, so rotation is picked up), CA and namespace file.
 */
export function inClusterConfig(options: { env?: NodeJS.ProcessEnv; serviceAccountDir?: string } = {}): ConnectionConfig {
  const env = options.env ?? process.env;
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new KubeconfigError('in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT; they are not set (not running in a pod?)');
  }
  const tokenPath = join(dir, 'token');
  if (!existsSync(tokenPath)) {
    throw new KubeconfigError(`in-cluster configuration: the service-account token ${tokenPath} does not exist; is automountServiceAccountToken disabled?`);
  }
  const caPath = join(dir, 'ca.crt');
  let ca: string | undefined;
  try {
    ca = readFileSync(caPath, 'utf8');
  } catch (err) {
    throw new KubeconfigError(`in-cluster configuration: cannot read the CA ${caPath}: ${(err as Error).message}`, { cause: err });
  }
  let namespace = DEFAULT_NAMESPACE;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || DEFAULT_NAMESPACE;
  } catch {
    /* no namespace file: `default`, as client-go */
  }
  return {
    source: 'in-cluster',
    server: `https://${hostPort(host, port)}`,
    namespace,
    files: [],
    tls: { ca, caSource: `the service-account CA ${caPath}`, insecureSkipTLSVerify: false },
    auth: { type: 'tokenFile', path: tokenPath },
  };
}

/**
 * Resolves the configuration. Order: `inCluster` forces in-cluster; an explicit
 * `kubeconfig`; KUBECONFIG; ~/.kube/config; in-cluster when KUBERNETES_SERVICE_HOST
 * is set. Otherwise throws a KubeconfigError saying no configuration was found.
 */
export function loadConfig(options: LoadConfigOptions = {}): ConnectionConfig {
  const env = options.env ?? process.env;
  if (options.inCluster) return inClusterConfig({ env, serviceAccountDir: options.serviceAccountDir });
  const files = kubeconfigFiles({ ...options, env });
  if (files.length > 0) return resolveContext(mergeKubeconfigs(files), options.context);
  if (env.KUBERNETES_SERVICE_HOST) return inClusterConfig({ env, serviceAccountDir: options.serviceAccountDir });
  const looked = env.KUBECONFIG ? `KUBECONFIG (${env.KUBECONFIG}) names no existing file` : 'KUBECONFIG is not set and ~/.kube/config does not exist';
  throw new KubeconfigError(
    `no configuration found: ${looked}, and this is not a pod (KUBERNETES_SERVICE_HOST is not set). Pass --kubeconfig, set KUBECONFIG, or run in a cluster`,
  );
}

/** Alias of loadConfig, named for what the CLI reports. */
export const loadKubeconfig = loadConfig;
