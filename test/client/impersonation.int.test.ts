/**
 * Impersonation and SubjectAccessReviews against the real API server: a client impersonating a
 * ServiceAccount is authorized as it (what its Role allows passes, what only the admin may do is
 * refused with 403), the server gives it the ServiceAccount's groups, and the AccessReviewer's
 * answers follow its RoleBinding.
 */
import { expect } from 'chai';
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import { createClient, isForbidden, type DynamicClient, type KubeApiError } from '../../src/client/index.js';
import { AccessReviewer } from '../../src/daemon/access-review.js';
import { useCluster } from '../support/cluster.js';
import { serviceAccountKubeconfig } from '../daemon/daemon-support.js';

const RBAC = '/apis/rbac.authorization.k8s.io/v1';

describe('client impersonation and access reviews (real API server)', function () {
  this.timeout(60_000);
  const fx = useCluster();
  let admin: DynamicClient;

  beforeEach(async () => {
    admin = await createClient({ kubeconfig: fx.cp.kubeconfig, qps: 0 });
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } });
    await fx.admin.ok('POST', `${RBAC}/namespaces/${fx.ns}/roles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'patch-configmaps' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'patch'] }],
    });
    await fx.admin.ok('POST', `${RBAC}/namespaces/${fx.ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'robot' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'patch-configmaps' },
      subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: fx.ns }],
    });
    await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target' }, data: { a: 'b' } });
  });
  afterEach(async () => {
    await admin.close();
  });

  it('is authorized as the ServiceAccount, with the groups the server gives it', async () => {
    const user = `system:serviceaccount:${fx.ns}:robot`;
    const as = admin.impersonate({ user });
    const review = await as.create<KubeObject>({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const info = (review.status as { userInfo: { username: string; groups: string[] } }).userInfo;
    expect(info.username).to.equal(user);
    expect(info.groups).to.include.members(['system:serviceaccounts', `system:serviceaccounts:${fx.ns}`, 'system:authenticated']);

    // What its Role allows: a patch, recorded under the field manager sent.
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns, name: 'target' };
    const patched = await as.patch(cm, { data: { a: 'patched' } }, { fieldManager: 'reflex-impersonation-test' });
    expect(patched.data).to.deep.equal({ a: 'patched' });
    expect((patched.metadata?.managedFields as { manager?: string }[] | undefined)?.map((m) => m.manager)).to.include('reflex-impersonation-test');
    // What only the admin may do: refused with 403 naming the ServiceAccount, though the same client unimpersonated may.
    const denied = (await as.delete(cm).catch((e: unknown) => e)) as KubeApiError;
    expect(isForbidden(denied), String(denied)).to.equal(true);
    expect(denied.message).to.include(`User "${user}" cannot delete resource "configmaps"`);
    const elsewhere = (await as.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'default' } }).catch((e: unknown) => e)) as KubeApiError;
    expect(isForbidden(elsewhere)).to.equal(true);
    expect((await admin.get(cm)).data).to.deep.equal({ a: 'patched' });
  });

  it('is refused when the client\'s own identity may not impersonate', async () => {
    const kubeconfig = await serviceAccountKubeconfig(fx, fx.ns, 'no-impersonate');
    const weak = await createClient({ kubeconfig, qps: 0 });
    try {
      const err = (await weak.impersonate({ user: `system:serviceaccount:${fx.ns}:robot` }).get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns, name: 'target' }).catch((e: unknown) => e)) as KubeApiError;
      expect(isForbidden(err), String(err)).to.equal(true);
      // "cannot impersonate resource \"serviceaccounts\"", or on releases with constrained impersonation "cannot impersonate-on:serviceaccount:get …".
      expect(err.message, err.message).to.match(/User "system:serviceaccount:[^"]+:no-impersonate" cannot impersonate/);
    } finally {
      await weak.close();
    }
  });

  it('reviews follow the ServiceAccount\'s RoleBinding: allowed, then denied once the binding is gone and the decision expired', async () => {
    const clock = new FakeClock(Date.now());
    const reviewer = new AccessReviewer({ client: admin, clock });
    const sa = { namespace: fx.ns, name: 'robot' };
    const ask = (verb: 'get' | 'list', resource: string) => reviewer.check(sa, { namespace: fx.ns, group: '', resource, verb });
    expect((await ask('list', 'configmaps')).allowed).to.equal(true);
    expect((await ask('get', 'secrets')).allowed).to.equal(false);
    expect((await ask('list', 'configmaps')).allowed).to.equal(true);
    expect(reviewer.reviews).to.equal(2);
    await fx.admin.ok('DELETE', `${RBAC}/namespaces/${fx.ns}/rolebindings/robot`);
    // RBAC changes reach the authorizer's cache within a moment: poll a fresh review for the denial.
    const deadline = Date.now() + 10_000;
    for (;;) {
      clock.advance(5 * 60_000);
      if (!(await ask('list', 'configmaps')).allowed) break;
      if (Date.now() > deadline) expect.fail('the review still allows list after the RoleBinding was deleted');
      await new Promise((r) => setTimeout(r, 100));
    }
    let denied: unknown;
    await reviewer.require('r', sa, 'list', 'v1', 'ConfigMap', fx.ns).catch((e: unknown) => (denied = e));
    expect(String((denied as Error).message)).to.include(`list configmaps in namespace "${fx.ns}" refused: ServiceAccount ${fx.ns}/robot`);
  });
});
