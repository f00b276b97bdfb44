import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { createClient } from '../../src/client/index.js';
import { loadRules } from '../../src/engine/index.js';
import { SharedInformerFactory } from '../../src/informers/index.js';
import { RuleController } from '../../src/daemon/controller.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { repoRoot } from '../support/control-plane.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { kubectlApply, ruleConfigMap, testConfig } from './daemon-support.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const MASKED = '[REDACTED';

/**
 * Rules that read the planted Secret and try every way to show its value: a log line, an Event
 * note, a ConfigMap copy (whose planned body and target would be traced), an expression error
 * quoting it, and an apply the API server refuses with a 422 quoting it. Named `<prefix>-…`.
 */
function leakyRules(ns: string, prefix: string, reveal: boolean): string {
  const head = (name: string) => `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: { name: ${prefix}-${name} }
spec:
  watch: { apiVersion: v1, kind: Secret, namespaces: [${ns}], labelSelector: leak-test=yes }
${reveal ? '  revealSecretValues: true\n' : ''}`;
  return [
    `${head('log')}  actions:\n    - log: { message: "stored {{ data.password }} decoded {{ $base64decode(data.password) }}" }\n`,
    `${head('event')}  actions:\n    - event: { reason: Copied, message: "the password is {{ $base64decode(data.password) }}" }\n`,
    `${head('copy')}  actions:\n    - apply: { object: { apiVersion: v1, kind: ConfigMap, metadata: { name: ${prefix}-copy, namespace: ${ns} }, data: { password: "{{ $base64decode(data.password) }}", stored: "{{ data.password }}" } } }\n`,
    `${head('expr')}  when: '$number($base64decode(data.password)) > 0'\n  actions:\n    - log: { message: never }\n`,
    `${head('invalid')}  actions:\n    - apply: { object: { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ $base64decode(data.password) }}", namespace: ${ns} }, data: { a: b } } }\n`,
  ].join('---\n');
}

const healthyRule = (ns: string) => `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: { name: healthy }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${ns}], labelSelector: app=probe }
  actions:
    - patch: { patch: { metadata: { annotations: { healthy: "yes" } } } }
`;

/** A /traces subscriber as `reflex tail` is one: every message kept as received. */
function subscribe(port: number): Promise<{ ws: WebSocket; messages: string[] }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/traces`);
  const messages: string[] = [];
  ws.on('message', (d: Buffer) => messages.push(d.toString()));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('error', reject);
  });
}

/** `reflex tail` itself (text lines, whole), its output kept. */
function tail(port: number): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'reflex.js'), 'tail', '--url', `ws://127.0.0.1:${port}/traces`, '--wide'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return { child, out: () => out };
}

const allEvents = (fx: ClusterFixture) => execFileSync('kubectl', ['--kubeconfig', fx.cp.kubeconfig, 'get', 'events', '-A', '-o', 'yaml'], { encoding: 'utf8', maxBuffer: 64 << 20 });
const daemonOutput = (d: DaemonProcess) => `${d.lines.map((l) => JSON.stringify(l)).join('\n')}\n${d.stderr.join('')}`;

