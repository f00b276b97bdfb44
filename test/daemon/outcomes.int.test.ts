import { expect } from 'chai';
import { createClient, type KubeClient } from '../../src/client/index.js';
import { SharedInformerFactory } from '../../src/informers/index.js';
import { loadRules } from '../../src/engine/index.js';
import { RuleController, type RuleControllerOptions } from '../../src/daemon/controller.js';
import type { ControllerHooks, ControllerTrace } from '../../src/daemon/hooks.js';
import { DaemonMetrics } from '../../src/daemon/metrics.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';
import { metricValue } from './daemon-support.js';

interface Running {
  client: KubeClient;
  controller: RuleController;
  traces: ControllerTrace[];
  metrics: DaemonMetrics;
  stop(): Promise<void>;
}

/** A controller on the real control plane, its hooks wired to real metrics and a trace list. */
async function startController(
  fx: ClusterFixture,
  rulesYaml: string,
  { kubeconfig, extraHooks, ...options }: Partial<Omit<RuleControllerOptions, 'hooks'>> & { kubeconfig?: string; extraHooks?: ControllerHooks } = {},
): Promise<Running> {
  const client = await createClient({ kubeconfig: kubeconfig ?? fx.cp.kubeconfig });
  const factory = new SharedInformerFactory(client);
  const traces: ControllerTrace[] = [];
  const metrics = new DaemonMetrics({ processMetrics: false });
  const controller = new RuleController({
    client,
    factory,
    workers: 4,
    queue: { baseDelayMs: 5, maxDelayMs: 1000 },
    pendingRetryMs: 500,
    hooks: {
      trace: (t) => traces.push(t),
      action: (rule, action, outcome) => metrics.actionExecuted(rule, action, outcome as 'done'),
      failure: (rule, outcome, reason) => metrics.ruleFailed(rule, outcome, reason),
      loopGuard: (rule) => metrics.loopGuardTripped(rule),
      ...extraHooks,
    },
    ...options,
  });
  metrics.watchRetries(() => controller.keysInRetry());
  const { rules, errors } = loadRules([{ file: 'rules.yaml', text: rulesYaml }]);
  expect(errors.map((e) => e.message)).to.deep.equal([]);
  const ac = new AbortController();
  factory.start(ac.signal);
  await controller.setRules(new Map(rules.map((r) => [r.name, r])));
  const running = controller.run(ac.signal, { drainMs: 2000 });
  return {
    client,
    controller,
    traces,
    metrics,
    async stop() {
      ac.abort();
      await running;
      await factory.shutdown();
      await client.close();
    },
  };
}

type Event = { reason: string; note: string; type: string; regarding: { name: string } };

describe('outcomes of evaluations (against the control plane)', function () {
  this.timeout(120_000);
  const fx = useCluster();
  let running: Running | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  const cmPath = (name = '') => `/api/v1/namespaces/${fx.ns}/configmaps${name ? `/${name}` : ''}`;
  const events = async (reason: string) => {
    const list = await fx.admin.ok<{ items: Event[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${fx.ns}/events`);
    return list.items.filter((e) => e.reason === reason);
  };
  const labelOf = async (name: string) => (await fx.admin.ok<{ metadata: { labels?: Record<string, string> } }>('GET', cmPath(name))).metadata.labels?.copy;

  it('evaluates a rule whose patch gets 422 once, reports it in one line with a metric, and succeeds once the object is fixed', async () => {
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad' }, data: { value: 'not a valid label value!' } });
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: copy-to-label }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "$exists(data.value) and $not(metadata.labels.copy = data.value)"
  actions:
    - patch: { patch: { metadata: { labels: { copy: "{{ data.value }}" } } } }
`,
    );
    const [warning] = await fx.admin.eventually(async () => {
      const found = await events('ReflexActionFailed');
      return found.length > 0 ? found : undefined;
    }, 20_000, 'a ReflexActionFailed Warning Event');
    expect(warning.type).to.equal('Warning');
    expect(warning.regarding.name).to.equal('bad');
    expect(warning.note).to.not.contain('\n');
    expect(warning.note.length).to.be.below(1024);
    expect(warning.note).to.match(/^rule copy-to-label: patch of ConfigMap .*\/bad for rule "copy-to-label" failed: PATCH: patch configmaps "bad" in namespace "[^"]+" on https:\/\/127\.0\.0\.1:\d+: Invalid \(422\): .*metadata\.labels/);
    expect(warning.note).to.match(/\(not retried until the object or the rule changes\)$/);
    const metrics = await running.metrics.metrics();
    expect(metricValue(metrics, 'reflex_rule_failures_total', 'rule="copy-to-label",outcome="terminal",reason="Invalid"')).to.equal(1);
    // Not retried: with a 5 ms base delay a retried key would have been evaluated many times by now.
    await new Promise((r) => setTimeout(r, 1500));
    expect(running.traces.filter((t) => t.object.name === 'bad').length).to.equal(1);
    expect((await events('ReflexActionFailed')).length).to.equal(1);
    expect(metricValue(await running.metrics.metrics(), 'reflex_rule_keys_in_retry', 'rule="copy-to-label"')).to.equal(undefined);
    expect(running.controller.lastError('copy-to-label')).to.include({ reason: 'Invalid' });

    await fx.admin.ok('PATCH', cmPath('bad'), { data: { value: 'valid' } }, 'application/merge-patch+json');
    await fx.admin.eventually(async () => (await labelOf('bad')) === 'valid', 20_000, 'the patch to succeed once the object is fixed');
  });

  it('fails an action on a kind the server does not serve as terminal, after one discovery refresh, and reports it once', async () => {
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'wants-widget' } });
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: make-widget }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.name = 'wants-widget'"
  actions:
    - apply:
        object: { apiVersion: nothing.example.com/v1, kind: Widget, metadata: { name: w, namespace: "{{ metadata.namespace }}" } }
