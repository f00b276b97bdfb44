/**
 * Transport: HTTP to one API server over keep-alive undici pools. The only file of the
 * client that uses undici (through ./undici.ts, which loads only the parts used). Ordinary
 * requests and long watches use separate pools, so watches never hold the connections
 * ordinary requests need.
 */
import { Agent, type Dispatcher, dispatch, proxyAgent, socks5ProxyAgent } from './undici.js';
import type { TLSConfig } from './config.js';
import type { NetworkFailure } from './errors.js';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, e.g. `/api/v1/namespaces/x/configmaps?limit=10`. */
  path: string;
  /** An array value is sent as one header line per element. */
  headers: Record<string, string | string[]>;
  body?: string;
  signal?: AbortSignal;
  /** A long-lived watch: sent through the watch pool, with no body timeout. */
  watch?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as chunks; consume it, or call `destroy`, to free the connection. */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  /** Ends the response, closing its connection if the body was not fully read. */
  destroy(): void;
}

/** Connection counts of one pool (undici's PoolStats for the server's origin). */
export interface PoolStatsSnapshot {
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
  size: number;
}

export interface TransportOptions {
  /** Most connections of the ordinary-request pool. Default 32; watches have their own pool without a limit. */
  connections?: number;
  /** Idle keep-alive time of a connection, ms. Default 30 000. */
  keepAliveTimeoutMs?: number;
  /** Time to wait for response headers, ms. Default 60 000 (the server's own request timeout is 60 s). */
  headersTimeoutMs?: number;
}

/** HTTP to one server; see the file comment. */
export interface Transport {
  request(req: HttpRequest): Promise<HttpResponse>;
  poolStats(): { requests: PoolStatsSnapshot; watches: PoolStatsSnapshot };
  /** Replaces the client certificate (exec plugins may return one): new connections use it. */
  setClientCertificate(cert: string, key: string): void;
  close(): Promise<void>;
}

const EMPTY: PoolStatsSnapshot = { connected: 0, free: 0, pending: 0, queued: 0, running: 0, size: 0 };

/** A Transport over undici: an Agent (or a proxy agent for proxy-url) per pool. */
export class UndiciTransport implements Transport {
  private requests!: Dispatcher;
  private watches!: Dispatcher;
  private readonly origin: string;
  private tls: TLSConfig;

  constructor(
    server: string,
    tls: TLSConfig,
    private readonly proxyUrl: string | undefined,
    private readonly options: TransportOptions = {},
  ) {
    this.origin = new URL(server).origin;
    this.tls = tls;
    this.build();
  }

  private build(): void {
    const connect = {
      ca: this.tls.ca,
      cert: this.tls.cert,
      key: this.tls.key,
      rejectUnauthorized: !this.tls.insecureSkipTLSVerify,
      servername: this.tls.serverName,
    };
    const keepAliveTimeout = this.options.keepAliveTimeoutMs ?? 30_000;
    const headersTimeout = this.options.headersTimeoutMs ?? 60_000;
    const make = (watch: boolean): Dispatcher => {
      const base = {
        keepAliveTimeout,
        headersTimeout,
        bodyTimeout: watch ? 0 : 120_000,
        connections: watch ? null : (this.options.connections ?? 32),
      };
      if (!this.proxyUrl) return new Agent({ ...base, connect });
      if (this.proxyUrl.startsWith('socks5')) return new (socks5ProxyAgent())(this.proxyUrl, { ...base, connect } as never);
      return new (proxyAgent())({ ...base, uri: this.proxyUrl, requestTls: connect });
    };
    this.requests = make(false);
    this.watches = make(true);
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const dispatcher = req.watch ? this.watches : this.requests;
    const res = await dispatch(dispatcher, {
      origin: this.origin,
      path: req.path,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
    });
    return {
      status: res.statusCode,
      headers: res.headers,
      body: res.body,
      text: () => res.body.text(),
      destroy: () => {
        if (res.body.destroyed) return;
        // A body nobody has read has no error listener: destroying it must not raise an uncaught error.
        res.body.on('error', () => undefined);
        res.body.destroy();
      },
    };
  }

  poolStats(): { requests: PoolStatsSnapshot; watches: PoolStatsSnapshot } {
    const of = (d: Dispatcher): PoolStatsSnapshot => {
      const stats = (d as Agent).stats as Record<string, Partial<PoolStatsSnapshot>> | undefined;
      const s = stats?.[this.origin];
      if (!s) return { ...EMPTY };
      return { connected: Number(s.connected ?? 0), free: s.free ?? 0, pending: s.pending ?? 0, queued: s.queued ?? 0, running: s.running ?? 0, size: s.size ?? 0 };
    };
    return { requests: of(this.requests), watches: of(this.watches) };
  }

  setClientCertificate(cert: string, key: string): void {
    if (this.tls.cert === cert && this.tls.key === key) return;
    const old = [this.requests, this.watches];
    this.tls = { ...this.tls, cert, key };
    this.build();
    // In-flight requests (watches included) finish on the old pools.
    for (const d of old) void d.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([this.requests.destroy(), this.watches.destroy()]);
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO', 'ERR_TLS_HANDSHAKE_TIMEOUT',
]);

/** Classifies an error thrown by `request` (undici or Node socket errors) as a network failure, with a short reason. */
export function classifyNetworkError(err: unknown): { failure: NetworkFailure; detail: string } | undefined {
  const seen: unknown[] = [];
  const walk = (e: unknown): { failure: NetworkFailure; detail: string } | undefined => {
    if (!e || typeof e !== 'object' || seen.includes(e)) return undefined;
    seen.push(e);
    const x = e as { code?: string; message?: string; name?: string; cause?: unknown; errors?: unknown[] };
    const code = x.code ?? '';
    const msg = x.message ?? String(e);
    if (code === 'ECONNREFUSED') return { failure: 'connection-refused', detail: 'connection refused' };
    if (TLS_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /certificate|SSL|TLS/i.test(code)) {
      return { failure: 'tls', detail: `${msg}${code && !msg.includes(code) ? ` (${code})` : ''}` };
    }
    for (const inner of [...(x.errors ?? []), x.cause]) {
      const found = walk(inner);
      if (found) return found;
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { failure: 'dns', detail: `host name not found (${code})` };
    if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || x.name === 'TimeoutError') {
      return { failure: 'timeout', detail: msg };
    }
    if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
      return { failure: code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? 'other' : 'reset', detail: `${msg}${code ? ` (${code})` : ''}` };
    }
    if (code.startsWith('UND_ERR') && code !== 'UND_ERR_ABORTED') return { failure: 'other', detail: `${msg} (${code})` };
    return undefined;
  };
  return walk(err);
}
