/** config-schema: the shape of the daemon's configuration, its JSON Schema and its defaults. */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

/** Where writes go: `none` writes for real, `client` only plans and logs, `server` sends writes with dryRun=All. */
export type DryRunMode = 'none' | 'client' | 'server';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
/** `auto`: JSON when stdout is not a terminal, readable coloured lines when it is. */
export type LogFormat = 'auto' | 'json' | 'text';

/** The daemon's configuration: every field is filled in (defaults, file, environment, flags). */
export interface DaemonConfig {
  /** Kubeconfig file. Default: the client's search ($KUBECONFIG, ~/.kube/config, then in-cluster). */
  kubeconfig?: string;
  /** Kubeconfig context. Default: the kubeconfig's current-context. */
  context?: string;
  /**
   * The daemon's own namespace (rule ConfigMaps, the Lease). Default: $POD_NAMESPACE, else — left
   * undefined here — the client's namespace (kubeconfig context or in-cluster namespace file).
   */
  namespace?: string;
  rules: {
    /** Rule files and directories (recursively, .yaml/.yml/.json). Default none. */
    paths: string[];
    configMaps: {
      /** Load rules from labelled ConfigMaps. Default true. */
      enabled: boolean;
      /** Namespaces to watch; `['*']` means all. Default (undefined): the daemon's own namespace. */
      namespaces?: string[];
      /** Label selector of rule ConfigMaps. Default `reflex.dev/rules=true`. */
      labelSelector: string;
    };
    customResources: {
      /** Load rules from ClusterRule and Rule objects (once their CustomResourceDefinitions are served), and write their status. Default true. */
      enabled: boolean;
    };
    /** Rule documents one source (a file, a ConfigMap key) may hold; over it none of them load. Default 1000. */
    maxRulesPerSource: number;
    /** Characters one source may hold; over it none of its rules load. Default 4194304 (4 MiB). */
    maxSourceBytes: number;
    /** Rules (by name) run in audit mode whatever their documents say: planned, logged and counted, nothing written. Default none. */
    audit: string[];
  };
  /** Default `none`. */
  dryRun: DryRunMode;
  /** Workers taking keys from the queue. Default 32. */
  workers: number;
  /** Retries of the work queue: per-key backoff under an overall bucket. */
  queue: {
    /** Overall retry rate, keys/s. Default 10. */
    qps: number;
    /** Overall retry burst. Default 100. */
    burst: number;
    /** First per-key retry delay, ms; doubles per failure. Default 5. */
    baseDelayMs: number;
    /** Largest per-key retry delay before jitter (up to 10 % is added), ms. Default 300 000 (5 min). */
    maxDelayMs: number;
    /** Opt-in: transient failures of one key before the daemon gives up on it until it or its rule changes (Warning Event + metric). Default 0: never. */
    maxRetries: number;
  };
  /** Client-side limits towards the API server. */
  client: {
    /** Requests/s. Default 50. */
    qps: number;
    /** Burst above the rate. Default 100. */
    burst: number;
    /** Time limit of one ordinary request (not watches), ms. Default 30 000. */
    timeoutMs: number;
    /**
     * Informers fill their caches through streaming lists (WatchList) where the API server serves
     * them (Kubernetes 1.34+), and with LIST elsewhere or when false. Default false: LIST, which
     * API servers answer faster in JSON (docs/architecture.md).
     */
    streamingLists: boolean;
    /** Lists of built-in kinds in protobuf (false: JSON only). */
    protobuf: boolean;
  };
  /** The informers' caches of watched objects. */
  caches: {
    /**
     * Keep of each object only what the rules read (the paths their expressions use, plus apiVersion,
     * kind and metadata), falling back to whole objects for a kind some rule reads whole. Default
     * true; false: every cache keeps whole objects.
     */
    trim: boolean;
  };
  leaderElection: {
    /** Default: true inside a Pod ($KUBERNETES_SERVICE_HOST set), false elsewhere. */
    enabled: boolean;
    /** Lease name. Default `reflex`. */
    leaseName: string;
    /** Lease namespace. Default (undefined): the daemon's own namespace. */
    leaseNamespace?: string;
    /** How long a lease holds without renewal. Default 15. */
    leaseDurationSeconds: number;
    /** How long the leader keeps trying to renew before it gives up leading. Default 10. */
    renewDeadlineSeconds: number;
    /** Wait between attempts to acquire or renew. Default 2. */
    retryPeriodSeconds: number;
    /** This replica's holderIdentity. Default `HOSTNAME_PID-RANDOM`. */
    identity: string;
  };
  /**
   * Sharding: the replicas split the work by buckets of keys held through Leases in the lease
   * namespace, instead of one leader doing it all. Leader election still picks the replica that
   * writes rule-wide reports. Default off.
   */
  sharding: {
    enabled: boolean;
    /** The ring's name: bucket Leases are `<ringName>-bucket-NN`; every Lease is labelled `reflex.dev/shard-ring=<ringName>`. Default `reflex-shard`. */
    ringName: string;
    /** Buckets keys hash into; every replica of a ring must use the same. Default 64. */
    buckets: number;
    /** How long a bucket or member Lease holds without renewal. Default 15. */
    leaseDurationSeconds: number;
    /** A replica stops taking a bucket's keys when it could not renew its Lease for this long. Default 10. */
    renewDeadlineSeconds: number;
    /** Seconds between rounds (renew, rebalance). Default 2. */
    retryPeriodSeconds: number;
    /** How far the replicas' clocks may differ. Default 2. */
    maxClockSkewSeconds: number;
  };
  /** Prometheus metrics. Default address `:9090`. */
  metrics: { address: string };
  /** /healthz and /readyz. Default address `:8081`; the same address as metrics serves everything on one listener. */
  health: { address: string };
  /** The `/traces` WebSocket (docs/security.md). */
  traces: {
    /** Default true. */
    enabled: boolean;
    /**
     * HOST:PORT of its own listener. Default `127.0.0.1:9091`: reachable only from inside the Pod
     * (`kubectl port-forward`). On any other host every subscriber must present a bearer token
     * that passes TokenReview and SubjectAccessReview (`get` on the non-resource URL `/traces`).
     */
    address: string;
    /** Subscribers at once. Default 10. */
    maxClients: number;
    /** Origins (`https://host`) a browser may open it from. Default none. */
    allowedOrigins: string[];
  };
  /** Where webhook actions may go (docs/security.md). */
  webhooks: {
    /**
     * Hosts (`name`, `*.suffix`, an IP) webhooks may call. Default `[]`: any host, but link-local
     * and metadata addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254, …) are always refused unless listed here exactly.
     */
    allowedHosts: string[];
  };
  /** Default level `info`, format `auto`. */
  log: { level: LogLevel; format: LogFormat };
  /** Seconds in-flight work may take after SIGTERM before the daemon stops anyway. Default 25. */
  shutdown: { gracePeriodSeconds: number };
}

