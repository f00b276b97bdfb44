import { expect } from 'chai';
import { createClient, type KubeClient } from '../../src/client/index.js';
import { SharedInformerFactory } from '../../src/informers/index.js';
import { loadRules } from '../../src/engine/index.js';
import { RuleController, type RuleControllerOptions } from '../../src/daemon/controller.js';
import type { ControllerTrace } from '../../src/daemon/hooks.js';
import { useCluster, type ClusterFixture } from '../support/cluster.js';

interface Running {
  client: KubeClient;
  factory: SharedInformerFactory;
  controller: RuleController;
  traces: ControllerTrace[];
  stop(): Promise<void>;
}

async function startController(fx: ClusterFixture, rulesYaml: string, options: Partial<RuleControllerOptions> = {}): Promise<Running> {
  const client = await createClient({ kubeconfig: fx.cp.kubeconfig });
  const factory = new SharedInformerFactory(client);
  const traces: ControllerTrace[] = [];
  const controller = new RuleController({
    client,
    factory,
    workers: 2,
    queue: { baseDelayMs: 5, maxDelayMs: 200 },
    pendingRetryMs: 500,
    hooks: { trace: (t) => traces.push(t) },
    ...options,
  });
  const { rules, errors } = loadRules([{ file: 'rules.yaml', text: rulesYaml }]);
  expect(errors.map((e) => e.message)).to.deep.equal([]);
  const ac = new AbortController();
  factory.start(ac.signal);
  await controller.setRules(new Map(rules.map((r) => [r.name, r])));
  const running = controller.run(ac.signal, { drainMs: 2000 });
  return {
    client,
    factory,
    controller,
    traces,
    async stop() {
      ac.abort();
      await running;
      await factory.shutdown();
      await client.close();
    },
  };
}

const cm = (ns: string, name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns, labels },
  data,
});

