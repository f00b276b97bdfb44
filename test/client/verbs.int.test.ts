import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { createClient, type DynamicClient, isConflict, isNotFound, type KubeApiError } from '../../src/client/index.js';
import { useCluster } from '../support/cluster.js';

interface Kind {
  apiVersion: string;
  kind: string;
  /** A valid new object named `name` in `ns`. */
  make(name: string, ns: string): KubeObject;
  /** The field to patch, as a JSON-pointer segment under `spec` or `data`. */
  field: 'data' | 'spec';
  status?: Record<string, unknown>;
  /** The server accepts strategic merge patches (not for custom resources). */
  strategic: boolean;
}

const labels = (o: KubeObject) => o.metadata?.labels ?? {};

/** Creates, reads, updates, patches four ways, writes status, deletes and deletes a collection of one kind. */
async function roundTrip(client: DynamicClient, k: Kind, ns: string): Promise<void> {
  const t = { apiVersion: k.apiVersion, kind: k.kind, namespace: ns };
  const dry = await client.create(k.make('one', ns), { dryRun: true, fieldManager: 'reflex-test' });
  expect(dry.metadata?.name).to.equal('one');
  expect(isNotFound(await client.get({ ...t, name: 'one' }).catch((e: unknown) => e))).to.equal(true);

  const created = await client.create(k.make('one', ns), { fieldManager: 'reflex-test' });
  const got = await client.get({ ...t, name: 'one' });
  expect(got.metadata?.uid).to.equal(created.metadata?.uid);

  const updated = await client.update({ ...got, metadata: { ...got.metadata, labels: { step: 'update' } } });
  expect(labels(updated)).to.deep.equal({ step: 'update' });
  const stale = await client.update({ ...got, metadata: { ...got.metadata, labels: { step: 'stale' } } }).catch((e: unknown) => e);
  expect(isConflict(stale), String(stale)).to.equal(true);

  await client.patch({ ...t, name: 'one' }, [{ op: 'add', path: '/metadata/labels/json', value: 'yes' }], { type: 'json' });
  await client.patch({ ...t, name: 'one' }, { metadata: { labels: { merge: 'yes' } } }, { type: 'merge' });
  if (k.strategic) {
    await client.patch({ ...t, name: 'one' }, { metadata: { labels: { strategic: 'yes' } } }, { type: 'strategic' });
  } else {
    const err = (await client.patch({ ...t, name: 'one' }, { metadata: { labels: { strategic: 'yes' } } }, { type: 'strategic' }).catch((e: unknown) => e)) as KubeApiError;
    expect([err.status, err.reason]).to.deep.equal([415, 'UnsupportedMediaType']);
  }
  const applied = await client.patch({ ...t, name: 'one' }, { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: 'one', labels: { apply: 'yes' } } }, { type: 'apply', fieldManager: 'reflex-apply' });
  expect(labels(applied)).to.deep.include({ step: 'update', json: 'yes', merge: 'yes', apply: 'yes', ...(k.strategic ? { strategic: 'yes' } : {}) });

  const dryPatch = await client.patch({ ...t, name: 'one' }, { metadata: { labels: { dry: 'yes' } } }, { dryRun: true });
  expect(labels(dryPatch).dry).to.equal('yes');
  expect(labels(await client.get({ ...t, name: 'one' })).dry).to.equal(undefined);

  if (k.status) {
    const cur = await client.get({ ...t, name: 'one' }, { subresource: 'status' });
    const withStatus = await client.update({ ...cur, status: k.status }, { subresource: 'status' });
    expect(withStatus.status).to.deep.include(k.status);
    const patched = await client.patch({ ...t, name: 'one' }, { status: { observedGeneration: 7 } }, { subresource: 'status' });
    expect((patched.status as Record<string, unknown>).observedGeneration).to.equal(7);
    const ignored = await client.patch({ ...t, name: 'one' }, { status: { observedGeneration: 9 }, metadata: { labels: { viaStatus: 'yes' } } }, { subresource: 'status' });
    expect(labels(ignored).viaStatus, 'the status subresource ignores metadata.labels').to.equal(undefined);
  }

  const wrongUid = await client.delete({ ...t, name: 'one' }, { preconditions: { uid: 'not-the-uid' } }).catch((e: unknown) => e);
  expect(isConflict(wrongUid)).to.equal(true);
  await client.delete({ ...t, name: 'one' }, { preconditions: { uid: created.metadata?.uid }, propagationPolicy: 'Background', gracePeriodSeconds: 0 });
  expect(isNotFound(await client.get({ ...t, name: 'one' }).catch((e: unknown) => e))).to.equal(true);

  for (const n of ['c1', 'c2', 'c3', 'keep']) {
    const o = k.make(n, ns);
    o.metadata = { ...o.metadata, labels: { group: n === 'keep' ? 'keep' : 'sweep' } };
    await client.create(o);
  }
  await client.deleteCollection(t, { labelSelector: 'group=sweep', dryRun: true });
  expect((await client.list(t)).items).to.have.length(4);
  await client.deleteCollection(t, { labelSelector: 'group=sweep' });
  const left = await client.list(t);
  expect(left.items.map((o) => o.metadata?.name)).to.deep.equal(['keep']);
  expect(left.items[0]).to.deep.include({ apiVersion: k.apiVersion, kind: k.kind });
}