/** A deep partial of DaemonConfig: what a file, the environment or flags may set. */
export type DaemonConfigOverrides = DeepPartial<DaemonConfig>;
export type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object ? DeepPartial<T[K]> : T[K] };

const str = { type: 'string' } as const;
const nonEmpty = { type: 'string', minLength: 1 } as const;
const posInt = { type: 'integer', minimum: 1 } as const;
const posNum = { type: 'number', exclusiveMinimum: 0 } as const;
/** HOST:PORT with a port from 1 to 65535 (`:99999` and `:0` are refused here, not by a raw listen error). */
const address = {
  type: 'string',
  pattern: '^(\\[[0-9a-fA-F:.]*\\]|[^:\\s]*):([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
} as const;
const obj = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties }) as const;

/** The JSON Schema of the configuration file (and of the merged result). Unknown fields are errors. */
export const DAEMON_CONFIG_SCHEMA = obj({
  kubeconfig: nonEmpty,
  context: nonEmpty,
  namespace: nonEmpty,
  rules: obj({
    paths: { type: 'array', items: nonEmpty },
    configMaps: obj({
      enabled: { type: 'boolean' },
      namespaces: { type: 'array', minItems: 1, uniqueItems: true, items: nonEmpty },
      labelSelector: str,
    }),
    customResources: obj({ enabled: { type: 'boolean' } }),
    maxRulesPerSource: posInt,
    maxSourceBytes: posInt,
    audit: { type: 'array', uniqueItems: true, items: nonEmpty },
  }),
  dryRun: { enum: ['none', 'client', 'server'] },
  workers: posInt,
  queue: obj({
    qps: posNum,
    burst: posInt,
    baseDelayMs: posInt,
    maxDelayMs: posInt,
    maxRetries: { type: 'integer', minimum: 0 },
  }),
  client: obj({ qps: { type: 'number', minimum: 0 }, burst: posInt, timeoutMs: posInt, streamingLists: { type: 'boolean' }, protobuf: { type: 'boolean' } }),
  caches: obj({ trim: { type: 'boolean' } }),
  leaderElection: obj({
    enabled: { type: 'boolean' },
    leaseName: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 },
    leaseNamespace: nonEmpty,
    leaseDurationSeconds: posNum,
    renewDeadlineSeconds: posNum,
    retryPeriodSeconds: posNum,
    identity: nonEmpty,
  }),
  sharding: obj({
    enabled: { type: 'boolean' },
    ringName: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 50 },
    buckets: { type: 'integer', minimum: 1, maximum: 1024 },
    leaseDurationSeconds: posNum,
    renewDeadlineSeconds: posNum,
    retryPeriodSeconds: posNum,
    maxClockSkewSeconds: { type: 'number', minimum: 0 },
  }),
  metrics: obj({ address }),
  health: obj({ address }),
  traces: obj({ enabled: { type: 'boolean' }, address, maxClients: posInt, allowedOrigins: { type: 'array', items: nonEmpty } }),
  webhooks: obj({ allowedHosts: { type: 'array', items: nonEmpty } }),
  log: obj({ level: { enum: ['debug', 'info', 'warn', 'error'] }, format: { enum: ['auto', 'json', 'text'] } }),
  shutdown: obj({ gracePeriodSeconds: { type: 'number', minimum: 0 } }),
});

