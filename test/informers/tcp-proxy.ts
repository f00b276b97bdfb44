/**
 * LoopbackProxy: a TCP proxy on 127.0.0.1 for fault tests. It forwards bytes both
 * ways until told to stall (stop forwarding without closing), cut (close every
 * connection) or refuse (close new connections at once).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

interface Pair {
  client: Socket;
  upstream: Socket;
  stalled: boolean;
}

export class LoopbackProxy {
  private readonly pairs = new Set<Pair>();
  private refusing = false;
  /** Connections accepted so far. */
  accepted = 0;

  private readonly server: Server;
  /** The local port (set once listening). */
  port = 0;

  private constructor(host: string, port: number) {
    this.server = createServer((client) => this.accept(client, host, port));
  }

  /** Starts a proxy to `target` (an https:// or http:// URL on this machine). */
  static async start(target: string): Promise<LoopbackProxy> {
    const { hostname, port } = new URL(target);
    const proxy = new LoopbackProxy(hostname.replace(/^\[|\]$/g, ''), Number(port));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    const address = proxy.server.address();
    if (!address || typeof address === 'string') throw new Error('proxy has no TCP address');
    proxy.port = address.port;
    return proxy;
  }

  /** The URL to reach the target through the proxy. */
  url(protocol = 'https:'): string {
    return `${protocol}//127.0.0.1:${this.port}`;
  }

  /** Open connections. */
  get open(): number {
    return this.pairs.size;
  }

  /** Stops forwarding bytes on every open connection, without closing any; new connections still work. */
  stallOpen(): void {
    for (const p of this.pairs) p.stalled = true;
  }

  /** Closes every open connection and refuses new ones until `heal`. */
  partition(): void {
    this.refusing = true;
    for (const p of this.pairs) this.drop(p);
  }

  /** Accepts and forwards new connections again. */
  heal(): void {
    this.refusing = false;
  }

  async close(): Promise<void> {
    for (const p of this.pairs) this.drop(p);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    this.accepted++;
    if (this.refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    const pair: Pair = { client, upstream, stalled: false };
    this.pairs.add(pair);
    client.on('data', (d) => {
      if (!pair.stalled) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!pair.stalled) client.write(d);
    });
    const end = () => this.drop(pair);
    for (const s of [client, upstream]) {
      s.on('error', end);
      s.on('close', end);
    }
  }

  private drop(p: Pair): void {
    this.pairs.delete(p);
    p.client.destroy();
    p.upstream.destroy();
  }
}
