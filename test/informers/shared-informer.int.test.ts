import { expect } from 'chai';
import type { KubeClient } from '../../src/client/index.js';
import { SharedInformerFactory } from '../../src/informers/index.js';
import { useCluster } from '../support/cluster.js';
import { HandlerModel, adminClient, configMap, expectConverged } from './cluster-helpers.js';

for (const { path, streamingList } of [
  { path: 'LIST', streamingList: false },
  { path: 'streaming list', streamingList: true },
]) describe(`shared informers, listing by ${path} (control plane)`, function () {
  this.timeout(120_000);
  const fx = useCluster();
  let client: KubeClient;
  let factory: SharedInformerFactory;

  beforeEach(async () => {
    client = await adminClient(fx);
    factory = new SharedInformerFactory(client, { streamingList });
  });
  afterEach(async () => {
    await factory.shutdown();
    await client.close();
  });

  const cmPath = () => `/api/v1/namespaces/${fx.ns}/configmaps`;

  it('syncs a namespace’s ConfigMaps and follows creates, updates and deletes', async () => {
    for (const n of ['a', 'b', 'c']) await fx.admin.ok('POST', cmPath(), configMap(n, { v: '0' }));
    const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns });
    const model = new HandlerModel();
    informer.addHandler(model.handler);
    factory.start();
    expect(await factory.waitForSync(AbortSignal.timeout(30_000))).to.equal(true);
    expect(model.since().sort()).to.deep.equal([`add ${fx.ns}/a`, `add ${fx.ns}/b`, `add ${fx.ns}/c`]);
    expect(informer.store.get(`${fx.ns}/a`)?.metadata).to.not.have.property('managedFields');

    await fx.admin.ok('POST', cmPath(), configMap('d'));
    await fx.admin.ok('PATCH', `${cmPath()}/a`, { data: { v: '1' } }, 'application/merge-patch+json');
    await fx.admin.ok('DELETE', `${cmPath()}/b`);
    await expectConverged(fx, informer, model, fx.ns);
    expect(model.since()).to.deep.equal([`add ${fx.ns}/d`, `update ${fx.ns}/a {"v":"1"}`, `delete ${fx.ns}/b`]);
    expect(informer.lister.get(fx.ns, 'a')?.data).to.deep.equal({ v: '1' });
    expect(informer.stats().errors).to.equal(0);
    expect(informer.stats().streamedLists, `listed by ${path}`).to.equal(streamingList ? 1 : 0);
  });

  it('gives a handler added after sync an add for every cached object', async () => {
    await fx.admin.ok('POST', cmPath(), configMap('early'));
    const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns });
    factory.start();
    await informer.waitForSync(AbortSignal.timeout(30_000));
    const late = new HandlerModel();
    informer.addHandler(late.handler);
    expect(late.since()).to.deep.equal([`add ${fx.ns}/early`]);
  });

  it('keeps only objects matching its label selector', async () => {
    await fx.admin.ok('POST', cmPath(), configMap('web', {}, { app: 'web' }));
    await fx.admin.ok('POST', cmPath(), configMap('db', {}, { app: 'db' }));
    const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns, labelSelector: 'app=web' });
    factory.start();
    await informer.waitForSync(AbortSignal.timeout(30_000));
    expect(informer.store.keys()).to.deep.equal([`${fx.ns}/web`]);
    await fx.admin.ok('POST', cmPath(), configMap('web2', {}, { app: 'web' }));
    await fx.admin.ok('POST', cmPath(), configMap('db2', {}, { app: 'db' }));
    await fx.admin.eventually(async () => informer.store.size === 2, 10_000, 'web2 in the cache');
    expect(informer.lister.list(fx.ns).map((o) => o.metadata?.name)).to.deep.equal(['web', 'web2']);
  });

  it('caches metadata only for a metadata-only informer', async () => {
    await fx.admin.ok('POST', cmPath(), configMap('m', { big: 'x'.repeat(1000) }, { app: 'meta' }));
    const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns, metadataOnly: true });
    factory.start();
    await informer.waitForSync(AbortSignal.timeout(30_000));
    expect(informer.stats().streamedLists, `listed by ${path}`).to.equal(streamingList ? 1 : 0);
    const listed = informer.lister.get(fx.ns, 'm');
    expect(listed).to.not.have.property('data');
    expect(listed?.metadata?.labels).to.deep.equal({ app: 'meta' });
    expect(listed?.kind).to.equal('PartialObjectMetadata');
    await fx.admin.ok('POST', cmPath(), configMap('n', { big: 'y' }));
    await fx.admin.eventually(async () => informer.store.size === 2, 10_000, 'n in the cache');
    const watched = informer.lister.get(fx.ns, 'n');
    expect(watched).to.not.have.property('data');
    expect(watched?.kind).to.equal('PartialObjectMetadata');
  });

  it('re-delivers cached objects at a handler’s resync period without listing again', async () => {
    await fx.admin.ok('POST', cmPath(), configMap('r'));
    const informer = factory.informerFor({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns });
    let resyncs = 0;
    informer.addHandler({ update: (old, obj) => void (old === obj && resyncs++) }, { resyncPeriodMs: 300 });
    factory.start();
    await informer.waitForSync(AbortSignal.timeout(30_000));
    await fx.admin.eventually(async () => resyncs >= 2, 10_000, 'two resyncs');
    expect(informer.stats().lists).to.equal(1);
  });
});
