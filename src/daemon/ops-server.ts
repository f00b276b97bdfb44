/**
 * ops-server: the daemon's HTTP endpoints. GET /metrics (Prometheus text) on the metrics address;
 * GET /healthz and /readyz on the health address; the /traces WebSocket on the traces address
 * (trace-stream.ts: loopback by default, authenticated otherwise). Roles whose addresses are the
 * same share one listener.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errorMessage, type Logger, nullLogger, ReflexError } from '../core/index.js';
import type { TraceHub } from './trace-hub.js';
import { isLoopbackHost, TraceStream, type TraceAuthenticator } from './trace-stream.js';

export { TraceHub } from './trace-hub.js';

/** What /readyz reports. */
export interface Readiness {
  /** Caches synced and rules loaded. */
  ready: boolean;
  /** Why not (e.g. `caches not synced: v1/pods`), or a summary when ready; written in the body. */
  reason?: string;
  /** Leader state, for the body only: a follower is ready too. Undefined without leader election. */
  leader?: boolean;
}

/** What /healthz reports; the default says healthy whenever the event loop answers. */
export interface Liveness {
  ok: boolean;
  reason?: string;
}

export interface OpsServerOptions {
  /** HOST:PORT of /metrics; `:9090` listens on all interfaces, port 0 picks a free port. */
  metricsAddress: string;
  /** HOST:PORT of /healthz and /readyz. Default: the metrics address. */
  healthAddress?: string;
  /**
   * HOST:PORT of /traces. Default: the metrics address. On a host other than a loopback one,
   * every subscriber must authenticate (`authenticateTraces`).
   */
  tracesAddress?: string;
  /** Checks the bearer token of a trace subscriber on a non-loopback listener (TokenReview + SubjectAccessReview). */
  authenticateTraces?: TraceAuthenticator;
  /** Origins allowed to open /traces (command-line clients send none). Default none. */
  tracesAllowedOrigins?: string[];
  /** Trace subscribers at once. Default 10. */
  maxTraceClients?: number;
  /** The exposition: DaemonMetrics fits. */
  metrics: { metrics(): Promise<string>; contentType: string };
  readiness: () => Readiness;
  liveness?: () => Liveness;
  /** Serves /traces from this hub; undefined turns the endpoint off (404). */
  traces?: TraceHub;
  /** Default true; false turns /traces off (404) even with a hub. */
  tracesEnabled?: boolean;
  logger?: Logger;
  /** Bytes a trace subscriber may have sent and not acknowledged, and as many queued; more, and it is dropped. Default 256 KiB. */
  maxBufferedBytes?: number;
}

/** A listen address could not be bound. */
export class OpsServerError extends ReflexError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'ERR_OPS_SERVER', cause });
  }
}

type Role = 'metrics' | 'health' | 'traces';

/** Splits `HOST:PORT`; an empty host means all interfaces. */
export function parseListenAddress(address: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):(\d{1,5})$/.exec(address);
  if (!m) throw new OpsServerError(`listen address "${address}" must be HOST:PORT, e.g. ":9090"`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port: Number(m[3]) };
}

/** OpsServer: start once, close once. */
export class OpsServer {
  private readonly listeners = new Map<string, { address: string; server: Server; roles: Set<Role>; sockets: Set<Socket> }>();
  private readonly stream: TraceStream | undefined;
  private readonly logger: Logger;
  private closed = false;
  private readonly traces: TraceHub | undefined;

  constructor(private readonly options: OpsServerOptions) {
    this.logger = (options.logger ?? nullLogger).child({ component: 'ops-server' });
    this.traces = options.tracesEnabled === false ? undefined : options.traces;
    this.stream = this.traces
      ? new TraceStream({
          hub: this.traces,
          logger: this.logger,
          authenticate: options.authenticateTraces,
          allowedOrigins: options.tracesAllowedOrigins,
          maxClients: options.maxTraceClients,
          maxBufferedBytes: options.maxBufferedBytes,
        })
      : undefined;
    const roles: [string, Role, boolean][] = [
      [options.metricsAddress, 'metrics', false],
      [options.healthAddress ?? options.metricsAddress, 'health', options.healthAddress !== undefined],
    ];
    if (this.traces) roles.push([options.tracesAddress ?? options.metricsAddress, 'traces', options.tracesAddress !== undefined]);
    for (const [address, role, explicit] of roles) {
      // Port 0 asks for a free port, so an explicit `HOST:0` for a role gets a listener of its own.
      const split = explicit && parseListenAddress(address).port === 0;
      const key = split ? `${address}#${role}` : address;
      const entry = this.listeners.get(key);
      if (entry) entry.roles.add(role);
      else this.listeners.set(key, this.listener(address, new Set([role])));
    }
  }