describe('RuleController (against the control plane)', function () {
  this.timeout(90_000);
  const fx = useCluster();
  let running: Running | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  const events = async (ns: string, reason: string) => {
    const list = await fx.admin.ok<{ items: { reason: string; note: string }[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`);
    return list.items.filter((e) => e.reason === reason);
  };

  it('acts on objects that existed before start (sync) and on objects created after (create)', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'before', { copy: 'yes' }, { a: '1' }));
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: copy-configmaps }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: "copy=yes" }
  actions:
    - apply:
        object:
          apiVersion: v1
          kind: ConfigMap
          metadata: { name: "{{ metadata.name }}-copy", namespace: "{{ metadata.namespace }}" }
          data: "{{ data }}"
`,
    );
    const base = `/api/v1/namespaces/${fx.ns}/configmaps`;
    const copy = await fx.admin.eventually(async () => {
      const r = await fx.admin.call<{ data: Record<string, string>; metadata: { labels: Record<string, string> } }>('GET', `${base}/before-copy`);
      return r.status === 200 ? r.body : undefined;
    }, 20_000, 'the copy of a pre-existing ConfigMap');
    expect(copy.data).to.deep.equal({ a: '1' });
    expect(copy.metadata.labels['app.kubernetes.io/managed-by']).to.equal('reflex');
    await fx.admin.ok('POST', base, cm(fx.ns, 'after', { copy: 'yes' }, { b: '2' }));
    await fx.admin.eventually(async () => (await fx.admin.call('GET', `${base}/after-copy`)).status === 200, 20_000, 'the copy of a new ConfigMap');
    expect(running.traces.find((t) => t.object.name === 'before')?.event).to.equal('sync');
    expect(running.traces.find((t) => t.object.name === 'after')?.event).to.equal('create');
  });

  it('stops two rules fighting over one field with the loop guard, and says so with a Warning Event', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'contested', {}, {}));
    const fighter = (name: string, value: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: ${name} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.name = 'contested' and $not(data.owner = '${value}')"
  limits: { actionsPerObjectPerMinute: 5 }
  actions:
    - patch: { patch: { data: { owner: "${value}" } } }
`;
    running = await startController(fx, `${fighter('set-a', 'a')}---\n${fighter('set-b', 'b')}`);
    const guard = await fx.admin.eventually(async () => {
      const found = await events(fx.ns, 'ReflexLoopGuard');
      return found.length > 0 ? found : undefined;
    }, 40_000, 'a ReflexLoopGuard Warning Event');
    expect(guard[0].note).to.match(/rule set-[ab]: more than 5 changing writes to ConfigMap .*\/contested within a minute/);
    const skipped = running.traces.filter((t) => t.skipped === 'loop-guard');
    expect(skipped.length).to.be.greaterThan(0);
    // The fight stops: the number of writes settles.
    const writes = () => running!.traces.filter((t) => t.executed.some((e) => e.outcome === 'done')).length;
    const settled = writes();
    expect(settled).to.be.at.most(12);
    await new Promise((r) => setTimeout(r, 1500));
    expect(writes()).to.equal(settled);
  });

  it('keeps a rule whose kind is not served pending, and activates it when the CRD appears', async () => {
    const group = `${fx.ns}.reflex.test`;
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: label-widgets }
spec:
  watch: { apiVersion: ${group}/v1, kind: Widget }
  when: "$not($exists(metadata.labels.seen))"
  actions:
    - patch: { patch: { metadata: { labels: { seen: "yes" } } } }
`,
    );
    expect(running.controller.pendingRules()).to.deep.equal(['label-widgets']);
    await fx.admin.ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    try {
      await fx.admin.eventually(async () => running!.controller.pendingRules().length === 0, 30_000, 'the rule to activate');
      const path = `/apis/${group}/v1/namespaces/${fx.ns}/widgets`;
      await fx.admin.eventually(async () => (await fx.admin.call('POST', path, { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w1' } })).status === 201, 20_000, 'the CRD to serve');
      await fx.admin.eventually(async () => {
        const w = await fx.admin.call<{ metadata: { labels?: Record<string, string> } }>('GET', `${path}/w1`);
        return w.body.metadata?.labels?.seen === 'yes';
      }, 20_000, 'the widget to be labelled');
    } finally {
      await fx.admin.call('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.${group}`);
    }
  });

  it('with maxRetries set, retries a failing action with backoff, then gives up with a Warning Event', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'trigger', {}, {}));
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: create-in-missing-namespace }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.name = 'trigger'"
  actions:
    - create:
        object: { apiVersion: v1, kind: ConfigMap, metadata: { name: x, namespace: no-such-namespace-${fx.ns} } }
`,
      { maxRetries: 3 },
    );
    const gaveUp = await fx.admin.eventually(async () => {
      const found = await events(fx.ns, 'ReflexRetriesExhausted');
      return found.length > 0 ? found : undefined;
    }, 30_000, 'a ReflexRetriesExhausted Warning Event');
    expect(gaveUp[0].note).to.contain('create-in-missing-namespace').and.to.contain('failed 4 times');
    const attempts = running.traces.filter((t) => t.object.name === 'trigger' && t.executed.length > 0).length;
    expect(attempts).to.equal(4);
  });

  it('brings objects in when their namespace gains the selected label', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'waiting', {}, {}));
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: mark-team-configmaps }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaceSelector: "team=${fx.ns}" }
  when: "$not($exists(metadata.labels.team))"
  actions:
    - patch: { patch: { metadata: { labels: { team: "yes" } } } }
`,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const before = await fx.admin.ok<{ metadata: { labels?: Record<string, string> } }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/waiting`);
    expect(before.metadata.labels?.team).to.equal(undefined);
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${fx.ns}`, { metadata: { labels: { team: fx.ns } } }, 'application/merge-patch+json');
    await fx.admin.eventually(async () => {
      const c = await fx.admin.ok<{ metadata: { labels?: Record<string, string> } }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/waiting`);
      return c.metadata.labels?.team === 'yes';
    }, 20_000, 'the ConfigMap to be labelled once its namespace matches');
  });

  it('stops a sync sweep at maxActionsPerRun and reports it, while live events still act', async () => {
    for (let i = 0; i < 6; i++) await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, `pre-${i}`, { sweep: 'yes' }));
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: bounded-sweep }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: sweep=yes }
  when: "$not($exists(metadata.annotations.touched))"
  limits: { maxActionsPerRun: 3 }
  actions:
    - patch: { patch: { metadata: { annotations: { touched: "yes" } } } }
`,
    );
    const warning = await fx.admin.eventually(async () => {
      const found = await events(fx.ns, 'ReflexSweepLimit');
      return found.length > 0 ? found : undefined;
    }, 20_000, 'a ReflexSweepLimit Warning Event');
    expect(warning[0].note).to.contain('maxActionsPerRun (3)');
    const touched = async () => {
      const list = await fx.admin.ok<{ items: { metadata: { annotations?: Record<string, string> } }[] }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps?labelSelector=sweep%3Dyes`);
      return list.items.filter((c) => c.metadata.annotations?.touched === 'yes').length;
    };
    await fx.admin.eventually(async () => (await touched()) === 3, 10_000, 'three objects touched');
    await new Promise((r) => setTimeout(r, 500));
    expect(await touched()).to.equal(3);
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'live-one', { sweep: 'yes' }));
    await fx.admin.eventually(async () => (await touched()) === 4, 10_000, 'the live object touched despite the stopped sweep');
  });

  it('re-evaluates cached objects on the resync period, without relisting', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'resynced', {}, {}));
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: resync-counter }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  on: [resync]
  resync: 1s
  when: "metadata.name = 'resynced'"
  actions:
    - log: { message: "resync of {{ metadata.name }}" }
`,
    );
    await fx.admin.eventually(async () => running!.traces.filter((t) => t.event === 'resync' && t.object.name === 'resynced').length >= 2, 10_000, 'two resync evaluations');
    expect(running.traces.every((t) => t.event === 'resync')).to.equal(true);
  });

  it('places a target of a kind no rule watches in the trigger\'s namespace, from discovery', async () => {
    const group = `${fx.ns}.scope.test`;
    await fx.admin.ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `gadgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget', listKind: 'GadgetList' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    try {
      const path = `/apis/${group}/v1/namespaces/${fx.ns}/gadgets`;
      await fx.admin.eventually(async () => (await fx.admin.call('POST', path, { apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1' } })).status === 201, 20_000, 'the CRD to serve');
      await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'poke', {}, {}));
      running = await startController(
        fx,
        `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: poke-gadget }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.name = 'poke'"
  actions:
    - patch:
        target: { apiVersion: ${group}/v1, kind: Gadget, name: g1 }
        patch: { metadata: { labels: { poked: "yes" } } }
`,
      );
      await fx.admin.eventually(async () => {
        const g = await fx.admin.ok<{ metadata: { labels?: Record<string, string> } }>('GET', `${path}/g1`);
        return g.metadata.labels?.poked === 'yes';
      }, 20_000, 'the gadget in the trigger\'s namespace to be patched');
      expect(running.traces.find((t) => t.rule === 'poke-gadget')?.planned[0]).to.deep.include({ target: { apiVersion: `${group}/v1`, kind: 'Gadget', namespace: fx.ns, name: 'g1' } });
    } finally {
      await fx.admin.call('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.${group}`);
    }
  });

  it('refuses a write to a namespaced kind that names no namespace, instead of writing in its own namespace', async () => {
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: unplaced }
spec:
  watch: { apiVersion: v1, kind: Namespace }
  when: "metadata.name = '${fx.ns}'"
  actions:
    - patch:
        target: { apiVersion: v1, kind: ConfigMap, name: anywhere }
        patch: { data: { x: "1" } }
`,
    );
    const failed = await fx.admin.eventually(async () => running!.traces.find((t) => t.rule === 'unplaced' && t.executed.length > 0), 20_000, 'the refused action');
    expect(failed.executed[0].outcome).to.equal('failed');
    expect(failed.executed[0].error).to.contain('the kind is namespaced but the action names no namespace').and.to.contain('set target.namespace');
  });

  it('closes the watch of a rule\'s old selector when a reload changes it', async () => {
    const rule = (sel: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: selective }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: "${sel}" }
  actions:
    - log: { message: hi }
`;
    running = await startController(fx, rule('tier=one'));
    const watching = () => running!.factory.list().map((i) => i.description);
    expect(watching().some((d) => d.includes('tier=one'))).to.equal(true);
    const { rules } = loadRules([{ file: 'rules.yaml', text: rule('tier=two') }]);
    await running.controller.setRules(new Map(rules.map((r) => [r.name, r])));
    expect(watching().some((d) => d.includes('tier=two'))).to.equal(true);
    expect(watching().some((d) => d.includes('tier=one'))).to.equal(false);
  });

  it('keeps metadata.managedFields in the cache of a rule that reads them, and drops them for others', async () => {
    // (An object with fields besides its name: the server records managedFields only for fields it manages.)
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'managed', {}, { a: '1' }));
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: reads-fields }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: "!nothing" }
  when: "$count(metadata.managedFields) > 0"
  actions:
    - log: { message: seen }
