/**
 * The acceptance of namespaced Rule objects: Rules applied with kubectl in namespace A, acting as
 * ServiceAccount `deployer` of A whose Role allows only get/list/watch/patch of Deployments. What
 * the ServiceAccount may do lands; what it may not (a delete the daemon's own identity could make)
 * is Stalled/Forbidden in the Rule's status; a target in namespace B or a ClusterRole is refused
 * (at load when written literally, before sending when computed) with the status saying why, and
 * nothing outside A changes; removing the RoleBinding shows Forbidden in the status.
 */
import { expect } from 'chai';
import { dump } from 'js-yaml';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, writeConfig } from './daemon-support.js';
import { condition, getRule, installCrds, removeCrds, waitCondition } from './crd-support.js';
import { createDeployer, deployment, RBAC } from './deployer-support.js';

type Deploy = { metadata: { labels?: Record<string, string> } };

const watchDeployments = { apiVersion: 'apps/v1', kind: 'Deployment' };

describe('namespaced Rule objects acting as a ServiceAccount (acceptance, end to end)', function () {
  this.timeout(180_000);
  // Registered before useCluster's: it runs before the admin client closes.
  after(async () => {
    if (fx.admin) await removeCrds(fx);
  });
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  it('patch as the ServiceAccount; a delete it may not make, a target in another namespace or a ClusterRole, and a removed RoleBinding show in the status', async () => {
    const a = `${fx.ns}-a`;
    const b = `${fx.ns}-b`;
    for (const ns of [a, b]) await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    try {
      await installCrds(fx);
      await createDeployer(fx, a);
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${b}/deployments`, deployment(b, 'web', { role: 'web' }));
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'web', { role: 'web' }));
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'doomed', { doomed: 'yes' }));
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'reach', {}, { elsewhere: b }));

      daemon = await DaemonProcess.start({
        kubeconfig: fx.cp.kubeconfig,
        args: ['--config', writeConfig(`namespace: ${fx.ns}\nrules: { configMaps: { enabled: false } }\nleaderElection: { enabled: false }\n`)],
      });
      const rule = (name: string, spec: Record<string, unknown>) =>
        kubectlApply(fx, dump({ apiVersion: 'reflex.dev/v1alpha1', kind: 'Rule', metadata: { name, namespace: a }, spec: { serviceAccountName: 'deployer', watch: watchDeployments, ...spec } }));
      rule('label', { when: "metadata.labels.role = 'web'", actions: [{ patch: { patch: { metadata: { labels: { 'reflex-seen': 'yes' } } } } }] });
      rule('delete-doomed', { when: "metadata.labels.doomed = 'yes'", actions: [{ delete: {} }] });
      rule('patch-elsewhere', {
        when: '$exists(metadata.annotations.elsewhere)',
        actions: [{ patch: { target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: '{{ metadata.annotations.elsewhere }}', name: 'web' }, patch: { metadata: { labels: { hijacked: 'yes' } } } } }],
      });
      rule('patch-team-b', { actions: [{ patch: { target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: b, name: 'web' }, patch: { metadata: { labels: { hijacked: 'yes' } } } } }] });
      rule('bind-cluster-role', {
        actions: [{ apply: { object: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${a}-escalated` }, rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] } } }],
      });

      const get = (ns: string, name: string) => fx.admin.ok<Deploy>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
      await fx.admin.eventually(async () => (await get(a, 'web')).metadata.labels?.['reflex-seen'] === 'yes', 30_000, 'the label patched as the ServiceAccount');
      // Ready is written once the rule is loaded and synced; the patch is counted by a later write (at most one per 5 s).
      await waitCondition(fx, 'label', 'Ready', 'True', 20_000, a);
      await fx.admin.eventually(async () => {
        const obj = await getRule(fx, 'label', a);
        return condition(obj, 'Ready')?.status === 'True' && (obj.status?.actionsSucceeded ?? 0) > 0;
      }, 20_000, 'the status of Rule label to count the patch');

      const stalled = async (name: string, reason: string, pattern: RegExp) => {
        const obj = await waitCondition(fx, name, 'Stalled', 'True', 30_000, a);
        const c = obj.status!.conditions!.find((x) => x.type === 'Stalled')!;
        expect(c.reason, c.message).to.equal(reason);
        expect(c.message).to.match(pattern);
        return obj;
      };
      // A delete its Role lacks, though the daemon's own identity may delete: refused as the ServiceAccount.
      const del = await stalled('delete-doomed', 'Forbidden', new RegExp(`User "system:serviceaccount:${a}:deployer" cannot delete resource "deployments"`));
      expect(del.status?.lastError).to.match(/cannot delete resource "deployments"/);
      expect((await fx.admin.call('GET', `/apis/apps/v1/namespaces/${a}/deployments/doomed`)).status).to.equal(200);
      // Another namespace, computed: refused before sending.
      await stalled('patch-elsewhere', 'ActionsFailing', new RegExp(`patch of Deployment ${b}/web refused: namespace "${b}"; a rule of namespace "${a}" writes only there`));
      // Written literally: load errors, positioned.
      await stalled('patch-team-b', 'InvalidRule', new RegExp(`spec\\.actions\\[0\\]\\.patch\\.target\\.namespace: "${b}" is outside "${a}"`));
      await stalled('bind-cluster-role', 'InvalidRule', /apiVersion: a tenant rule never writes rbac\.authorization\.k8s\.io objects/);
      expect((await get(b, 'web')).metadata.labels).to.deep.equal({ app: 'web', role: 'web' });
      expect((await fx.admin.call('GET', `${RBAC}/clusterroles/${a}-escalated`)).status).to.equal(404);

      // The RoleBinding removed: the next patch is refused, and the status says so.
      await fx.admin.ok('DELETE', `${RBAC}/namespaces/${a}/rolebindings/deployer`);
      const removed = Date.now();
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'web2', { role: 'web' }));
      await stalled('label', 'Forbidden', new RegExp(`system:serviceaccount:${a}:deployer`));
      console.log(`      Stalled/Forbidden ${Date.now() - removed} ms after the RoleBinding was removed`);
      expect((await get(a, 'web2')).metadata.labels?.['reflex-seen']).to.equal(undefined);
    } finally {
      for (const ns of [a, b]) await fx.admin.call('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
      await fx.admin.call('DELETE', `${RBAC}/clusterroles/${a}-escalated`).catch(() => undefined);
    }
  });
});