describe('a secret value planted in a Secret (end to end)', function () {
  this.timeout(240_000);
  const fx = useCluster();
  const value = `Leak_${randomBytes(12).toString('hex')}`;
  const forms = [value, b64(value)];
  const daemons: DaemonProcess[] = [];
  const children: ChildProcess[] = [];
  const sockets: WebSocket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    for (const c of children.splice(0)) c.kill('SIGKILL');
    for (const d of daemons.splice(0)) await d.stop('SIGKILL');
  });

  const plant = () =>
    fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'planted', labels: { 'leak-test': 'yes' } }, data: { password: b64(value) } });
  const warnings = async (reason: string, rule: string) => {
    const list = await fx.admin.ok<{ items: { reason: string; note?: string; action?: string }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
    return list.items.filter((e) => e.reason === reason && (e.note ?? '').startsWith(`rule ${rule}:`));
  };

  it('never appears in stdout/stderr, /traces, reflex tail, Events or /metrics; with revealSecretValues it does', async () => {
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-leaky', `${leakyRules(fx.ns, 'leak', false)}---\n${healthyRule(fx.ns)}`));
    const d = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns)] });
    daemons.push(d);
    // A second daemon in client dry-run: what it would do is logged, never sent.
    const dry = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--dry-run', 'client'] });
    daemons.push(dry);
    const sub = await subscribe(d.tracesPort);
    const drySub = await subscribe(dry.tracesPort);
    sockets.push(sub.ws, drySub.ws);
    const t = tail(d.tracesPort);
    children.push(t.child);
    await fx.admin.eventually(async () => t.out().includes('connected to'), 10_000, 'reflex tail to connect');
    for (const r of ['log', 'event', 'copy', 'expr', 'invalid']) await d.waitForLog((l) => l.message === 'rule active' && l.rule === `leak-${r}`, 20_000, `rule leak-${r} active`);

    await plant();
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'probe', labels: { app: 'probe' } } });

    // Positive signals: every rule acted or failed, and said so, masked.
    await fx.admin.eventually(async () => (await fx.admin.ok<{ metadata: { annotations?: Record<string, string> } }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/probe`)).metadata.annotations?.healthy === 'yes', 20_000, 'the healthy rule to act');
    const copy = await fx.admin.eventually(async () => {
      const r = await fx.admin.call<{ data?: Record<string, string> }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/leak-copy`);
      return r.status === 200 && r.body;
    }, 20_000, 'the copy');
    expect(copy.data?.password).to.equal(value); // the rule's own write carries the value, as asked
    const invalid = await fx.admin.eventually(async () => (await warnings('ReflexActionFailed', 'leak-invalid'))[0], 20_000, 'the 422 reported');
    expect(invalid.note).to.include('Invalid value').and.include(MASKED);
    const expr = await fx.admin.eventually(async () => (await warnings('ReflexEvaluationFailed', 'leak-expr'))[0], 20_000, 'the expression error reported');
    expect(expr.note).to.include('Unable to cast value to a number').and.include(MASKED);
    const copied = await fx.admin.eventually(async () => (await fx.admin.ok<{ items: { reason: string; note: string }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`)).items.find((e) => e.reason === 'Copied'), 20_000, 'the event rule to act');
    expect(copied.note).to.include(MASKED);
    await d.waitForLog((l) => l.rule === 'leak-log' && String(l.message).startsWith(MASKED), 20_000, 'the log rule to log');
    const traced = (messages: string[], rule: string) => messages.some((m) => m.includes(`"rule":"${rule}"`));
    await fx.admin.eventually(async () => ['log', 'event', 'copy', 'expr', 'invalid'].every((r) => traced(sub.messages, `leak-${r}`) && t.out().includes(`leak-${r}`)), 20_000, 'traces of every leaky rule (subscriber and reflex tail)');
    await fx.admin.eventually(async () => ['log', 'copy', 'expr', 'invalid'].every((r) => traced(drySub.messages, `leak-${r}`)), 20_000, 'traces of the dry-run daemon');
    await dry.waitForLog((l) => String(l.message).startsWith('dry-run: planned apply ConfigMap') && l.rule === 'leak-invalid', 20_000, 'the dry-run plan of leak-invalid');
    const expressionTrace = sub.messages.find((m) => m.includes('"rule":"leak-expr"') && m.includes('"condition":"error"'));
    expect(expressionTrace).to.include('Unable to cast value to a number').and.include(MASKED);

    const metrics = (await d.get('/metrics', 'metrics')).text;
    const haystacks: Record<string, string> = {
      'daemon stdout/stderr': daemonOutput(d),
      'dry-run daemon stdout/stderr': daemonOutput(dry),
      '/traces': sub.messages.join('\n'),
      '/traces of the dry-run daemon': drySub.messages.join('\n'),
      'reflex tail': t.out(),
      'kubectl get events -A': allEvents(fx),
      '/metrics': metrics,
    };
    for (const [where, text] of Object.entries(haystacks)) {
      expect(text.length, where).to.be.above(0);
      for (const f of forms) expect(text.includes(f), `${where} shows ${f === value ? 'the value' : 'its base64 form'}`).to.equal(false);
    }

    // The positive control: the same rules with the opt-in show it (so the greps above can fail).
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-revealed', leakyRules(fx.ns, 'reveal', true)));
    await d.waitForLog((l) => l.rule === 'reveal-log' && String(l.message).includes(value), 30_000, 'the revealing log rule to show the value');
    await fx.admin.eventually(async () => (await warnings('ReflexEvaluationFailed', 'reveal-expr')).some((e) => (e.note ?? '').includes(value)), 20_000, 'the revealing expression error in an Event');
    await fx.admin.eventually(async () => (await warnings('ReflexActionFailed', 'reveal-invalid')).some((e) => (e.note ?? '').includes(value)), 20_000, 'the revealing 422 in an Event');
    await fx.admin.eventually(async () => sub.messages.some((m) => m.includes('"rule":"reveal-expr"') && m.includes(value)), 20_000, 'the revealing expression error in /traces');
    expect(allEvents(fx)).to.include(value);
    expect((await d.get('/metrics', 'metrics')).text).to.not.include(value); // metrics never carry object data
  });

  it("keeps a rule's last error free of the values it looked up", async () => {
    await plant();
    const client = await createClient({ kubeconfig: fx.cp.kubeconfig });
    const factory = new SharedInformerFactory(client);
    const controller = new RuleController({ client, factory, workers: 2, queue: { baseDelayMs: 5, maxDelayMs: 200 } });
    const lookup = `$base64decode($get('v1', 'Secret', '${fx.ns}', 'planted').data.password)`;
    const rule = (name: string, body: string) => `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: { name: ${name} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=trigger }
${body}`;
    const { rules, errors } = loadRules([
      {
        file: 'rules.yaml',
        text: [
          rule('lookup-expr', `  when: "$number(${lookup}) > 0"\n  actions:\n    - log: { message: never }\n`),
          rule('lookup-invalid', `  actions:\n    - apply: { object: { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ ${lookup} }}", namespace: ${fx.ns} } } }\n`),
        ].join('---\n'),
      },
    ]);
    expect(errors.map((e) => e.message)).to.deep.equal([]);
    expect(rules.map((r) => r.sensitive)).to.deep.equal([true, true]);
    const ac = new AbortController();
    factory.start(ac.signal);
    await controller.setRules(new Map(rules.map((r) => [r.name, r])));
    const running = controller.run(ac.signal, { drainMs: 2000 });
    try {
      await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'trigger', labels: { app: 'trigger' } } });
      const expr = await fx.admin.eventually(async () => controller.lastError('lookup-expr'), 20_000, 'the expression error');
      const invalid = await fx.admin.eventually(async () => controller.lastError('lookup-invalid'), 20_000, 'the 422');
      expect(expr.reason).to.equal('EvaluationFailed');
      expect(expr.message).to.include('Unable to cast value to a number').and.include(MASKED);
      expect(invalid.reason).to.equal('Invalid');
      expect(invalid.message).to.include('Invalid value').and.include(MASKED);
      for (const e of [expr, invalid]) for (const f of forms) expect(e.message).to.not.include(f);
    } finally {
      ac.abort();
      await running;
      await factory.shutdown();
      await client.close();
    }
  });
});
