/**
 * The smoke suite: what Reflex needs of the API server — client verbs, discovery, informers with a
 * 410 relist, leader election with a rule acting end to end, and a generate rule — against the
 * oldest supported Kubernetes minor. The rest of the suite runs on the newest (see README, "Supported Kubernetes versions").
 */
import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { createClient, isConflict, isNotFound, type DynamicClient, type KubeClient } from '../../src/client/index.js';
import { SharedInformer, listWatcherFor } from '../../src/informers/index.js';
import { OLDEST_KUBERNETES_VERSION } from '../support/control-plane.js';
import { useCluster } from '../support/cluster.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { HandlerModel, adminClient, compactEtcd, configMap, expectConverged } from '../informers/cluster-helpers.js';
import { LoopbackProxy } from '../informers/tcp-proxy.js';
import { kubectlApply, metricValue, ruleConfigMap, testConfig, writeConfig } from '../daemon/daemon-support.js';

describe(`smoke on Kubernetes ${OLDEST_KUBERNETES_VERSION}, the oldest supported minor`, function () {
  this.timeout(180_000);
  const fx = useCluster({ version: OLDEST_KUBERNETES_VERSION });
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function client(): Promise<DynamicClient> {
    const c = await createClient({ kubeconfig: fx.cp.kubeconfig, qps: 0 });
    cleanups.push(() => c.close());
    return c;
  }
  const cmPath = () => `/api/v1/namespaces/${fx.ns}/configmaps`;
  const serverReady = () =>
    fx.admin.eventually(async () => (await fx.admin.call('GET', '/readyz').catch(() => ({ status: 0 }))).status === 200, 60_000, 'API server ready');

  it('serves that release', async () => {
    const v = await fx.admin.ok<{ gitVersion: string; minor: string }>('GET', '/version');
    expect(v.gitVersion).to.equal(OLDEST_KUBERNETES_VERSION);
    expect(v.minor).to.equal(OLDEST_KUBERNETES_VERSION.split('.')[1]);
  });

  it('round-trips a ConfigMap through create, get, update, four patch types, a paged list and delete', async () => {
    const c = await client();
    const t = { apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns };
    const created = await c.create<KubeObject>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', namespace: fx.ns }, data: { k: 'v' } }, { fieldManager: 'reflex-smoke' });
    const got = await c.get({ ...t, name: 'one' });
    expect(got.metadata?.uid).to.equal(created.metadata?.uid);
    await c.update({ ...got, metadata: { ...got.metadata, labels: { step: 'update' } } });
    const stale = await c.update({ ...got, metadata: { ...got.metadata, labels: { step: 'stale' } } }).catch((e: unknown) => e);
    expect(isConflict(stale), String(stale)).to.equal(true);
    await c.patch({ ...t, name: 'one' }, [{ op: 'add', path: '/metadata/labels/json', value: 'yes' }], { type: 'json' });
    await c.patch({ ...t, name: 'one' }, { metadata: { labels: { merge: 'yes' } } }, { type: 'merge' });
    await c.patch({ ...t, name: 'one' }, { metadata: { labels: { strategic: 'yes' } } }, { type: 'strategic' });
    const applied = await c.patch({ ...t, name: 'one' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one', labels: { apply: 'yes' } } }, { type: 'apply', fieldManager: 'reflex-apply' });
    expect(applied.metadata?.labels).to.deep.equal({ step: 'update', json: 'yes', merge: 'yes', strategic: 'yes', apply: 'yes' });

    for (let i = 0; i < 5; i++) await c.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `page-${i}`, namespace: fx.ns } });
    const names: string[] = [];
    let pages = 0;
    let cont: string | undefined;
    do {
      const page = await c.list(t, { limit: 2, continue: cont });
      pages++;
      names.push(...page.items.map((o) => o.metadata?.name ?? '').filter((n) => n.startsWith('page-')));
      cont = page.metadata.continue || undefined;
    } while (cont);
    expect(names).to.deep.equal(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(pages).to.be.at.least(3);

    await c.delete({ ...t, name: 'one' }, { preconditions: { uid: created.metadata?.uid } });
    expect(isNotFound(await c.get({ ...t, name: 'one' }).catch((e: unknown) => e))).to.equal(true);
  });

  it('discovers core and group resources, and a custom resource whose CRD is installed after the client started', async () => {
    const c = await client();
    expect((await c.resolve('v1', 'ConfigMap')).gvr.resource).to.equal('configmaps');
    expect(await c.resolve('apps/v1', 'Deployment')).to.deep.include({ namespaced: true, subresources: ['scale', 'status'] });
    expect((await c.resolve('coordination.k8s.io/v1', 'Lease')).gvr.resource).to.equal('leases');
    const group = `t${Math.random().toString(36).slice(2, 8)}.reflex.test`;
    const crdName = `gadgets.${group}`;
    await fx.admin.ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    });
    cleanups.push(() => fx.admin.call('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`));
    const info = await fx.admin.eventually(() => c.resolve(`${group}/v1`, 'Gadget').catch(() => undefined), 30_000, 'the Gadget kind to resolve');
    expect(info.gvr.resource).to.equal('gadgets');
    const made = await fx.admin.eventually(
      () => c.create({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g', namespace: fx.ns }, spec: { size: 2 } } as KubeObject).catch(() => undefined),
      30_000,
      'a Gadget to be created',
    );
    expect(made.spec).to.deep.equal({ size: 2 });
  });

  it('syncs an informer, and after a 410 relists once and reports exactly the changes made during the gap', async () => {
    const proxy = await LoopbackProxy.start(fx.cp.state.server);
    cleanups.push(() => proxy.close());
    for (const n of ['keep', 'change', 'gone']) await fx.admin.ok('POST', cmPath(), configMap(n, { v: '0' }));
    const kc: KubeClient = await adminClient(fx, proxy.url());
    const informer = new SharedInformer(listWatcherFor(kc, { apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }));
    const model = new HandlerModel();
    informer.addHandler(model.handler);
    const ac = new AbortController();
    const running = informer.run(ac.signal);
    cleanups.push(async () => {
      ac.abort();
      await running;
      await kc.close();
    });
    expect(await informer.waitForSync(AbortSignal.timeout(60_000))).to.equal(true);
    expect(model.since()).to.have.length(3);

    proxy.partition();
    await fx.admin.eventually(async () => informer.stats().errors >= 1, 30_000, 'the informer to lose its watch');
    await fx.admin.ok('POST', cmPath(), configMap('fresh', { v: '0' }));
    await fx.admin.ok('PATCH', `${cmPath()}/change`, { data: { v: '1' } }, 'application/merge-patch+json');
    await fx.admin.ok('DELETE', `${cmPath()}/gone`);
    await compactEtcd(fx);
    await fx.cp.restart(); // its watch cache starts after the compaction: the informer's resourceVersion is too old
    await serverReady();
    const listsBefore = informer.stats().lists;
    proxy.heal();

    await expectConverged(fx, informer, model, fx.ns, 90_000);
    expect(informer.stats().lists).to.equal(listsBefore + 1);
    expect(model.since().sort()).to.deep.equal([`add ${fx.ns}/fresh`, `delete ${fx.ns}/gone`, `update ${fx.ns}/change {"v":"1"}`]);
  });

  it('keeps a generated object true to its trigger: created, updated with it, pruned when it goes', async () => {
    kubectlApply(
      fx,
      ruleConfigMap(
        fx.ns,
        'rules-generate',
        `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: mirror }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=source }
  generate:
    objects:
      - apiVersion: v1
        kind: ConfigMap
        metadata: { name: "{{ metadata.name }}-mirror" }
        data: { v: "{{ data.v }}" }
`,
      ),
    );
    const d = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns)], readyTimeoutMs: 60_000 });
    cleanups.push(() => d.stop('SIGKILL'));
    const mirror = (v: string | undefined) =>
      fx.admin.eventually(async () => {
        const r = await fx.admin.call<{ data?: Record<string, string> }>('GET', `${cmPath()}/s-mirror`);
        return (v === undefined ? r.status === 404 : r.status === 200 && r.body.data?.v === v) || undefined;
      }, 30_000, v === undefined ? 'the mirror to be pruned' : `the mirror to hold v=${v}`);
    await fx.admin.ok('POST', cmPath(), configMap('s', { v: '1' }, { app: 'source' }));
    await mirror('1');
    await fx.admin.ok('PATCH', `${cmPath()}/s`, { data: { v: '2' } }, 'application/merge-patch+json');
    await mirror('2');
    await fx.admin.ok('DELETE', `${cmPath()}/s`);
    await mirror(undefined);
  });

  it('runs a rule with two leader-elected daemons: only the leader writes, and the other takes over when it is killed', async () => {
    kubectlApply(
      fx,
      ruleConfigMap(
        fx.ns,
        'rules-stamp',
        `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: stamp }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${fx.ns}], labelSelector: app=demo }
  when: "$not(metadata.annotations.stamp = 'yes')"
  actions:
    - patch: { patch: { metadata: { annotations: { stamp: "yes" } } } }
`,
      ),
    );
    const config = writeConfig(`namespace: ${fx.ns}
rules: { configMaps: { namespaces: [${fx.ns}] } }
leaderElection: { enabled: true, leaseName: reflex-smoke, leaseNamespace: ${fx.ns}, leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 0.5 }
`);
    const daemons = await Promise.all([0, 1].map(() => DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', config] })));
    cleanups.push(() => Promise.all(daemons.map((d) => d.stop('SIGKILL'))));
    const leads = async (d: DaemonProcess) => metricValue((await d.get('/metrics', 'metrics')).text, 'reflex_leader') === 1;
    const leaderOf = (ds: DaemonProcess[]) =>
      fx.admin.eventually(async () => {
        const states = await Promise.all(ds.map((d) => leads(d).catch(() => false)));
        return states.filter(Boolean).length === 1 ? ds[states.indexOf(true)] : undefined;
      }, 20_000, 'exactly one leader');
    const stamped = (name: string) =>
      fx.admin.eventually(async () => {
        const c = await fx.admin.ok<{ metadata: { annotations?: Record<string, string> } }>('GET', `${cmPath()}/${name}`);
        return c.metadata.annotations?.stamp === 'yes';
      }, 15_000, `${name} to be stamped`);
    const doneActions = async (d: DaemonProcess) => metricValue((await d.get('/metrics', 'metrics')).text, 'reflex_actions_total', 'outcome="done"') ?? 0;

    const leader = await leaderOf(daemons);
    const follower = daemons[daemons.indexOf(leader) === 0 ? 1 : 0];
    await fx.admin.ok('POST', cmPath(), configMap('one', {}, { app: 'demo' }));
    await stamped('one');
    expect(await doneActions(leader)).to.equal(1);
    expect(await doneActions(follower)).to.equal(0);

    await leader.stop('SIGKILL');
    await fx.admin.eventually(() => leads(follower), 20_000, 'the follower to lead');
    await fx.admin.ok('POST', cmPath(), configMap('two', {}, { app: 'demo' }));
    await stamped('two');
    expect(await doneActions(follower)).to.equal(1);
  });
});
