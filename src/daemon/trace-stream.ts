/**
 * trace-stream: the `/traces` WebSocket endpoint. Before a socket is accepted: the Origin must be
 * allowed (a browser page elsewhere cannot read traces through a user's port-forward), the client
 * cap must not be reached, and — on a listener that is not loopback-only — the bearer token must
 * pass TokenReview and SubjectAccessReview (`get` on the non-resource URL `/traces`). Each client
 * has a bounded send buffer: a client that does not keep up is dropped, never buffered for.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorMessage, type Logger } from '../core/index.js';
import type { TraceHub } from './trace-hub.js';

/** Who a bearer token belongs to and whether they may read traces. */
export type TraceAuthenticator = (token: string, signal: AbortSignal) => Promise<{ allowed: true; user: string } | { allowed: false; status: 401 | 403; reason: string }>;

export interface TraceStreamOptions {
  hub: TraceHub;
  logger: Logger;
  /** Required for sockets on a listener that is not loopback-only; without it such upgrades are refused. */
  authenticate?: TraceAuthenticator;
  /** Origins (`https://host:port`) allowed besides none at all (command-line clients send none). Default none. */
  allowedOrigins?: string[];
  /** Subscribers at once (pending authentications included). Default 10. */
  maxClients?: number;
  /** Bytes one subscriber's socket may hold unsent before it is dropped. Default 256 KiB. */
  maxBufferedBytes?: number;
}

/** Whether a listen host accepts only local connections. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

export class TraceStream {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private clients = 0;
  private closed = false;

  constructor(private readonly o: TraceStreamOptions) {}

  /** Subscribers now (and authentications under way). */
  get size(): number {
    return this.clients;
  }

  /** Handles an upgrade to `/traces` on a listener whose host is `host`. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, local: boolean): void {
    const refuse = (status: number, text: string, headers: Record<string, string> = {}) => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text) + 1}\r\n${extra}\r\n${text}\n`);
    };
    if (this.closed) return refuse(503, 'shutting down');
    const origin = req.headers.origin;
    if (origin !== undefined && !(this.o.allowedOrigins ?? []).includes(origin)) return refuse(403, `origin ${origin} is not allowed`);
    if (this.clients >= (this.o.maxClients ?? 10)) return refuse(503, `too many trace subscribers (${this.o.maxClients ?? 10})`, { 'retry-after': '10' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rules = url.searchParams.getAll('rule');
    this.clients++;
    let counted = true;
    const release = () => {
      if (counted) this.clients--;
      counted = false;
    };
    socket.once('close', release);
    void this.authorize(req, local).then(
      (verdict) => {
        if (verdict !== true) {
          release();
          return refuse(verdict.status, verdict.reason, verdict.status === 401 ? { 'www-authenticate': 'Bearer' } : {});
        }
        if (socket.destroyed) return release();
        this.wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, rules, release));
      },
      (err: unknown) => {
        release();
        refuse(503, `cannot check the token: ${errorMessage(err)}`);
      },
    );
  }

  /** `true`, or why not. Loopback listeners need no token: reaching them takes a shell or a port-forward. */
  private async authorize(req: IncomingMessage, local: boolean): Promise<true | { status: 401 | 403 | 503; reason: string }> {
    if (local) return true;
    if (!this.o.authenticate) return { status: 403, reason: 'traces on a non-loopback address need authentication, which is not set up' };
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return { status: 401, reason: 'a bearer token is required (reflex tail sends the one of your kubeconfig)' };
    const v = await this.o.authenticate(m[1], AbortSignal.timeout(10_000));
    if (!v.allowed) return { status: v.status, reason: v.reason };
    this.o.logger.info('trace subscriber authenticated', { user: v.user });
    return true;
  }

  /** Sends each trace of the wanted rules; drops the client when its unsent bytes pass the bound. */
  private serve(ws: WebSocket, rules: string[], release: () => void): void {
    const limit = this.o.maxBufferedBytes ?? 256 * 1024;
    const unsubscribe = this.o.hub.subscribe((trace, json) => {
      if (rules.length > 0 && !rules.includes(trace.rule)) return;
      if (ws.bufferedAmount > limit) {
        unsubscribe();
        this.o.logger.warn('dropped a trace subscriber that does not keep up', { bufferedBytes: ws.bufferedAmount, limit });
        ws.terminate();
        return;
      }
      ws.send(json());
    });
    ws.on('message', () => {}); // subscribers only listen; what they send is ignored
    ws.on('error', () => ws.terminate());
    ws.once('close', () => {
      unsubscribe();
      release();
    });
  }

  /** Closes every subscriber with 1001; later upgrades are refused. */
  close(): void {
    this.closed = true;
    for (const ws of this.wss.clients) ws.close(1001, 'server shutting down');
  }

  /** Ends what `close` left open. */
  terminate(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }
}