---
apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: plain }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  actions:
    - log: { message: seen }
`,
    );
    await fx.admin.eventually(async () => running!.traces.find((t) => t.rule === 'reads-fields' && t.object.name === 'managed')?.condition === true, 20_000, 'the rule reading managedFields to see them');
    const caches = running.factory.list().map((i) => ({ selective: i.description.includes('!nothing'), managed: i.store.list().find((o) => o.metadata?.name === 'managed') }));
    expect(caches.find((c) => c.selective)?.managed?.metadata?.managedFields).to.be.an('array').with.length.greaterThan(0);
    expect(caches.find((c) => !c.selective)?.managed?.metadata).to.not.have.property('managedFields');
  });

  it('does not queue keys whose condition is decided false on the object, and acts once it holds', async () => {
    for (let i = 0; i < 20; i++) await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, `quiet-${i}`, {}, {}));
    let adds = 0;
    const queueMetrics = { depth() {}, add: () => void adds++, queueLatency() {}, workDuration() {}, retry() {} };
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: only-flagged }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.labels.flag = 'on'"
  actions:
    - patch: { patch: { metadata: { annotations: { flagged: "yes" } } } }
`,
      { hooks: {}, queueMetrics },
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(adds, 'no key queued for objects the condition rejects').to.equal(0);
    await fx.admin.ok('PATCH', `/api/v1/namespaces/${fx.ns}/configmaps/quiet-3`, { metadata: { labels: { flag: 'on' } } }, 'application/merge-patch+json');
    await fx.admin.eventually(async () => {
      const c = await fx.admin.ok<{ metadata: { annotations?: Record<string, string> } }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps/quiet-3`);
      return c.metadata.annotations?.flagged === 'yes';
    }, 20_000, 'the flagged object to be acted on');
    expect(adds).to.be.at.least(1).and.at.most(3);
  });

  it('with traces watched, evaluates what it evaluates without them; a rule added later sees cached objects as sync', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'quiet', {}, {}));
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'flagged', { flag: 'yes' }, {}));
    const rule = (name: string, value: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: ${name} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.labels.flag = '${value}'"
  actions:
    - log: { message: flagged }
`;
    const evaluated: string[] = [];
    const traces: ControllerTrace[] = [];
    running = await startController(fx, rule('first', 'on'), {
      hooks: { trace: (t) => traces.push(t), tracing: () => true, evaluated: (r, result) => evaluated.push(`${r} ${result}`) },
    });
    // Same watch, so the same (synced) informer: the new rule is handed its cached objects.
    const both = loadRules([{ file: 'rules.yaml', text: `${rule('first', 'on')}---\n${rule('second', 'yes')}` }]).rules;
    await running.controller.setRules(new Map(both.map((r) => [r.name, r])));
    await fx.admin.eventually(async () => traces.some((t) => t.rule === 'second'), 10_000, 'the later rule to see the cached object');
    expect(traces.map((t) => `${t.rule} ${t.object.name} ${t.event} ${t.condition}`)).to.deep.equal(['second flagged sync true']);
    expect(evaluated).to.deep.equal(['second match']);
  });

  it('merges a change the rule index decides false into a change still pending for the object', async () => {
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, cm(fx.ns, 'held', {}, {}));
    running = await startController(
      fx,
      `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: only-flagged }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}] }
  when: "metadata.labels.flag = 'on'"
  actions:
    - log: { message: flagged }
`,
      { hooks: {}, workers: 0 }, // no traces, and no worker: changes stay pending
    );
    const pendingOf = () => running!.controller.intake.peek(`only-flagged|${fx.ns}/held`);
    const label = (flag: string) => fx.admin.ok('PATCH', `/api/v1/namespaces/${fx.ns}/configmaps/held`, { metadata: { labels: { flag } } }, 'application/merge-patch+json');
    await new Promise((r) => setTimeout(r, 500));
    expect(pendingOf(), 'nothing pending while the condition is false').to.equal(undefined);
    await label('on');
    await fx.admin.eventually(async () => pendingOf()?.last.metadata?.labels?.flag === 'on', 10_000, 'a pending change');
    await label('off'); // decided false by the index, yet merged: the pending change now holds the newest state
    await fx.admin.eventually(async () => pendingOf()?.last.metadata?.labels?.flag === 'off', 10_000, 'the newer state merged');
  });
});
