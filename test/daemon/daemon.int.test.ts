import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../support/control-plane.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, metricValue, ruleConfigMap, serviceAccountKubeconfig, testConfig } from './daemon-support.js';

type Meta = { metadata: { annotations?: Record<string, string>; labels?: Record<string, string> } };

const stampRule = (ns: string, value: string, when = `$not(metadata.annotations.stamp = '${value}')`) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata:
  name: stamp
spec:
  watch:
    apiVersion: v1
    kind: ConfigMap
    namespaces: [${ns}]
    labelSelector: app=demo
  when: "${when}"
  actions:
    - patch:
        patch:
          metadata:
            annotations:
              stamp: ${value}
`;

describe('reflex run (end to end, against the control plane)', function () {
  this.timeout(120_000);
  const fx = useCluster();
  let daemons: DaemonProcess[] = [];
  afterEach(async () => {
    await Promise.all(daemons.map((d) => d.stop('SIGKILL')));
    daemons = [];
  });
  const start = async (args: string[], kubeconfig = fx.cp.kubeconfig) => {
    const d = await DaemonProcess.start({ kubeconfig, args });
    daemons.push(d);
    return d;
  };
  const cmPath = (name = '') => `/api/v1/namespaces/${fx.ns}/configmaps${name ? `/${name}` : ''}`;
  const createCM = (name: string, labels: Record<string, string> = { app: 'demo' }) =>
    fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels } });
  const stampOf = async (name: string) => (await fx.admin.ok<Meta>('GET', cmPath(name))).metadata.annotations?.stamp;
  const waitStamp = (name: string, value: string, timeoutMs = 5000) =>
    fx.admin.eventually(async () => (await stampOf(name)) === value, timeoutMs, `${name} stamped ${value}`);

  it('hot-reloads a rule ConfigMap: applied, edited, a broken edit keeps the old rule and warns on the ConfigMap, the fix says so', async () => {
    const d = await start(['--config', testConfig(fx.ns)]);
    await createCM('demo');
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-stamp', stampRule(fx.ns, 'v1')));
    await waitStamp('demo', 'v1', 5000);

    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-stamp', stampRule(fx.ns, 'v2')));
    await waitStamp('demo', 'v2', 5000);

    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-stamp', stampRule(fx.ns, 'v3', '$not(metadata.annotations.stamp = ')));
    const warning = await fx.admin.eventually(async () => {
      const list = await fx.admin.ok<{ items: { reason: string; note: string; regarding: { name: string } }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
      return list.items.find((e) => e.reason === 'InvalidRule' && e.regarding.name === 'rules-stamp');
    }, 5000, 'an InvalidRule Warning Event on the rule ConfigMap');
    expect(warning.note).to.match(/^configmap\/.*\/rules-stamp\/rules\.yaml:\d+:\d+: rule "stamp" .*JSONata syntax error/);
    await createCM('demo-after-broken-edit');
    await waitStamp('demo-after-broken-edit', 'v2', 5000);
    const load = await d.get('/metrics', 'metrics');
    expect(metricValue(load.text, 'reflex_rule_load_errors_total')).to.be.greaterThan(0);
    expect(metricValue(load.text, 'reflex_rules_loaded')).to.equal(1);
    expect(d.lines.some((l) => l.message === 'invalid rule' && String(l.error).includes('rules.yaml:'))).to.equal(true);

    // Fixed: a Normal RuleLoaded Event follows the Warning (the Warning stays, as Events do).
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-stamp', stampRule(fx.ns, 'v4')));
    const loaded = await fx.admin.eventually(async () => {
      const list = await fx.admin.ok<{ items: { type: string; reason: string; note: string; regarding: { name: string } }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
      return list.items.find((e) => e.reason === 'RuleLoaded' && e.regarding.name === 'rules-stamp');
    }, 5000, 'a RuleLoaded Event on the fixed rule ConfigMap');
    expect(loaded.type).to.equal('Normal');
    expect(loaded.note).to.include('load now');
  });

  it('serves /healthz, /readyz and /metrics, and exits 0 on SIGTERM', async () => {
    const d = await start(['--config', testConfig(fx.ns)]);
    expect((await d.get('/healthz')).status).to.equal(200);
    const ready = await d.get('/readyz');
    expect(ready.status).to.equal(200);
    const metrics = await d.get('/metrics', 'metrics');
    expect(metrics.text).to.contain('reflex_queue_depth');
    expect(metrics.text).to.contain('reflex_cache_objects');
    const exit = await d.stop('SIGTERM');
    expect(exit).to.deep.equal({ code: 0, signal: null });
    expect(d.lines.some((l) => l.message === 'stopped')).to.equal(true);
  });

  it('keeps working when the control plane restarts under it', async () => {
    const d = await start(['--config', testConfig(fx.ns)]);
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-stamp', stampRule(fx.ns, 'v1')));
    await createCM('before-restart');
    await waitStamp('before-restart', 'v1');
    await fx.cp.restart({ downMs: 2000 });
    await createCM('after-restart');
    await waitStamp('after-restart', 'v1', 60_000);
    expect((await d.get('/healthz')).status).to.equal(200);
    const m = await d.get('/metrics', 'metrics');
    expect(metricValue(m.text, 'reflex_watch_restarts_total', 'ConfigMap')).to.be.greaterThan(0);
  });

  it('reports a rule whose action RBAC forbids, per rule, and stays healthy', async () => {
    // The daemon's identity may read ConfigMaps and write Events, but not patch ConfigMaps.
    await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fx.ns}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'reader' },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['get', 'create', 'patch'] },
      ],
    });
    await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fx.ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'limited', namespace: fx.ns }],
    });
    const kubeconfig = await serviceAccountKubeconfig(fx, fx.ns, 'limited');
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-stamp', stampRule(fx.ns, 'v1')));
    const d = await start(['--config', testConfig(fx.ns, 'queue: { maxRetries: 2, baseDelayMs: 5 }\n')], kubeconfig);
    await createCM('forbidden');
    const line = await d.waitForLog((l) => String(l.error ?? '').includes('forbidden') || String(l.error ?? '').includes('Forbidden'), 20_000, 'a Forbidden error in the log');
    expect(line.rule).to.equal('stamp');
    expect(String(line.error)).to.match(/patch/i).and.to.match(/configmaps/);
    await fx.admin.eventually(async () => {
      const m = await d.get('/metrics', 'metrics');
      return (metricValue(m.text, 'reflex_rule_errors_total', 'rule="stamp"') ?? 0) > 0;
    }, 20_000, 'reflex_rule_errors_total for the rule');
    expect((await d.get('/healthz')).status).to.equal(200);
    expect((await d.get('/readyz')).status).to.equal(200);
    expect(await stampOf('forbidden')).to.equal(undefined);
  });

  it('retries an action that conflicts over and over with backoff, then gives up with a Warning Event and a metric', async () => {
    // Another field manager owns data.owner; the rule applies it without force: 409 Conflict every time.
    await fx.admin.ok(
      'PATCH',
      `${cmPath('contested')}?fieldManager=someone-else`,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'contested', labels: { app: 'demo' } }, data: { owner: 'someone-else' } },
      'application/apply-patch+yaml',
    );
    const rule = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: claim-owner }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=demo }
  actions:
    - apply:
        object: { apiVersion: v1, kind: ConfigMap, metadata: { name: "{{ metadata.name }}", namespace: "{{ metadata.namespace }}" }, data: { owner: reflex } }
`;
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-claim', rule));
    const d = await start(['--config', testConfig(fx.ns, 'queue: { maxRetries: 3, baseDelayMs: 100 }\n')]);
    const gaveUp = await d.waitForLog((l) => String(l.message).includes('giving up'), 30_000, 'giving up after retries');
    expect(String(gaveUp.message)).to.contain('failed 4 times');
    // The first failure is logged at info, its repeats (same reason) at debug.
    const first = d.lines.filter((l) => l.message === 'apply failed; retrying with backoff' && l.rule === 'claim-owner');
    expect(first.map((l) => [l.retry, l.reason])).to.deep.equal([[1, 'Conflict']]);
    expect(String(first[0].error)).to.not.contain('\n');
    const m = await d.get('/metrics', 'metrics');
    expect(metricValue(m.text, 'reflex_retries_exhausted_total', 'rule="claim-owner"')).to.equal(1);
    expect(metricValue(m.text, 'reflex_rule_failures_total', 'rule="claim-owner",outcome="transient",reason="Conflict"')).to.equal(4);
    const owner = await fx.admin.ok<{ data: Record<string, string> }>('GET', cmPath('contested'));
    expect(owner.data.owner).to.equal('someone-else');
  });

  it('processes 1,000 objects created at once, and the queue drains', async function () {
    this.timeout(300_000);
    const rule = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: mark-bulk }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: bulk=yes }
  when: "$not(metadata.annotations.done = 'yes')"
  limits: { maxActionsPerRun: 2000 }
  actions:
    - patch: { patch: { metadata: { annotations: { done: "yes" } } } }