describe('client verbs against the control plane', function () {
  this.timeout(120_000);
  const fx = useCluster();
  let client: DynamicClient;
  beforeEach(async () => {
    client = await createClient({ kubeconfig: fx.cp.kubeconfig, qps: 0 });
  });
  afterEach(() => client.close());

  it('round-trips ConfigMaps through every verb and patch type', async () => {
    await roundTrip(client, { apiVersion: 'v1', kind: 'ConfigMap', field: 'data', strategic: true, make: (name, ns) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { k: 'v' } }) }, fx.ns);
  });

  it('round-trips apps/v1 Deployments, their status included', async () => {
    const make = (name: string, ns: string): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace: ns },
      spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.10' }] } } },
    });
    await roundTrip(client, { apiVersion: 'apps/v1', kind: 'Deployment', field: 'spec', strategic: true, status: { replicas: 1, readyReplicas: 1 }, make }, fx.ns);
  });

  it('round-trips a custom resource whose CRD is installed after the client started', async () => {
    const group = `t${Math.random().toString(36).slice(2, 8)}.reflex.test`;
    const crdName = `widgets.${group}`;
    const apiVersion = `${group}/v1`;
    expect((await client.resolve('v1', 'ConfigMap')).gvr.resource).to.equal('configmaps'); // discovery is cached before the CRD exists
    await fx.admin.ok('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wdg'] },
        versions: [{
          name: 'v1', served: true, storage: true, subresources: { status: {} },
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } },
        }],
      },
    });
    try {
      await fx.admin.eventually(async () => {
        const crd = await fx.admin.ok<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`);
        return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      }, 30_000, 'the CRD to be established');
      const info = await fx.admin.eventually(() => client.resolve(apiVersion, 'Widget').catch(() => undefined), 30_000, 'the Widget kind to resolve');
      expect(info).to.deep.include({ namespaced: true, shortNames: ['wdg'], subresources: ['status'] });
      const make = (name: string, ns: string): KubeObject => ({ apiVersion, kind: 'Widget', metadata: { name, namespace: ns }, spec: { size: 1 } });
      await roundTrip(client, { apiVersion, kind: 'Widget', field: 'spec', strategic: false, status: { phase: 'Ready' }, make }, fx.ns);
    } finally {
      await fx.admin.call('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crdName}`);
    }
  });

  it('reports a server-side apply conflict as a typed Conflict without force, and takes the field with force', async () => {
    const t = { apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns, name: 'ssa' };
    const body = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa' }, data: { owner: v } });
    await client.patch(t, body('first'), { type: 'apply', fieldManager: 'manager-a' });
    const err = (await client.patch(t, body('second'), { type: 'apply', fieldManager: 'manager-b' }).catch((e: unknown) => e)) as KubeApiError;
    expect(isConflict(err)).to.equal(true);
    expect(err.details?.causes?.[0]?.field).to.equal('.data.owner');
    const forced = await client.patch(t, body('second'), { type: 'apply', fieldManager: 'manager-b', force: true });
    expect(forced.data).to.deep.equal({ owner: 'second' });
  });

  it('lists 2,000 ConfigMaps with limit=500 in exactly 4 pages', async () => {
    const names = Array.from({ length: 2000 }, (_, i) => `cm-${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(names.slice(i, i + 20).map((name) => client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: fx.ns } })));
    }
    const seen: string[] = [];
    let pages = 0;
    let cont: string | undefined;
    do {
      // The metadata (with the next page's token) is reported before the first item is decoded.
      const order: string[] = [];
      const page = await client.list(
        { apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns },
        {
          limit: 500,
          continue: cont,
          onMetadata: (m) => order.push(`metadata ${m.continue ?? ''}`),
          onItem: (o) => (order.push('item'), o),
        },
      );
      pages++;
      expect(order[0]).to.equal(`metadata ${page.metadata.continue ?? ''}`);
      expect(order.slice(1)).to.have.length(page.items.length);
      expect(page.items.length).to.be.at.most(500);
      seen.push(...page.items.map((o) => o.metadata?.name ?? '').filter((n) => n.startsWith('cm-')));
      cont = page.metadata.continue || undefined;
    } while (cont);
    expect(pages).to.equal(4);
    expect(seen).to.deep.equal(names);
    // From the watch cache (resourceVersion "0") the server answers whole, whatever the limit.
    const cached = await client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }, { limit: 500, resourceVersion: '0' });
    expect(cached.metadata.continue ?? '').to.equal('');
    expect(cached.items.map((o) => o.metadata?.name ?? '').filter((n) => n.startsWith('cm-'))).to.deep.equal(names);
  });

  it('lists metadata only as PartialObjectMetadata', async () => {
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'meta', namespace: fx.ns, labels: { a: 'b' } }, data: { big: 'x'.repeat(1000) } });
    const list = await client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }, { metadataOnly: true, fieldSelector: 'metadata.name=meta' });
    expect(list.kind).to.equal('PartialObjectMetadataList');
    expect(list.items[0]).to.deep.include({ apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata' });
    expect(list.items[0].metadata?.labels).to.deep.equal({ a: 'b' });
    expect(list.items[0]).not.to.have.property('data');
  });
});