`,
    );
    const [warning] = await fx.admin.eventually(async () => {
      const found = await events('ReflexActionFailed');
      return found.length > 0 ? found : undefined;
    }, 20_000, 'a ReflexActionFailed Warning Event');
    expect(warning.note).to.match(/does not serve kind Widget in nothing\.example\.com\/v1/).and.to.not.contain('\n');
    expect(metricValue(await running.metrics.metrics(), 'reflex_rule_failures_total', 'rule="make-widget",outcome="terminal",reason="KindNotServed"')).to.equal(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(running.traces.filter((t) => t.object.name === 'wants-widget').length, 'evaluated once, not retried').to.equal(1);
  });

  it('retries a 403 (the no-grants user) no more than once per slowest backoff step, reports it once, and acts once RBAC allows it', async () => {
    const user = 'reflex-nogrants';
    const role = (name: string, rules: unknown[]) => fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fx.ns}/roles`, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name }, rules });
    const bind = (name: string) =>
      fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${fx.ns}/rolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      });
    await role('reader', [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    await bind('reader');
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'guarded' }, data: { value: 'yes' } });
    const slowest = 1500;
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: label-guarded }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "$not(metadata.labels.copy = data.value)"
  actions:
    - patch: { patch: { metadata: { labels: { copy: "{{ data.value }}" } } } }
`,
      { kubeconfig: fx.cp.noGrantsKubeconfig, queue: { baseDelayMs: 5, maxDelayMs: slowest } },
    );
    const attempts = () => running!.traces.filter((t) => t.object.name === 'guarded' && t.executed.some((e) => e.outcome === 'failed'));
    await fx.admin.eventually(async () => attempts().length >= 4, 30_000, 'four attempts');
    const times = attempts().map((t) => Date.parse(t.time));
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.min(...gaps), `gaps between attempts ${gaps.join(', ')} ms`).to.be.at.least(slowest - 50);
    const reported = await events('ReflexForbidden');
    expect(reported).to.have.length(1);
    expect(reported[0].note).to.match(/Forbidden \(403\)/).and.to.not.contain('\n');
    expect(metricValue(await running.metrics.metrics(), 'reflex_rule_keys_in_retry', 'rule="label-guarded"')).to.equal(1);

    await role('patcher', [{ apiGroups: [''], resources: ['configmaps'], verbs: ['patch'] }]);
    await bind('patcher');
    await fx.admin.eventually(async () => (await labelOf('guarded')) === 'yes', 20_000, 'the patch once RBAC allows it');
    await fx.admin.eventually(async () => metricValue(await running!.metrics.metrics(), 'reflex_rule_keys_in_retry', 'rule="label-guarded"') === undefined, 5000, 'the key out of retry');
    expect(await events('ReflexForbidden')).to.have.length(1);
  });

  it('writes all 50 targets of one evaluation without tripping the loop guard', async () => {
    await fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'source' }, data: { value: 'v1' } });
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: fan-out }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.name = 'source'"
  actions:
    - forEach: "{{ [1..50] }}"
      apply:
        object:
          apiVersion: v1
          kind: ConfigMap
          metadata: { name: "copy-{{ $item }}", namespace: "{{ metadata.namespace }}" }
          data: { value: "{{ data.value }}" }
`,
    );
    const copies = async () => {
      const list = await fx.admin.ok<{ items: { metadata: { name: string }; data?: Record<string, string> }[] }>('GET', cmPath());
      return list.items.filter((o) => o.metadata.name.startsWith('copy-') && o.data?.value === 'v1').length;
    };
    await fx.admin.eventually(async () => (await copies()) === 50, 30_000, 'all 50 copies');
    const evaluation = running.traces.find((t) => t.object.name === 'source' && t.executed.length > 0);
    expect(evaluation?.executed.filter((e) => e.outcome === 'done')).to.have.length(50);
    expect(running.traces.some((t) => t.skipped === 'loop-guard')).to.equal(false);
    expect(metricValue(await running.metrics.metrics(), 'reflex_loop_guard_total')).to.equal(undefined);
    expect(await events('ReflexLoopGuard')).to.deep.equal([]);
  });

  it('evaluates a 50-rule sweep the same number of times whether or not traces are watched', async () => {
    const objects = 200;
    for (let i = 0; i < objects; i += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, j) =>
          fx.admin.ok('POST', cmPath(), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `o-${i + j}`, labels: { bucket: String((i + j) % 50) } } }),
        ),
      );
    }
    const rules = Array.from(
      { length: 50 },
      (_, i) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: bucket-${i} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.labels.bucket = '${i}'"
  actions:
    - log: { message: "in bucket ${i}" }
`,
    ).join('---\n');
    const sweep = async (watched: boolean) => {
      const evaluated: string[] = [];
      const run = await startController(fx, rules, { extraHooks: { evaluated: (rule, result) => evaluated.push(`${rule} ${result}`), tracing: () => watched } });
      try {
        await fx.admin.eventually(async () => evaluated.filter((e) => e.endsWith(' match')).length === objects, 30_000, 'every object matched by its rule');
        // The queue drained: nothing more is evaluated.
        await fx.admin.eventually(async () => run.controller.queue.len() === 0 && run.controller.queue.stats().processing === 0, 10_000, 'the queue to drain');
        return evaluated.length;
      } finally {
        await run.stop();
      }
    };
    const without = await sweep(false);
    const withTraces = await sweep(true);
    expect(without).to.equal(objects);
    expect(withTraces).to.equal(without);
  });
});
