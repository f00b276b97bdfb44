import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { AdminRest } from './admin-rest.js';
import { KUBERNETES_VERSION } from './control-plane.js';
import { useCluster } from './cluster.js';

describe('test control plane', function () {
  const fx = useCluster();

  it('serves the pinned Kubernetes version', async () => {
    const v = await fx.admin.ok<{ gitVersion: string }>('GET', '/version');
    expect(v.gitVersion).to.equal(KUBERNETES_VERSION);
  });

  it('answers /readyz for kubectl with the admin kubeconfig', () => {
    const out = execFileSync('kubectl', ['--kubeconfig', fx.cp.kubeconfig, 'get', '--raw', '/readyz'], { encoding: 'utf8' });
    expect(out.trim()).to.equal('ok');
    expect(fx.cp.kubeconfig).to.contain('kubeconfig');
  });

  it('creates, reads, updates and deletes a ConfigMap over HTTPS', async () => {
    const base = `/api/v1/namespaces/${fx.ns}/configmaps`;
    expect(fx.cp.server).to.match(/^https:\/\//);
    const created = await fx.admin.ok<{ metadata: { resourceVersion: string } }>('POST', base, {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud' }, data: { a: '1' },
    });
    const read = await fx.admin.ok<{ data: Record<string, string>; metadata: { resourceVersion: string } }>('GET', `${base}/crud`);
    expect(read.data).to.deep.equal({ a: '1' });
    const updated = await fx.admin.ok<{ data: Record<string, string>; metadata: { resourceVersion: string } }>('PUT', `${base}/crud`, {
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'crud', resourceVersion: read.metadata.resourceVersion }, data: { a: '2' },
    });
    expect(updated.data.a).to.equal('2');
    expect(updated.metadata.resourceVersion).to.not.equal(created.metadata.resourceVersion);
    await fx.admin.ok('DELETE', `${base}/crud`);
    const gone = await fx.admin.call('GET', `${base}/crud`);
    expect(gone.status).to.equal(404);
  });

  it('forbids the user with no grants', async () => {
    const nogrants = AdminRest.fromState(fx.cp.dir, fx.cp.state, 'nogrants');
    try {
      const res = await nogrants.call<{ reason: string }>('GET', `/api/v1/namespaces/${fx.ns}/configmaps`);
      expect(res.status).to.equal(403);
      expect(res.body.reason).to.equal('Forbidden');
    } finally {
      await nogrants.close();
    }
    const out = execFileSync('kubectl', ['--kubeconfig', fx.cp.noGrantsKubeconfig, 'auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'], { encoding: 'utf8' });
    expect(out).to.equal('reflex-nogrants');
  });

  it('completes a namespace deletion (the namespace controller runs)', async function () {
    this.timeout(60_000);
    const name = `${fx.ns}-del`;
    await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    await fx.admin.ok('POST', `/api/v1/namespaces/${name}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    await fx.admin.ok('DELETE', `/api/v1/namespaces/${name}`);
    await fx.admin.eventually(async () => (await fx.admin.call('GET', `/api/v1/namespaces/${name}`)).status === 404, 50_000, `namespace ${name} to disappear`);
  });

  it('garbage-collects a dependent when its owner is deleted', async function () {
    this.timeout(60_000);
    const base = `/api/v1/namespaces/${fx.ns}/configmaps`;
    const owner = await fx.admin.ok<{ metadata: { uid: string } }>('POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
    await fx.admin.ok('POST', base, {
      apiVersion: 'v1', kind: 'ConfigMap',
      metadata: { name: 'dependent', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid }] },
    });
    await fx.admin.ok('DELETE', `${base}/owner`);
    await fx.admin.eventually(async () => (await fx.admin.call('GET', `${base}/dependent`)).status === 404, 50_000, 'the dependent to be collected');
  });

  it('restarts on the same port with its data kept', async function () {
    this.timeout(120_000);
    const base = `/api/v1/namespaces/${fx.ns}/configmaps`;
    await fx.admin.ok('POST', base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' }, data: { a: '1' } });
    const server = fx.cp.server;
    await fx.cp.restart();
    expect(fx.cp.server).to.equal(server);
    const kept = await fx.admin.eventually(async () => {
      const res = await fx.admin.call<{ data?: Record<string, string> }>('GET', `${base}/kept`).catch(() => undefined);
      return res?.status === 200 ? res.body : undefined;
    }, 30_000, 'the ConfigMap after the restart');
    expect(kept.data).to.deep.equal({ a: '1' });
  });
});
