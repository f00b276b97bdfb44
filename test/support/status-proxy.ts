/**
 * StatusProxy: a plain-HTTP proxy on 127.0.0.1 in front of the control plane's HTTPS API, for
 * fault tests that need the API server to answer with an error rather than vanish. It forwards
 * requests (watches stream through) until told to answer 503 ServiceUnavailable, as a Status with
 * a Retry-After header: to writes only, or to everything (cutting the streams already open).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Which requests get a 503: none, writes (anything but GET), or all. */
export type FailMode = 'none' | 'writes' | 'all';

export class StatusProxy {
  private mode: FailMode = 'none';
  private readonly open = new Set<ServerResponse>();
  /** Requests answered 503, per method. */
  readonly failed: Record<string, number> = {};
  port = 0;

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    private readonly ca: Buffer,
  ) {}

  /** Starts a proxy to the control plane whose state directory is `dir` and server is `server`. */
  static async start(server: string, dir: string): Promise<StatusProxy> {
    const holder: { proxy?: StatusProxy } = {};
    const http = createServer((req, res) => holder.proxy?.handle(req, res));
    const proxy = (holder.proxy = new StatusProxy(http, new URL(server), readFileSync(join(dir, 'ca.crt'))));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    proxy.port = (http.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Sets which requests are answered 503; with `all`, open streams (watches) are cut too. */
  fail(mode: FailMode): void {
    this.mode = mode;
    if (mode === 'all') for (const res of this.open) res.destroy();
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const method = req.method ?? 'GET';
    if (this.mode === 'all' || (this.mode === 'writes' && method !== 'GET')) {
      this.failed[method] = (this.failed[method] ?? 0) + 1;
      req.resume();
      const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 503, reason: 'ServiceUnavailable', message: 'the API server is unavailable (fault test)' });
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(body);
      return;
    }
    const options: RequestOptions = {
      host: this.upstream.hostname,
      port: this.upstream.port,
      path: req.url,
      method,
      headers: { ...req.headers, host: this.upstream.host },
      ca: this.ca,
    };
    this.open.add(res);
    res.on('close', () => this.open.delete(res));
    const up = httpsRequest(options, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      res.on('close', () => answer.destroy());
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }
}