  /** Binds every address; resolves when all listen. Aborting `signal` closes the server. */
  async start(signal?: AbortSignal): Promise<void> {
    for (const { address, server, roles } of this.listeners.values()) {
      const { host, port } = parseListenAddress(address);
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error) => reject(new OpsServerError(`cannot listen on ${address}: ${errorMessage(err)}`, err));
        server.once('error', onError);
        server.listen({ host, port }, () => {
          server.off('error', onError);
          resolve();
        });
      }).catch(async (err) => {
        await this.close();
        throw err;
      });
      this.logger.info('listening', { address, port: (server.address() as AddressInfo).port, serves: this.pathsOf(roles) });
    }
    signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** The bound port of the listener serving `role` (useful with port 0). */
  port(role: Role = 'metrics'): number {
    for (const { server, roles } of this.listeners.values()) {
      if (roles.has(role)) return (server.address() as AddressInfo | null)?.port ?? 0;
    }
    return 0;
  }

  /** Closes trace sockets (1001 going away), stops listening and ends open connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stream?.close();
    await Promise.all(
      [...this.listeners.values()].map(
        ({ server, sockets }) =>
          new Promise<void>((resolve) => {
            if (!server.listening) return resolve();
            server.close(() => resolve());
            server.closeIdleConnections();
            setTimeout(() => {
              for (const s of sockets) s.destroy();
            }, 1000).unref();
          }),
      ),
    );
    this.stream?.terminate();
  }

  private pathsOf(roles: Set<Role>): string[] {
    return [...(roles.has('metrics') ? ['/metrics'] : []), ...(roles.has('traces') ? ['/traces'] : []), ...(roles.has('health') ? ['/healthz', '/readyz'] : [])];
  }

  private listener(address: string, roles: Set<Role>) {
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => void this.handle(roles, req, res));
    server.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    const local = isLoopbackHost(parseListenAddress(address).host);
    server.on('upgrade', (req, socket, head) => this.upgrade(roles, local, req, socket as Socket, head));
    return { address, server, roles, sockets };
  }

  private async handle(roles: Set<Role>, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const route = ROUTES[path];
    if (!route || !roles.has(route) || (path === '/traces' && !this.traces)) return text(res, 404, `not found: ${path}\n`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET\n', { allow: 'GET, HEAD' });
    try {
      switch (path) {
        case '/metrics': {
          const body = await this.options.metrics.metrics();
          return text(res, 200, body, { 'content-type': this.options.metrics.contentType });
        }
        case '/healthz': {
          const live = this.options.liveness?.() ?? { ok: true };
          return text(res, live.ok ? 200 : 503, live.ok ? 'ok\n' : `unhealthy: ${live.reason ?? 'unknown'}\n`);
        }
        case '/readyz':
          return this.readyz(res);
        default:
          return text(res, 426, 'use a WebSocket client, e.g. reflex tail\n', { upgrade: 'websocket' });
      }
    } catch (err) {
      this.logger.error('request failed', { path, error: err });
      return text(res, 500, `internal error: ${errorMessage(err)}\n`);
    }
  }

  private readyz(res: ServerResponse): void {
    const r = this.options.readiness();
    const lines = [r.ready ? `ready${r.reason ? `: ${r.reason}` : ''}` : `not ready: ${r.reason ?? 'unknown'}`];
    if (r.leader !== undefined) lines.push(`leader: ${r.leader}`);
    text(res, r.ready ? 200 : 503, `${lines.join('\n')}\n`);
  }

  private upgrade(roles: Set<Role>, local: boolean, req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/traces' || !roles.has('traces') || !this.stream || this.closed) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.stream.upgrade(req, socket, head, local);
  }
}

const ROUTES: Record<string, Role> = { '/metrics': 'metrics', '/traces': 'traces', '/healthz': 'health', '/readyz': 'health' };

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
