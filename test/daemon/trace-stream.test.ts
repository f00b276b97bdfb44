import { connect, type Socket } from 'node:net';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { DaemonMetrics, OpsServer, TraceHub, type DecisionTrace } from '../../src/daemon/index.js';
import type { TraceAuthenticator } from '../../src/daemon/trace-stream.js';

const trace = (rule: string, planned: unknown[] = []): DecisionTrace => ({
  time: '2026-01-01T00:00:00.000Z',
  rule,
  object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm' },
  event: 'update',
  condition: true,
  planned,
  executed: [],
  durationMs: 1,
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Opens `url` as a WebSocket; resolves to 'open' or the HTTP status of the refusal. */
function attempt(url: string, headers: Record<string, string> = {}): Promise<{ status: number | 'open'; ws: WebSocket }> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve) => {
    ws.once('open', () => resolve({ status: 'open', ws }));
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, ws }));
    ws.once('error', () => resolve({ status: 0, ws }));
  });
}

/** A WebSocket handshake on a raw socket that then never reads what it is sent. */
function silentSubscriber(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`GET /traces HTTP/1.1\r\nhost: 127.0.0.1\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`);
    });
    s.once('data', (d) => {
      if (!String(d).startsWith('HTTP/1.1 101')) return reject(new Error(String(d)));
      s.pause();
      resolve(s);
    });
    s.once('error', reject);
  });
}

describe('the /traces endpoint', () => {
  let server: OpsServer | undefined;
  const hub = new TraceHub();
  const metrics = new DaemonMetrics({ processMetrics: false });
  const start = async (options: Partial<ConstructorParameters<typeof OpsServer>[0]>) => {
    server = new OpsServer({ metricsAddress: '127.0.0.1:0', metrics, readiness: () => ({ ready: true }), traces: hub, ...options });
    await server.start();
    return server;
  };
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves traces on a listener of its own, not on the metrics one', async () => {
    const s = await start({ tracesAddress: '127.0.0.1:0' });
    expect(s.port('traces')).to.not.equal(s.port('metrics'));
    expect((await attempt(`ws://127.0.0.1:${s.port('metrics')}/traces`)).status).to.equal(404);
    const ok = await attempt(`ws://127.0.0.1:${s.port('traces')}/traces`);
    expect(ok.status).to.equal('open');
    ok.ws.close();
  });

  it('on a non-loopback listener, refuses an upgrade without a token or with one the review refuses, and accepts an allowed one', async () => {
    const seen: string[] = [];
    const authenticate: TraceAuthenticator = async (token) => {
      seen.push(token);
      if (token === 'good') return { allowed: true, user: 'alice' };
      return token === 'forbidden' ? { allowed: false, status: 403, reason: 'bob may not get /traces' } : { allowed: false, status: 401, reason: 'the token is not valid' };
    };
    const s = await start({ tracesAddress: '0.0.0.0:0', authenticateTraces: authenticate });
    const url = `ws://127.0.0.1:${s.port('traces')}/traces`;
    expect((await attempt(url)).status).to.equal(401);
    expect((await attempt(url, { authorization: 'Bearer bad' })).status).to.equal(401);
    expect((await attempt(url, { authorization: 'Bearer forbidden' })).status).to.equal(403);
    const ok = await attempt(url, { authorization: 'Bearer good' });
    expect(ok.status).to.equal('open');
    expect(seen).to.deep.equal(['bad', 'forbidden', 'good']);
    ok.ws.close();
  });

  it('refuses a non-loopback listener outright when no authentication is set up', async () => {
    const s = await start({ tracesAddress: '0.0.0.0:0' });
    expect((await attempt(`ws://127.0.0.1:${s.port('traces')}/traces`, { authorization: 'Bearer x' })).status).to.equal(403);
  });

  it('refuses a browser origin it was not told to allow', async () => {
    const s = await start({ tracesAddress: '127.0.0.1:0', tracesAllowedOrigins: ['https://ok.example'] });
    const url = `ws://127.0.0.1:${s.port('traces')}/traces`;
    expect((await attempt(url, { origin: 'https://evil.example' })).status).to.equal(403);
    const ok = await attempt(url, { origin: 'https://ok.example' });
    expect(ok.status).to.equal('open');
    ok.ws.close();
  });

  it('refuses subscribers over the cap with 503, and takes one again when one leaves', async () => {
    const s = await start({ tracesAddress: '127.0.0.1:0', maxTraceClients: 2 });
    const url = `ws://127.0.0.1:${s.port('traces')}/traces`;
    const a = await attempt(url);
    const b = await attempt(url);
    expect([a.status, b.status, (await attempt(url)).status]).to.deep.equal(['open', 'open', 503]);
    a.ws.close();
    await until(() => hub.subscribers === 1);
    const c = await attempt(url);
    expect(c.status).to.equal('open');
    b.ws.close();
    c.ws.close();
    await until(() => hub.subscribers === 0);
  });

  it('drops a subscriber that never reads once its unsent traces pass the bound, and keeps serving the others', async () => {
    const s = await start({ tracesAddress: '127.0.0.1:0', maxBufferedBytes: 64 * 1024 });
    const silent = await silentSubscriber(s.port('traces'));
    const reader = await attempt(`ws://127.0.0.1:${s.port('traces')}/traces`);
    let received = 0;
    reader.ws.on('message', () => received++);
    await until(() => hub.subscribers === 2);
    const big = [{ note: 'x'.repeat(16 * 1024) }];
    for (let i = 0; i < 200 && hub.subscribers === 2; i++) {
      hub.publish(trace('r', big));
      await new Promise((r) => setImmediate(r));
    }
    await until(() => hub.subscribers === 1);
    await until(() => received > 0);
    silent.destroy();
    reader.ws.close();
  });

  it('drops a subscriber that never reads after about the bound of bytes sent, not once the kernel buffers are full; one that reads stays', async () => {
    const s = await start({ tracesAddress: '127.0.0.1:0', maxBufferedBytes: 64 * 1024 });
    const silent = await silentSubscriber(s.port('traces'));
    const reader = await attempt(`ws://127.0.0.1:${s.port('traces')}/traces`);
    let received = 0;
    reader.ws.on('message', (d: Buffer, binary: boolean) => {
      expect(binary).to.equal(false); // text frames, as JSON is
      expect(JSON.parse(d.toString()).rule).to.equal('r');
      received++;
    });
    await until(() => hub.subscribers === 2);
    const small = [{ note: 'x'.repeat(1024) }];
    let published = 0;
    for (; hub.subscribers === 2 && published < 5000; published++) {
      hub.publish(trace('r', small));
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.subscribers).to.equal(1);
    // 64 KiB of ~1.2 KiB traces, plus the ping's round: a few dozen, where the socket buffers alone would take thousands.
    expect(published).to.be.below(200);
    for (let i = 0; i < 2000; i++) {
      hub.publish(trace('r', small));
      await new Promise((r) => setImmediate(r));
    }
    await until(() => received === published + 2000);
    expect(hub.subscribers).to.equal(1);
    silent.destroy();
    reader.ws.close();
  });
});