`;
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-bulk', rule));
    const d = await start(['--config', testConfig(fx.ns, 'client: { qps: 200, burst: 400 }\nworkers: 8\n')]);
    const names = Array.from({ length: 1000 }, (_, i) => `bulk-${i}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => createCM(n, { bulk: 'yes' })));
    }
    await fx.admin.eventually(async () => {
      const list = await fx.admin.ok<{ items: Meta[] }>('GET', `${cmPath()}?labelSelector=bulk%3Dyes`);
      return list.items.filter((c) => c.metadata.annotations?.done === 'yes').length === 1000;
    }, 240_000, 'all 1,000 objects to be processed');
    await fx.admin.eventually(async () => {
      const m = await d.get('/metrics', 'metrics');
      const depth = (metricValue(m.text, 'reflex_queue_depth', 'lane="live"') ?? 0) + (metricValue(m.text, 'reflex_queue_depth', 'lane="sweep"') ?? 0);
      return depth === 0;
    }, 30_000, 'the queue to drain');
  });

  it('streams decision traces to reflex tail as it decides', async () => {
    const d = await start(['--config', testConfig(fx.ns)]);
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-stamp', stampRule(fx.ns, 'v1')));
    await d.waitForLog((l) => l.message === 'rule active' && l.rule === 'stamp', 10_000, 'the rule to be active');
    const tail = spawn(process.execPath, [join(repoRoot, 'bin', 'reflex.js'), 'tail', '--url', `ws://127.0.0.1:${d.tracesPort}/traces`, '--rule', 'stamp', '--output', 'json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let err = '';
      tail.stdout.on('data', (b: Buffer) => (out += b.toString()));
      tail.stderr.on('data', (b: Buffer) => (err += b.toString()));
      await fx.admin.eventually(async () => err.includes('connected to'), 10_000, 'reflex tail to connect');
      await createCM('traced');
      const trace = await fx.admin.eventually(async () => {
        const line = out.split('\n').find((l) => l.includes('"traced"'));
        return line ? (JSON.parse(line) as { rule: string; event: string; condition: boolean; planned: unknown[]; executed: { action: string; outcome: string; durationMs: number }[] }) : undefined;
      }, 10_000, 'a trace of the new object in reflex tail');
      expect(trace).to.deep.include({ rule: 'stamp', event: 'create', condition: true });
      expect(trace.planned).to.have.length(1);
      expect(trace.executed.map((e) => [e.action, e.outcome])).to.deep.equal([['patch', 'done']]);
      expect(trace.executed[0].durationMs).to.be.a('number');
    } finally {
      tail.kill('SIGINT');
    }
  });

  it('stops two rules fighting over one field with the loop guard, and says so', async () => {
    const fighter = (name: string, value: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: ${name} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=demo }
  when: "$not(data.owner = '${value}')"
  actions:
    - patch: { patch: { data: { owner: "${value}" } } }
`;
    kubectlApply(fx, ruleConfigMap(fx.ns, 'rules-fight', `${fighter('owner-a', 'a')}---\n${fighter('owner-b', 'b')}`));
    const d = await start(['--config', testConfig(fx.ns)]);
    await createCM('contested');
    const guard = await d.waitForLog((l) => String(l.message).includes('loop guard'), 30_000, 'the loop guard to trip');
    expect(String(guard.message)).to.match(/rule owner-[ab]: more than 10 changing writes to ConfigMap .*\/contested within a minute/);
    const m = await d.get('/metrics', 'metrics');
    expect((metricValue(m.text, 'reflex_loop_guard_total', 'rule="owner-a"') ?? 0) + (metricValue(m.text, 'reflex_loop_guard_total', 'rule="owner-b"') ?? 0)).to.be.greaterThan(0);
    const events = await fx.admin.ok<{ items: { reason: string; regarding: { name: string } }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
    expect(events.items.some((e) => e.reason === 'ReflexLoopGuard' && e.regarding.name === 'contested')).to.equal(true);
    const rv = async () => (await fx.admin.ok<{ metadata: { resourceVersion: string } }>('GET', cmPath('contested'))).metadata.resourceVersion;
    const settled = await rv();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await rv(), 'the object stops changing').to.equal(settled);
  });

  it('stops at once on SIGTERM while its caches cannot sync (start-up never completes)', async () => {
    // The no-grants user may not list the rule ConfigMaps, so start-up waits for a cache forever.
    const d = await DaemonProcess.start({ kubeconfig: fx.cp.noGrantsKubeconfig, args: ['--config', testConfig(fx.ns)], waitReady: false });
    daemons.push(d);
    await d.waitForLog((l) => l.level === 'warn' && String(l.error ?? '').includes('forbidden'), 20_000, 'the forbidden list');
    expect((await d.get('/readyz')).status).to.equal(503);
    const t0 = Date.now();
    const exit = await d.stop('SIGTERM', 15_000);
    expect(exit).to.deep.equal({ code: 0, signal: null });
    expect(Date.now() - t0).to.be.below(5000);
  });
});
