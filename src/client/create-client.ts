/** createClient: loads the configuration and assembles transport, auth, limiter, discovery and the DynamicClient. */
import { type Clock, type Logger, nullLogger, realClock } from '../core/index.js';
import { createAuthenticator } from './auth.js';
import { DynamicClient } from './client.js';
import type { ConnectionConfig } from './config.js';
import { Discovery, type DiscoveryOptions } from './discovery.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';
import { requestLimiter } from './rate-limiter.js';
import { DEFAULT_RETRY, Requester, type RetryPolicy } from './request.js';
import { type TransportOptions, UndiciTransport } from './transport.js';
import { WarningHandler } from './warnings.js';

/** Default client-side rate: controller-runtime's 20 requests/s with bursts of 30 (client-go's 5/10 is too slow for a daemon's start-up). */
export const DEFAULT_QPS = 20;
export const DEFAULT_BURST = 30;
/** Default time limit of one ordinary request (watches have none), ms. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface ClientOptions extends LoadConfigOptions {
  /** Use this configuration instead of loading one. */
  config?: ConnectionConfig;
  /** Requests per second, client side. Default 20; 0 turns the limiter off. */
  qps?: number;
  /** Requests allowed at once above the rate. Default 30 (or qps when larger). */
  burst?: number;
  /** Time limit of one ordinary request, ms (watches have none). Default 30 000. */
  timeoutMs?: number;
  /** Where warnings and retries are logged. Default: nowhere. */
  logger?: Logger;
  /** User-Agent header. Default `reflex/0.1.0 (node VERSION)`. */
  userAgent?: string;
  /** Time source of the limiter, retries, and credential expiry. Default the real clock. */
  clock?: Clock;
  /** Retries of 429 and 5xx+Retry-After for idempotent verbs. Default 5 retries within 30 s of waiting. */
  retry?: Partial<RetryPolicy>;
  discovery?: DiscoveryOptions;
  transport?: TransportOptions;
  /**
   * Ask for lists of built-in kinds in protobuf, decoded into the same objects as JSON (the API
   * server encodes protobuf faster). Default true; false asks for JSON only.
   */
  protobuf?: boolean;
}

/**
 * Creates a client. With no explicit kubeconfig, KUBECONFIG or ~/.kube/config it falls
 * back to the in-cluster configuration; with none of those it rejects with a
 * KubeconfigError ("no configuration found"). Nothing is sent to the server yet.
 */
export async function createClient(options: ClientOptions = {}): Promise<DynamicClient> {
  const config = options.config ?? loadConfig(options);
  const logger = (options.logger ?? nullLogger).child({ component: 'kube-client' });
  const clock = options.clock ?? realClock;
  const transport = new UndiciTransport(config.server, config.tls, config.proxyUrl, options.transport);
  const auth = createAuthenticator(config, { clock, onClientCertificate: (cert, key) => transport.setClientCertificate(cert, key) });
  const qps = options.qps ?? DEFAULT_QPS;
  const warnings = new WarningHandler(logger);
  const requester = new Requester({
    server: config.server,
    caSource: config.tls.caSource,
    transport,
    auth,
    limiter: requestLimiter(qps, options.burst ?? Math.max(DEFAULT_BURST, qps), clock),
    warnings,
    logger,
    clock,
    userAgent: options.userAgent ?? `reflex/0.1.0 (node ${process.version})`,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: { ...DEFAULT_RETRY, ...options.retry },
  });
  const discovery = new Discovery(requester, clock, logger, options.discovery);
  return new DynamicClient({ config, requester, discovery, transport, warnings, clock, logger, protobuf: options.protobuf ?? true, listEncodings: { protobuf: 0, json: 0 } });
}
