import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { formatTrace, runTail } from '../../src/cli/tail.js';
import { main } from '../../src/cli/main.js';
import { DaemonMetrics, OpsServer, TraceHub, type DecisionTrace } from '../../src/daemon/index.js';

function trace(rule: string, extra: Partial<DecisionTrace> = {}): DecisionTrace {
  return {
    time: '2026-01-01T12:00:01.234Z',
    rule,
    object: { apiVersion: 'batch/v1', kind: 'Job', namespace: 'ci', name: 'build-1' },
    event: 'update',
    condition: true,
    planned: [{ type: 'delete' }],
    executed: [{ action: 'delete', outcome: 'done', durationMs: 12 }],
    durationMs: 15,
    ...extra,
  };
}

function recorder() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('reflex tail', () => {
  let server: OpsServer;
  let hub: TraceHub;
  let url: string;

  beforeEach(async () => {
    hub = new TraceHub();
    server = new OpsServer({
      metricsAddress: '127.0.0.1:0',
      metrics: new DaemonMetrics({ processMetrics: false }),
      readiness: () => ({ ready: true }),
      traces: hub,
    });
    await server.start();
    url = `ws://127.0.0.1:${server.port()}/traces`;
  });
  afterEach(() => server.close());

  it('prints one readable line per trace as the daemon publishes them, until interrupted', async () => {
    const r = recorder();
    const stop = new AbortController();
    const code = runTail(['--url', url], r.io, { signal: stop.signal });
    await until(() => hub.active);
    hub.publish(trace('ttl-jobs'));
    hub.publish(trace('label-sync', { condition: false, executed: [], planned: [], durationMs: 1 }));
    await until(() => r.out.length === 2);
    stop.abort();
    expect(await code).to.equal(0);
    expect(r.out).to.deep.equal([
      '12:00:01.234 ttl-jobs update Job ci/build-1: match → delete done 12ms (15ms)',
      '12:00:01.234 label-sync update Job ci/build-1: no match → no actions (1ms)',
    ]);
    expect(r.err[0]).to.equal(`reflex tail: connected to ws://127.0.0.1:${server.port()}/traces`);
  });

  it('prints the raw JSON with --output json and only the asked rules with --rule', async () => {
    const r = recorder();
    const stop = new AbortController();
    const code = runTail(['--url', url, '--rule', 'b', '--output', 'json'], r.io, { signal: stop.signal });
    await until(() => hub.active);
    hub.publish(trace('a'));
    hub.publish(trace('b'));
    await until(() => r.out.length === 1);
    stop.abort();
    await code;
    expect(JSON.parse(r.out[0])).to.deep.equal(trace('b'));
  });

  it('shows only the objects of one namespace with -n', async () => {
    const r = recorder();
    const stop = new AbortController();
    const code = runTail(['--url', url, '-n', 'prod', '-o', 'json'], r.io, { signal: stop.signal });
    await until(() => hub.active);
    hub.publish(trace('a'));
    const prod = trace('b', { object: { apiVersion: 'batch/v1', kind: 'Job', namespace: 'prod', name: 'x' } });
    hub.publish(prod);
    await until(() => r.out.length === 1);
    stop.abort();
    await code;
    expect(JSON.parse(r.out[0])).to.deep.equal(prod);
  });

  it('ends with 0 when the daemon shuts down, saying so', async () => {
    const r = recorder();
    const code = runTail(['--url', url], r.io, { signal: new AbortController().signal });
    await until(() => hub.active);
    await server.close();
    expect(await code).to.equal(0);
    expect(r.err.at(-1)).to.equal('reflex tail: the daemon closed the stream (code 1001 server shutting down)');
  });

  it('fails with 1 and a hint when nothing listens at the URL', async () => {
    const port = server.port();
    await server.close();
    const r = recorder();
    const code = await runTail(['--url', `ws://127.0.0.1:${port}/traces`], r.io, { signal: new AbortController().signal });
    expect(code).to.equal(1);
    expect(r.err).to.deep.equal([`reflex tail: nothing is listening at ws://127.0.0.1:${port}/traces; is the daemon running (with traces enabled)? e.g. kubectl -n reflex port-forward deploy/reflex 9091`]);
  });

  it('sends the bearer token of the kubeconfig to an exposed daemon, which refuses the upgrade without it', async () => {
    const exposed = new OpsServer({
      metricsAddress: '127.0.0.1:0',
      tracesAddress: '0.0.0.0:0',
      metrics: new DaemonMetrics({ processMetrics: false }),
      readiness: () => ({ ready: true }),
      traces: hub,
      authenticateTraces: async (token) => (token === 'tail-token' ? { allowed: true, user: 'u' } : { allowed: false, status: 401, reason: 'the token is not valid' }),
    });
    await exposed.start();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'reflex-tail-'));
      const kubeconfig = join(dir, 'config');
      writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {token: tail-token}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
      const traces = `ws://127.0.0.1:${exposed.port('traces')}/traces`;
      const refused = recorder();
      const empty = join(dir, 'empty');
      writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n');
      expect(await runTail(['--url', traces, '--kubeconfig', empty], refused.io, { signal: new AbortController().signal })).to.equal(1);
      expect(refused.err.join('\n')).to.match(/refused the connection: 401 a bearer token is required/);
      const r = recorder();
      const stop = new AbortController();
      const code = runTail(['--url', traces, '--kubeconfig', kubeconfig], r.io, { signal: stop.signal });
      await until(() => r.err.some((l) => l.includes('connected to')));
      stop.abort();
      expect(await code).to.equal(0);
    } finally {
      await exposed.close();
    }
  });

  it('rejects bad options with exit code 2', async () => {
    const r = recorder();
    expect(await runTail(['--output', 'yaml'], r.io)).to.equal(2);
    expect(await runTail(['--url', 'http://x/traces'], r.io)).to.equal(2);
    expect(await runTail(['--nope'], r.io)).to.equal(2);
    expect(r.err[0]).to.match(/^reflex tail: --output must be text or json; got "yaml"\nUsage: reflex tail \[flags\]; `reflex tail --help` lists every flag$/);
  });

  it('is wired as the tail command of the reflex command line', async () => {
    const r = recorder();
    expect(await main(['tail', '--output', 'xml'], r.io)).to.equal(2);
    expect(r.err[0]).to.match(/^reflex tail: --output must be text or json/);
  });

  it('formats condition errors and failed actions readably', () => {
    expect(formatTrace(trace('r', { condition: 'error', error: 'undefined function $x', executed: [], planned: [] })))
      .to.equal('12:00:01.234 r update Job ci/build-1: error (undefined function $x) → no actions (15ms)');
    expect(formatTrace(trace('r', { executed: [{ action: 'patch', outcome: 'failed', durationMs: 3, error: 'Forbidden' }] })))
      .to.equal('12:00:01.234 r update Job ci/build-1: match → patch failed 3ms (Forbidden) (15ms)');
  });

  it('keeps of an API error its reason and message, and cuts a line at the width', () => {
    const error = 'patch of Deployment shop/api for rule "r" failed: PATCH: patch deployments.apps "api" in namespace "shop" on https://10.0.0.1:6443: Invalid (422): spec.replicas: Invalid value: -1';
    const t = trace('r', { executed: [{ action: 'patch', outcome: 'failed', durationMs: 3, error }] });
    expect(formatTrace(t)).to.equal('12:00:01.234 r update Job ci/build-1: match → patch failed 3ms (Invalid (422): spec.replicas: Invalid value: -1) (15ms)');
    const cut = formatTrace(t, { width: 60 });
    expect(cut).to.equal('12:00:01.234 r update Job ci/build-1: match → patch failed …');
    expect(cut).to.have.length(60);
  });

  it('shows, with sharding, which replica decided and the bucket of the key', () => {
    expect(formatTrace(trace('r', { shard: { replica: 'reflex-7d9f-x2', bucket: 17 } })))
      .to.equal('12:00:01.234 r update Job ci/build-1 [bucket 17 on reflex-7d9f-x2]: match → delete done 12ms (15ms)');
  });

  it('says why an update was filtered out, and why planned actions were skipped', () => {
    expect(formatTrace({ ...trace('r', { condition: false, executed: [], planned: [] }), filtered: 'changes unchanged' }))
      .to.equal('12:00:01.234 r update Job ci/build-1: filtered: changes unchanged → no actions (15ms)');
    expect(formatTrace({ ...trace('r', { executed: [] }), skipped: 'loop-guard' }))
      .to.equal('12:00:01.234 r update Job ci/build-1: skipped: loop-guard → 1 planned (15ms)');
  });

  it('colours the decision and failures on a terminal, and not when NO_COLOR is set', async () => {
    const line = formatTrace(trace('r', { executed: [{ action: 'patch', outcome: 'failed', durationMs: 3, error: 'Forbidden' }] }), { color: true });
    expect(line).to.equal('\x1b[2m12:00:01.234\x1b[0m r update Job ci/build-1: \x1b[32mmatch\x1b[0m\x1b[31m → patch failed 3ms (Forbidden) (15ms)\x1b[0m');
    const { useColor } = await import('../../src/cli/io.js');
    const tty = { out: () => undefined, err: () => undefined, isTTY: true };
    expect([useColor(tty, {}), useColor(tty, { NO_COLOR: '1' }), useColor({ ...tty, isTTY: false }, {})]).to.deep.equal([true, false, false]);
  });
});
