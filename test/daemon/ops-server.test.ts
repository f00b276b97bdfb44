import { expect } from 'chai';
import { WebSocket } from 'ws';
import { DaemonMetrics, OpsServer, OpsServerError, parseListenAddress, TraceHub, type DecisionTrace, type Readiness } from '../../src/daemon/index.js';

function trace(rule: string, extra: Partial<DecisionTrace> = {}): DecisionTrace {
  return {
    time: '2026-01-01T00:00:00.000Z',
    rule,
    object: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'cm' },
    event: 'update',
    condition: true,
    planned: [{ type: 'patch' }],
    executed: [{ action: 'patch', outcome: 'done', durationMs: 3 }],
    durationMs: 4,
    ...extra,
  };
}

/** Opens a trace socket and collects what arrives. */
async function subscribe(url: string): Promise<{ ws: WebSocket; received: DecisionTrace[]; closed: Promise<number> }> {
  const ws = new WebSocket(url);
  const received: DecisionTrace[] = [];
  ws.on('message', (data) => received.push(JSON.parse(String(data))));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, received, closed };
}

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('OpsServer', () => {
  let server: OpsServer | undefined;
  let readiness: Readiness;
  const metrics = new DaemonMetrics({ processMetrics: false });
  const hub = new TraceHub();

  function start(options: Partial<ConstructorParameters<typeof OpsServer>[0]> = {}) {
    server = new OpsServer({ metricsAddress: '127.0.0.1:0', metrics, readiness: () => readiness, traces: hub, ...options });
    return server.start();
  }
  const base = (role: 'metrics' | 'health' = 'metrics') => `http://127.0.0.1:${server?.port(role)}`;

  beforeEach(() => {
    readiness = { ready: false, reason: 'caches not synced: v1/pods' };
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('serves the Prometheus exposition at /metrics', async () => {
    await start();
    metrics.setRulesLoaded(3);
    const res = await fetch(`${base()}/metrics`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
    expect(await res.text()).to.match(/^reflex_rules_loaded 3$/m);
  });

  it('answers /healthz with 200 while the process runs, and 503 with the reason when liveness says so', async () => {
    let ok = true;
    await start({ liveness: () => (ok ? { ok } : { ok, reason: 'workers stuck for 60s' }) });
    expect((await fetch(`${base()}/healthz`)).status).to.equal(200);
    ok = false;
    const res = await fetch(`${base()}/healthz`);
    expect([res.status, await res.text()]).to.deep.equal([503, 'unhealthy: workers stuck for 60s\n']);
  });

  it('answers /readyz with 503 and the reason until ready, then 200 — a follower included', async () => {
    await start();
    let res = await fetch(`${base()}/readyz`);
    expect([res.status, await res.text()]).to.deep.equal([503, 'not ready: caches not synced: v1/pods\n']);
    readiness = { ready: true, reason: 'rules loaded: 2', leader: false };
    res = await fetch(`${base()}/readyz`);
    expect([res.status, await res.text()]).to.deep.equal([200, 'ready: rules loaded: 2\nleader: false\n']);
  });

  it('puts health and metrics on separate listeners when their addresses differ', async () => {
    await start({ healthAddress: '127.0.0.1:0' });
    expect(server?.port('health')).to.not.equal(server?.port('metrics'));
    expect((await fetch(`${base('health')}/healthz`)).status).to.equal(200);
    expect((await fetch(`${base('health')}/metrics`)).status).to.equal(404);
    expect((await fetch(`${base('metrics')}/healthz`)).status).to.equal(404);
    expect((await fetch(`${base('metrics')}/metrics`)).status).to.equal(200);
  });

  it('refuses other methods and unknown paths', async () => {
    await start();
    const post = await fetch(`${base()}/metrics`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).to.deep.equal([405, 'GET, HEAD']);
    expect((await fetch(`${base()}/nope`)).status).to.equal(404);
    expect((await fetch(`${base()}/traces`)).status).to.equal(426);
  });

  it('streams published traces to WebSocket subscribers, filtered by rule when asked', async () => {
    await start();
    const all = await subscribe(`ws://127.0.0.1:${server?.port()}/traces`);
    const one = await subscribe(`ws://127.0.0.1:${server?.port()}/traces?rule=b`);
    await until(() => hub.subscribers === 2);
    hub.publish(trace('a'));
    hub.publish(trace('b'));
    await until(() => all.received.length === 2 && one.received.length === 1);
    expect(all.received.map((t) => t.rule)).to.deep.equal(['a', 'b']);
    expect(one.received[0]).to.deep.equal(trace('b'));
    all.ws.close();
    one.ws.close();
    await until(() => hub.subscribers === 0);
  });

  it('redacts Secret data in the traces it streams', async () => {
    await start();
    const sub = await subscribe(`ws://127.0.0.1:${server?.port()}/traces`);
    await until(() => hub.active);
    hub.publish(trace('copy-secret', { planned: [{ type: 'apply', object: { kind: 'Secret', data: { token: 'c2VjcmV0' } } }] }));
    await until(() => sub.received.length === 1);
    expect(JSON.stringify(sub.received[0])).not.to.include('c2VjcmV0');
    sub.ws.close();
  });

  it('refuses the trace socket when traces are turned off', async () => {
    await start({ tracesEnabled: false });
    const ws = new WebSocket(`ws://127.0.0.1:${server?.port()}/traces`);
    const err = await new Promise<Error>((resolve) => ws.once('error', resolve));
    expect(err.message).to.match(/404/);
  });

  it('closes subscribers with 1001 and stops listening on close', async () => {
    await start();
    const sub = await subscribe(`ws://127.0.0.1:${server?.port()}/traces`);
    const port = server?.port();
    await server?.close();
    expect(await sub.closed).to.equal(1001);
    let refused = false;
    await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => (refused = true));
    expect(refused).to.equal(true);
  });

  it('rejects an address already in use with an error naming it', async () => {
    await start();
    const taken = `127.0.0.1:${server?.port()}`;
    const other = new OpsServer({ metricsAddress: taken, metrics, readiness: () => readiness });
    let error: unknown;
    await other.start().catch((e) => (error = e));
    expect(error).to.be.instanceOf(OpsServerError);
    expect((error as Error).message).to.match(new RegExp(`^cannot listen on ${taken}: .*EADDRINUSE`));
  });
});

describe('parseListenAddress', () => {
  it('reads all-interfaces, host and IPv6 forms', () => {
    expect(parseListenAddress(':9090')).to.deep.equal({ host: undefined, port: 9090 });
    expect(parseListenAddress('127.0.0.1:0')).to.deep.equal({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('[::1]:8081')).to.deep.equal({ host: '::1', port: 8081 });
    expect(() => parseListenAddress('9090')).to.throw(OpsServerError, 'must be HOST:PORT');
  });
});

describe('TraceHub', () => {
  it('does no work when nobody listens and keeps going when a listener throws', () => {
    const hub = new TraceHub();
    expect(hub.active).to.equal(false);
    hub.publish(trace('a'));
    const got: string[] = [];
    hub.subscribe(() => {
      throw new Error('boom');
    });
    const off = hub.subscribe((t) => got.push(t.rule));
    hub.publish(trace('b'));
    off();
    hub.publish(trace('c'));
    expect(got).to.deep.equal(['b']);
  });
});
