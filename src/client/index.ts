/** client: our dynamic Kubernetes client over undici (kubeconfig, auth, discovery, REST verbs, watch, typed errors). */
export type * from './types.js';
export { createClient, type ClientOptions, DEFAULT_QPS, DEFAULT_BURST, DEFAULT_TIMEOUT_MS } from './create-client.js';
export { DynamicClient, PARTIAL_METADATA_ACCEPT, PARTIAL_METADATA_LIST_ACCEPT, type ListEncodings } from './client.js';
export { createAuthenticator, type Authenticator } from './auth.js';
export { loadConfig, loadKubeconfig, inClusterConfig, SERVICE_ACCOUNT_DIR, type LoadConfigOptions } from './load-config.js';
export { kubeconfigFiles, mergeKubeconfigs, resolveContext, type MergedKubeconfig, type KubeconfigLocation } from './kubeconfig.js';
export type { ConnectionConfig, AuthConfig, ExecConfig, TLSConfig, Impersonation } from './config.js';
export { Discovery, AGGREGATED_DISCOVERY_ACCEPT, type DiscoveryOptions } from './discovery.js';
export type { PoolStatsSnapshot, TransportOptions } from './transport.js';
export { requestUrl } from './undici.js';
export type { RetryPolicy } from './request.js';
export { TokenBucket, requestLimiter, unlimited, type RequestLimiter } from './rate-limiter.js';
export { parseWarnings } from './warnings.js';
export { ListDecodeError } from './list-decoder.js';
export { loadProtoTypes, ProtoListDecoder, ProtoTypes, decodeProtoObject, PROTO_OR_JSON_ACCEPT, PROTO_CONTENT_TYPE } from './proto/index.js';
export {
  KubeApiError,
  KubeNetworkError,
  KubeconfigError,
  ConfigError,
  ExecPluginError,
  WatchDecodeError,
  UnknownKindError,
  type Status,
  type StatusDetails,
  type NetworkFailure,
  isNotFound,
  isConflict,
  isAlreadyExists,
  isGone,
  isExpired,
  isForbidden,
  isUnauthorized,
  isInvalid,
  isTooManyRequests,
  isServerTimeout,
  isKubeApiError,
  isBadRequest,
  isUnsupportedMediaType,
  isServerError,
  isNetworkError,
  isUnknownKind,
  oneLine,
  MAX_MESSAGE_CHARS,
} from './errors.js';
