/**
 * trace-stream: the `/traces` WebSocket endpoint. Before a socket is accepted: the Origin must be
 * allowed (a browser page elsewhere cannot read traces through a user's port-forward), the client
 * cap must not be reached, and — on a listener that is not loopback-only — the bearer token must
 * pass TokenReview and SubjectAccessReview (`get` on the non-resource URL `/traces`). Each client
 * has a bounded send buffer: a client that does not keep up is dropped, never buffered for.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket, WebSocketServer } from 'ws';
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
  /** Bytes one subscriber may have sent and not acknowledged, and as many waiting; more, and it is dropped. Default 256 KiB. */
  maxBufferedBytes?: number;
}

/** Whether a listen host accepts only local connections. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1';
}

/** Drops of trace subscribers after the first are counted over this long and said in one line. */
const DROP_WINDOW_MS = 10_000;

export class TraceStream {
  /** The WebSocket server, loaded with the first subscriber (ws is not needed to start the daemon). */
  private wss: WebSocketServer | undefined;
  private loading: Promise<WebSocketServer> | undefined;
  private clients = 0;
  private readonly bytes = new WeakMap<object, Buffer>();
  private dropWindow: { more: number } | undefined;
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
        return this.server().then((wss) => {
          if (socket.destroyed) return release();
          if (this.closed) return (release(), refuse(503, 'shutting down'));
          wss.handleUpgrade(req, socket, head, (ws) => this.serve(ws, rules, release));
        });
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

  /**
   * Sends each trace of the wanted rules, in order, with at most `limit` bytes sent and not yet
   * acknowledged; more wait in the client's own queue of at most `limit` bytes, and a client whose
   * queue would pass it (or whose socket holds more than `limit` unsent) is dropped. The
   * acknowledgement is a pong (WebSocket clients answer pings as they read): without it, a client
   * that never reads would be sent as much as the kernel's socket buffers take (megabytes each),
   * the event loop paying for every copy.
   */
  private serve(ws: WebSocket, rules: string[], release: () => void): void {
    const limit = this.o.maxBufferedBytes ?? 256 * 1024;
    let sent = 0;
    let acked = 0;
    let pinged: number | undefined; // `sent` when the outstanding ping went out
    const queue: Buffer[] = [];
    let queued = 0;
    const ping = () => {
      pinged = sent;
      ws.ping();
    };
    const send = (data: Buffer) => {
      ws.send(data, { binary: false });
      sent += data.length;
      if (pinged === undefined && sent - acked >= limit / 4) ping();
    };
    // One trace larger than the bound goes alone.
    const room = (bytes: number) => sent === acked || sent - acked + bytes <= limit;
    ws.on('pong', () => {
      if (pinged !== undefined) acked = pinged;
      pinged = undefined;
      while (queue.length > 0 && room(queue[0].length)) {
        const data = queue.shift()!;
        queued -= data.length;
        send(data);
      }
      if (pinged === undefined && sent > acked) ping();
    });
    const unsubscribe = this.o.hub.subscribe((trace, json) => {
      if (rules.length > 0 && !rules.includes(trace.rule)) return;
      const data = this.encoded(trace, json);
      if (queue.length === 0 && room(data.length) && ws.bufferedAmount <= limit) return send(data);
      if (queued + data.length > limit || ws.bufferedAmount > limit) {
        unsubscribe();
        this.droppedOne({ bufferedBytes: ws.bufferedAmount, unacknowledgedBytes: sent - acked + queued, limit });
        ws.terminate();
        return;
      }
      queue.push(data);
      queued += data.length;
      if (pinged === undefined) ping();
    });
    ws.on('message', () => {}); // subscribers only listen; what they send is ignored
    ws.on('error', () => ws.terminate());
    ws.once('close', () => {
      unsubscribe();
      release();
    });
  }

  /** Says a drop: the first of a window at once, the rest of the window as one count at its end (500 drops are not 500 lines). */
  private droppedOne(fields: Record<string, number>): void {
    if (this.dropWindow) {
      this.dropWindow.more++;
      return;
    }
    this.o.logger.warn('dropped a trace subscriber that does not keep up', fields);
    const window = { more: 0 };
    this.dropWindow = window;
    setTimeout(() => {
      this.dropWindow = undefined;
      if (window.more > 0) this.o.logger.warn(`dropped ${window.more} more trace subscribers that do not keep up within ${DROP_WINDOW_MS / 1000} s`, { dropped: window.more });
    }, DROP_WINDOW_MS).unref();
  }

  /** A trace's JSON as bytes, encoded once however many subscribers get it. */
  private encoded(trace: object, json: () => string): Buffer {
    let data = this.bytes.get(trace);
    if (!data) this.bytes.set(trace, (data = Buffer.from(json())));
    return data;
  }

  private server(): Promise<WebSocketServer> {
    this.loading ??= import('ws').then(({ WebSocketServer: Server }) => (this.wss = new Server({ noServer: true, maxPayload: 4096 })));
    return this.loading;
  }

  /** Closes every subscriber with 1001; later upgrades are refused. */
  close(): void {
    this.closed = true;
    for (const ws of this.wss?.clients ?? []) ws.close(1001, 'server shutting down');
  }

  /** Ends what `close` left open. */
  terminate(): void {
    for (const ws of this.wss?.clients ?? []) ws.terminate();
    this.wss?.close();
  }
}
