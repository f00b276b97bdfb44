import { execFileSync } from 'node:child_process';
import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { ruleConfigMap, serviceAccountKubeconfig, writeConfig } from './daemon-support.js';

type CM = { metadata: { labels?: Record<string, string> }; data?: Record<string, string> };

/** The rules a tenant tries: escalate, write and read outside its namespace; and one that stays inside. */
const tenantRules = (tenant: string, victim: string, crb: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: tenant-escalate }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "metadata.name = 'trigger'"
  actions:
    - apply:
        object:
          apiVersion: rbac.authorization.k8s.io/v1
          kind: ClusterRoleBinding
          metadata: { name: ${crb} }
          roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
          subjects: [{ kind: ServiceAccount, name: tenant-user, namespace: ${tenant} }]
---
apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: tenant-escalate-computed }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "metadata.name = 'trigger'"
  actions:
    - apply:
        object:
          apiVersion: "{{ data.group & '/v1' }}"
          kind: "{{ data.kind }}"
          metadata: { name: ${crb}, namespace: ${tenant} }
          roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin }
          subjects: [{ kind: ServiceAccount, name: tenant-user, namespace: ${tenant} }]
---
apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: tenant-cross-write }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "metadata.name = 'trigger'"
  actions:
    - patch: { target: { apiVersion: v1, kind: ConfigMap, namespace: "{{ data.ns }}", name: target }, patch: { data: { owned: "yes" } } }
---
apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: tenant-cross-read }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "metadata.name = 'trigger'"
  actions:
    - apply: { object: { apiVersion: v1, kind: ConfigMap, metadata: { name: copy, namespace: ${tenant} }, data: "{{ $get('v1', 'Secret', data.ns, 'planted').data }}" } }
---
apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: tenant-inside }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "metadata.name = 'trigger'"
  actions:
    - patch: { patch: { metadata: { labels: { seen: "yes" } } } }
`;

describe('tenant rules (end to end, a ServiceAccount with ConfigMap rights in one namespace)', function () {
  this.timeout(120_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  it('cannot make the daemon write or read outside its namespace, even with every namespace read for rules', async () => {
    const tenant = `${fx.ns}-tenant`;
    const victim = `${fx.ns}-victim`;
    const crb = `${fx.ns}-tenant-admin`;
    for (const ns of [tenant, victim]) await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    try {
      await fx.admin.ok('POST', `/api/v1/namespaces/${victim}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'planted' }, stringData: { password: 'planted-value-1f3a' } });
      await fx.admin.ok('POST', `/api/v1/namespaces/${victim}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target' }, data: { a: 'b' } });
      await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${tenant}/roles`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] }],
      });
      await fx.admin.ok('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${tenant}/rolebindings`, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmaps' },
        subjects: [{ kind: 'ServiceAccount', name: 'tenant-user', namespace: tenant }],
      });
      const asTenant = await serviceAccountKubeconfig(fx, tenant, 'tenant-user');
      const apply = (yaml: string) => execFileSync('kubectl', ['--kubeconfig', asTenant, 'apply', '-f', '-'], { input: yaml, encoding: 'utf8' });

      daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', writeConfig(`namespace: ${fx.ns}\nrules: { configMaps: { namespaces: ['*'] } }\nleaderElection: { enabled: false }\n`)] });
      apply(ruleConfigMap(tenant, 'tenant-rules', tenantRules(tenant, victim, crb)));
      const d = daemon;
      const refused = await d.waitForLog((l) => l.level === 'warn' && String(l.error ?? '').includes('tenant-escalate"'), 20_000, 'the static refusal');
      expect(String(refused.error)).to.match(/configmap\/.+\/tenant-rules\/rules\.yaml:\d+:\d+: .*never writes rbac\.authorization\.k8s\.io objects/);
      await d.waitForLog((l) => String(l.message).startsWith('rules loaded') && Number(l.rules) >= 4, 20_000, 'the tenant rules loaded');

      apply(`apiVersion: v1
kind: ConfigMap
metadata: { name: trigger, namespace: ${tenant} }
data: { ns: ${victim}, group: rbac.authorization.k8s.io, kind: ClusterRoleBinding }
`);
      // The rule that stays inside its namespace works.
      await fx.admin.eventually(async () => (await fx.admin.ok<CM>('GET', `/api/v1/namespaces/${tenant}/configmaps/trigger`)).metadata.labels?.seen === 'yes', 20_000, 'the in-namespace label');
      // Each escape is refused, and says so.
      const refusal = (rule: string, pattern: RegExp) =>
        d.waitForLog((l) => l.rule === rule && pattern.test(JSON.stringify(l)), 20_000, `the refusal of ${rule}`);
      await refusal('tenant-escalate-computed', /refused: a tenant rule never writes rbac\.authorization\.k8s\.io objects/);
      await refusal('tenant-cross-write', new RegExp(`refused: namespace \\\\"${victim}\\\\"`));
      await refusal('tenant-cross-read', new RegExp(`\\$get of Secret in namespace \\\\"${victim}\\\\" refused`));

      expect((await fx.admin.call('GET', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${crb}`)).status).to.equal(404);
      expect((await fx.admin.ok<CM>('GET', `/api/v1/namespaces/${victim}/configmaps/target`)).data).to.deep.equal({ a: 'b' });
      expect((await fx.admin.call('GET', `/api/v1/namespaces/${tenant}/configmaps/copy`)).status).to.equal(404);
      const all = JSON.stringify(d.lines) + d.stderr.join('');
      expect(all).not.to.include('planted-value-1f3a');
      expect(all).not.to.include(Buffer.from('planted-value-1f3a').toString('base64'));
    } finally {
      for (const ns of [tenant, victim]) await fx.admin.call('DELETE', `/api/v1/namespaces/${ns}`).catch(() => undefined);
      await fx.admin.call('DELETE', `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${crb}`).catch(() => undefined);
    }
  });
});