/** The default identity: `HOSTNAME_PID-RANDOM` (a Pod's hostname is its name), unique per process. */
export function defaultIdentity(): string {
  return `${hostname()}_${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** The defaults; the environment decides the namespace and whether leader election is on. */
export function defaultConfig(env: NodeJS.ProcessEnv = {}): DaemonConfig {
  return {
    namespace: env.POD_NAMESPACE || undefined,
    rules: { paths: [], configMaps: { enabled: true, labelSelector: 'reflex.dev/rules=true' }, customResources: { enabled: true }, maxRulesPerSource: 1000, maxSourceBytes: 4 << 20, audit: [] },
    dryRun: 'none',
    workers: 32,
    queue: { qps: 10, burst: 100, baseDelayMs: 5, maxDelayMs: 300_000, maxRetries: 0 },
    client: { qps: 50, burst: 100, timeoutMs: 30_000, streamingLists: false, protobuf: true },
    caches: { trim: true },
    leaderElection: {
      enabled: Boolean(env.KUBERNETES_SERVICE_HOST),
      leaseName: 'reflex',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      identity: defaultIdentity(),
    },
    sharding: {
      enabled: false,
      ringName: 'reflex-shard',
      buckets: 64,
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
      maxClockSkewSeconds: 2,
    },
    metrics: { address: ':9090' },
    health: { address: ':8081' },
    traces: { enabled: true, address: '127.0.0.1:9091', maxClients: 10, allowedOrigins: [] },
    webhooks: { allowedHosts: [] },
    log: { level: 'info', format: 'auto' },
    shutdown: { gracePeriodSeconds: 25 },
  };
}
