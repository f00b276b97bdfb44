/**
 * Namespaced rules end to end: rules of namespace A acting as a ServiceAccount of A allowed only to
 * patch Deployments there (and read what it watches), run by a daemon whose own identity may do
 * anything. Its writes are made as the ServiceAccount (a delete its Role lacks is refused 403), its
 * reads are reviewed (a watch of Secrets and a $get of one are Forbidden), nothing outside A
 * changes, removing the RoleBinding turns its patches Forbidden, and a watch allowed later is acted on
 * within the denial's minute, without a change of the objects.
 */
import { expect } from 'chai';
import { DaemonProcess, type LogLine } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, ruleConfigMap, writeConfig } from './daemon-support.js';
import { createDeployer, deployment, RBAC } from './deployer-support.js';

type Deploy = { metadata: { labels?: Record<string, string>; annotations?: Record<string, string> } };

/** Rules of namespace `a`, all acting as ServiceAccount `deployer` of `a`. */
const rules = (a: string) => {
  const head = (name: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: ${name}, namespace: ${a} }
spec:
  serviceAccountName: deployer`;
  return `${head('label-deployments')}
  watch: { apiVersion: apps/v1, kind: Deployment }
  when: "metadata.labels.role = 'web'"
  actions:
    - patch: { patch: { metadata: { labels: { reflex-seen: "yes" } } } }
---
${head('delete-doomed')}
  watch: { apiVersion: apps/v1, kind: Deployment }
  when: "metadata.labels.doomed = 'yes'"
  actions:
    - delete: {}
---
${head('patch-elsewhere')}
  watch: { apiVersion: apps/v1, kind: Deployment }
  when: "$exists(metadata.annotations.elsewhere)"
  actions:
    - patch: { target: { apiVersion: apps/v1, kind: Deployment, namespace: "{{ metadata.annotations.elsewhere }}", name: web }, patch: { metadata: { labels: { hijacked: "yes" } } } }
---
${head('computed-cluster-role')}
  watch: { apiVersion: apps/v1, kind: Deployment }
  when: "$exists(metadata.annotations.grant)"
  actions:
    - apply:
        object:
          apiVersion: "{{ metadata.annotations.grant }}"
          kind: ClusterRole
          metadata: { name: ${a}-escalated, namespace: ${a} }
          rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]
---
${head('read-secret')}
  watch: { apiVersion: apps/v1, kind: Deployment }
  when: "metadata.labels.role = 'web'"
  actions:
    - patch: { patch: { metadata: { annotations: { stolen: "{{ $string($get('v1', 'Secret', '${a}', 'planted').data) }}" } } } }
---
${head('watch-secrets')}
  watch: { apiVersion: v1, kind: Secret }
  actions:
    - patch: { patch: { metadata: { labels: { seen: "yes" } } } }
