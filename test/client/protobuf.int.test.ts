import { expect } from 'chai';
import type { KubeList, KubeObject } from '../../src/core/index.js';
import { createClient, type DynamicClient, isGone, isBadRequest, isNotFound, type KubeApiError, loadProtoTypes, PROTO_OR_JSON_ACCEPT, ProtoListDecoder, type ProtoTypes } from '../../src/client/index.js';
import { useCluster } from '../support/cluster.js';
import { OLDEST_KUBERNETES_VERSION } from '../support/control-plane.js';
import { protobufFixtures } from './protobuf-fixtures.js';

interface Served {
  apiVersion: string;
  resource: string;
  kind: string;
  namespaced: boolean;
}

/** Every resource the server lists, with its preferred and other versions (subresources left out). */
async function servedResources(fx: ReturnType<typeof useCluster>): Promise<Served[]> {
  const out: Served[] = [];
  const groupVersions = ['v1'];
  const groups = await fx.admin.ok<{ groups: { versions: { groupVersion: string }[] }[] }>('GET', '/apis');
  for (const g of groups.groups) for (const v of g.versions) groupVersions.push(v.groupVersion);
  for (const gv of groupVersions) {
    const list = await fx.admin.ok<{ resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }>('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
    for (const r of list.resources) {
      if (!r.name.includes('/') && r.verbs.includes('list')) out.push({ apiVersion: gv, resource: r.name, kind: r.kind, namespaced: r.namespaced });
    }
  }
  return out;
}

const pathOf = (s: Served) => (s.apiVersion === 'v1' ? `/api/v1/${s.resource}` : `/apis/${s.apiVersion}/${s.resource}`);

/** Decodes `bytes` as it would stream in, in chunks of `size` bytes. */
function decodeInChunks(types: ProtoTypes, bytes: Buffer, size: number, dropManagedFields = false): KubeList {
  let early: unknown;
  const d = new ProtoListDecoder(types, (m) => (early = m), undefined, { dropManagedFields });
  for (let i = 0; i < bytes.length; i += size) d.write(bytes.subarray(i, i + size));
  const list = d.end();
  expect(early, 'the metadata is reported').to.deep.equal(list.metadata);
  return list;
}

/** Where two texts first differ, with some context; undefined when equal. */
function firstDifference(a: string, b: string): string | undefined {
  if (a === b) return undefined;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: …${a.slice(Math.max(0, i - 60), i + 60)}… against …${b.slice(Math.max(0, i - 60), i + 60)}…`;
}

function withoutManagedFields(o: KubeObject): KubeObject {
  const { managedFields: _, ...metadata } = o.metadata ?? {};
  return { ...o, metadata };
}

for (const version of [undefined, OLDEST_KUBERNETES_VERSION]) describe(`protobuf lists against the control plane${version ? ` (Kubernetes ${version}, the oldest supported minor)` : ''}`, function () {
  this.timeout(120_000);
  const fx = useCluster({ namespace: false, version });
  const ns = 'protobuf-fixtures';
  let types: ProtoTypes;
  let json: DynamicClient;
  let proto: DynamicClient;

  before(async function () {
    types = await loadProtoTypes();
    await fx.admin.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    for (const [path, body] of protobufFixtures(ns)) {
      const res = await fx.admin.call('POST', path, body);
      if (res.status !== 201 && res.status !== 409) throw new Error(`POST ${path}: HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 400)}`);
    }
    json = await createClient({ kubeconfig: fx.cp.kubeconfig, qps: 0, protobuf: false });
    proto = await createClient({ kubeconfig: fx.cp.kubeconfig, qps: 0 });
  });

  after(async () => {
    await json?.close();
    await proto?.close();
    await fx.admin.call('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
  });

  it('decodes every built-in list the server sends in protobuf into exactly the objects of its JSON', async function () {
    const served = await servedResources(fx);
    const compared: string[] = [];
    const notInTable: string[] = [];
    let objects = 0;
    for (const s of served) {
      if (!types.kind(s.apiVersion, `${s.kind}List`)) {
        notInTable.push(`${s.apiVersion}/${s.kind}`);
        continue;
      }
      // The same snapshot twice: JSON, then protobuf at that list's resourceVersion.
      const j = await fx.admin.call<KubeList>('GET', pathOf(s));
      if (j.status === 405 || j.status === 404) continue; // listed in discovery but not listable (e.g. a virtual resource)
      expect(j.status, `${pathOf(s)} in JSON`).to.equal(200);
      const rv = j.body.metadata?.resourceVersion;
      if (!rv) continue; // a virtual list (componentstatuses): no snapshot to compare against
      const p = await fx.admin.raw(`${pathOf(s)}?resourceVersion=${rv}&resourceVersionMatch=Exact`, PROTO_OR_JSON_ACCEPT);
      expect(p.status, `${pathOf(s)} in protobuf`).to.equal(200);
      expect(p.contentType, `${pathOf(s)} is sent in protobuf`).to.match(/^application\/vnd\.kubernetes\.protobuf/);
      const decoded = decodeInChunks(types, p.bytes, 1 + (objects % 97));
      expect(decoded.kind).to.equal(j.body.kind);
      expect(decoded.apiVersion).to.equal(j.body.apiVersion);
      expect(decoded.metadata?.resourceVersion).to.equal(rv);
      const jsonItems = j.body.items ?? [];
      expect(decoded.items.length, `${pathOf(s)}: items`).to.equal(jsonItems.length);
      for (let i = 0; i < jsonItems.length; i++) {
        const what = `${pathOf(s)} ${jsonItems[i].metadata?.namespace ?? ''}/${jsonItems[i].metadata?.name}`;
        expect(decoded.items[i], what).to.deep.equal(jsonItems[i]);
        // Keys in the same order too: a rule's $string() or $keys() sees no difference.
        expect(firstDifference(JSON.stringify(decoded.items[i]), JSON.stringify(jsonItems[i])), `${what}: key order`).to.equal(undefined);
      }
      const dropped = decodeInChunks(types, p.bytes, 65_536, true);
      expect(dropped.items).to.deep.equal(jsonItems.map(withoutManagedFields));
      compared.push(`${s.apiVersion}/${s.kind}`);
      objects += jsonItems.length;
    }
    // Every kind of the fixtures was compared, with objects.
    for (const [path, body] of protobufFixtures(ns)) {
      const key = `${(body as KubeObject).apiVersion}/${(body as KubeObject).kind}`;
      if (key === 'apiextensions.k8s.io/v1/CustomResourceDefinition') continue; // in JSON: see below
      expect(compared, `${key} (${path}) was compared`).to.include(key);
    }
    expect(compared.length).to.be.greaterThan(40);
    expect(objects).to.be.greaterThan(200);
    // Only custom resources (of whatever CRDs other tests installed) and CustomResourceDefinitions are left to JSON.
    const crds = await fx.admin.ok<{ items: { spec: { group: string; names: { kind: string }; versions: { name: string }[] } }[] }>('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions');
    const custom = new Set(crds.items.flatMap((c) => c.spec.versions.map((v) => `${c.spec.group}/${v.name}/${c.spec.names.kind}`)));
    expect(custom.size).to.be.greaterThan(0);
    expect(notInTable.filter((k) => !custom.has(k))).to.deep.equal(['apiextensions.k8s.io/v1/CustomResourceDefinition']);
  });

  it('the client asks for built-in kinds in protobuf, gets the same objects as in JSON, and custom resources in JSON', async () => {
    for (const kind of ['Pod', 'Service', 'Deployment', 'ConfigMap', 'Secret', 'Lease']) {
      const apiVersion = kind === 'Deployment' ? 'apps/v1' : kind === 'Lease' ? 'coordination.k8s.io/v1' : 'v1';
      const before = proto.listEncodings();
      const a = await json.list({ apiVersion, kind, namespace: ns }, { dropManagedFields: true });
      const b = await proto.list({ apiVersion, kind, namespace: ns, }, { dropManagedFields: true, resourceVersion: a.metadata?.resourceVersion, resourceVersionMatch: 'Exact' });
      expect(proto.listEncodings().protobuf, kind).to.equal(before.protobuf + 1);
      expect(b.items.length, kind).to.be.greaterThan(0);
      expect(b.items, kind).to.deep.equal(a.items);
      expect(b.metadata?.resourceVersion).to.equal(a.metadata?.resourceVersion);
    }
    expect(json.listEncodings()).to.deep.include({ protobuf: 0 });
    // CustomResourceDefinitions (left out of the table) and custom resources come in JSON.
    const widget = { apiVersion: 'protobuf.example.com/v1', kind: 'Widget', namespace: ns };
    await fx.admin.eventually(async () => (await fx.admin.call('POST', `/apis/protobuf.example.com/v1/namespaces/${ns}/widgets`, { ...widget, metadata: { name: 'w' }, spec: { size: 2 } })).status === 201, 30_000, 'the Widget CRD served');
    const before = proto.listEncodings();
    const crds = await proto.list({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' });
    const widgets = await proto.list(widget);
    expect(proto.listEncodings()).to.deep.equal({ protobuf: before.protobuf, json: before.json + 2 });
    expect(crds.items.map((c) => c.metadata?.name)).to.include('widgets.protobuf.example.com');
    expect(widgets.items.map((w) => w.spec)).to.deep.equal([{ size: 2 }]);
  });

  it('pages in protobuf: the continue token and remainingItemCount come early, and every page decodes', async () => {
    const all: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      let early: KubeList['metadata'] | undefined;
      const page = await proto.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns }, { limit: 3, continue: cont, onMetadata: (m) => (early = m) });
      expect(early).to.deep.equal(page.metadata);
      all.push(...page.items.map((i) => i.metadata!.name!));
      cont = page.metadata?.continue || undefined;
      pages++;
    } while (cont);
    const whole = await json.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns });
    expect(all).to.deep.equal(whole.items.map((i) => i.metadata!.name!));
    expect(pages).to.be.greaterThan(1);
  });

  it('an error answered in protobuf keeps the reason and message of the JSON one', async () => {
    const bad = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns };
    const opts = { continue: 'not-a-token', limit: 1 };
    const a = (await json.list(bad, opts).catch((e: unknown) => e)) as KubeApiError;
    const b = (await proto.list(bad, opts).catch((e: unknown) => e)) as KubeApiError;
    expect(isBadRequest(b) || isGone(b), String(b)).to.equal(true);
    expect([b.status, b.reason, b.message]).to.deep.equal([a.status, a.reason, a.message]);
    const notFound = (await proto.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'no-such-object' }).catch((e: unknown) => e)) as KubeApiError;
    expect(isNotFound(notFound)).to.equal(true);
  });
});