`;
};

describe('namespaced rules acting as a ServiceAccount (end to end)', function () {
  this.timeout(180_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  it('write as the ServiceAccount, read only what it may, stay in their namespace, and turn Forbidden when its RoleBinding goes', async () => {
    const a = `${fx.ns}-a`;
    const b = `${fx.ns}-b`;
    for (const ns of [a, b]) await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    try {
      const binding = await createDeployer(fx, a);
      await fx.admin.ok('POST', `/api/v1/namespaces/${a}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'planted' }, stringData: { password: 'planted-value-7c1e' } });
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${b}/deployments`, deployment(b, 'web', { role: 'web' }));

      daemon = await DaemonProcess.start({
        kubeconfig: fx.cp.kubeconfig,
        args: ['--config', writeConfig(`namespace: ${fx.ns}\nrules: { configMaps: { namespaces: ['${a}'] } }\nleaderElection: { enabled: false }\n`)],
      });
      const d = daemon;
      kubectlApply(fx, ruleConfigMap(a, 'team-rules', rules(a)));
      await d.waitForLog((l) => String(l.message).startsWith('rules loaded') && Number(l.rules) >= 6, 30_000, 'the namespaced rules loaded');
      const failure = (rule: string, reason: string, pattern: RegExp) =>
        d.waitForLog((l: LogLine) => l.rule === rule && l.reason === reason && pattern.test(String(l.error)), 30_000, `${reason} of ${rule}`);

      // Allowed by its Role: the patch lands.
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'web', { role: 'web' }));
      const get = (ns: string, name: string) => fx.admin.ok<Deploy>('GET', `/apis/apps/v1/namespaces/${ns}/deployments/${name}`);
      await fx.admin.eventually(async () => (await get(a, 'web')).metadata.labels?.['reflex-seen'] === 'yes', 30_000, 'the label patched as the ServiceAccount');

      // Not in its Role, though the daemon's own identity may: refused by the API server as the ServiceAccount.
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'doomed', { doomed: 'yes' }));
      const del = await failure('delete-doomed', 'Forbidden', new RegExp(`User \\\\?"system:serviceaccount:${a}:deployer\\\\?" cannot delete resource \\\\?"deployments\\\\?"`));
      expect(String(del.error)).to.match(/DELETE/);
      expect((await fx.admin.call('GET', `/apis/apps/v1/namespaces/${a}/deployments/doomed`)).status).to.equal(200);

      // Reads its ServiceAccount may not make: a $get of a Secret, a watch of Secrets.
      await failure('read-secret', 'Forbidden', new RegExp(`get secrets in namespace "${a}" refused: ServiceAccount ${a}/deployer`));
      await failure('watch-secrets', 'Forbidden', new RegExp(`list secrets in namespace "${a}" refused: ServiceAccount ${a}/deployer`));
      expect((await get(a, 'web')).metadata.annotations?.stolen).to.equal(undefined);

      // Outside its namespace, and a cluster-scoped RBAC kind: refused before sending, nothing changes.
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'reach', {}, { elsewhere: b, grant: 'rbac.authorization.k8s.io/v1' }));
      await failure('patch-elsewhere', 'Confined', new RegExp(`patch of Deployment ${b}/web refused: namespace "${b}"; a rule of namespace "${a}" writes only there`));
      await failure('computed-cluster-role', 'Confined', /refused: a tenant rule never writes rbac\.authorization\.k8s\.io objects/);
      expect((await get(b, 'web')).metadata.labels).to.deep.equal({ app: 'web', role: 'web' });
      expect((await fx.admin.call('GET', `${RBAC}/clusterroles/${a}-escalated`)).status).to.equal(404);

      // The RoleBinding removed: the next patch is Forbidden, and says who may not do what.
      await fx.admin.ok('DELETE', `${RBAC}/namespaces/${a}/rolebindings/deployer`);
      await fx.admin.ok('POST', `/apis/apps/v1/namespaces/${a}/deployments`, deployment(a, 'web2', { role: 'web' }));
      await failure('label-deployments', 'Forbidden', new RegExp(`system:serviceaccount:${a}:deployer`));
      expect((await get(a, 'web2')).metadata.labels?.['reflex-seen']).to.equal(undefined);

      // Granted later, a denied watch is reviewed again (denials hold 1 minute, re-checked in the
      // background) and the objects that waited on it are evaluated without a change of theirs.
      await fx.admin.ok('POST', `${RBAC}/namespaces/${a}/roles`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'secrets' },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list', 'patch'] }],
      });
      await fx.admin.ok('POST', `${RBAC}/namespaces/${a}/rolebindings`, { ...binding, metadata: { name: 'secrets' }, roleRef: { ...binding.roleRef, name: 'secrets' } });
      const granted = Date.now();
      type Labelled = { metadata: { labels?: Record<string, string> } };
      await fx.admin.eventually(async () => (await fx.admin.ok<Labelled>('GET', `/api/v1/namespaces/${a}/secrets/planted`)).metadata.labels?.seen === 'yes', 100_000, 'the Secret labelled once its watch is allowed');
      console.log(`      a denied watch allowed again: acted on ${Date.now() - granted} ms after the grant`);

      const all = JSON.stringify(d.lines) + d.stderr.join('');
      expect(all).not.to.include('planted-value-7c1e');
      expect(all).not.to.include(Buffer.from('planted-value-7c1e').toString('base64'));
    } finally {
      for (const ns of [a, b]) await fx.admin.call('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
      await fx.admin.call('DELETE', `${RBAC}/clusterroles/${a}-escalated`).catch(() => undefined);
    }
  });
});
