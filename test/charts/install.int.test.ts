/** `helm install` with default values on the control plane: nothing outside the release, no rule that writes. */
import { expect } from 'chai';
import { loadAll } from 'js-yaml';
import { useCluster } from '../support/cluster.js';
import { ensureHelm, helm } from '../support/helm.js';
import { chartDir, kubectl, type Manifest } from './render.js';
import { namespacedRulePolicy } from '../../src/cli/rbac-policy.js';

const CLUSTER_KINDS = 'clusterroles,clusterrolebindings,namespaces,customresourcedefinitions,validatingwebhookconfigurations,mutatingwebhookconfigurations,priorityclasses,storageclasses';

describe('charts/reflex: helm install with default values', function () {
  this.timeout(180_000);
  const fx = useCluster();
  before(() => ensureHelm());

  it('creates only the release\'s objects, grants cluster-wide only what namespaced rules need and loads no rule', () => {
    const release = `reflex-${Date.now().toString(36)}`;
    const names = (args: string[]) => new Set(kubectl(fx.cp.kubeconfig, ['get', ...args, '-o', 'name']).stdout.split('\n').filter(Boolean));
    const clusterBefore = names([CLUSTER_KINDS]);
    const nsBefore = names(['all,configmaps,secrets,serviceaccounts,roles,rolebindings,leases,networkpolicies,poddisruptionbudgets', '-n', fx.ns]);
    const kubeconfig = ['--kubeconfig', fx.cp.kubeconfig, '--namespace', fx.ns];
    helm(['install', release, chartDir, ...kubeconfig]);
    try {
      const manifest = (loadAll(helm(['get', 'manifest', release, ...kubeconfig]).stdout) as (Manifest | null)[]).filter((m): m is Manifest => m !== null);
      const clusterAfter = names([CLUSTER_KINDS]);
      const newCluster = [...clusterAfter].filter((n) => !clusterBefore.has(n)).sort();
      expect(newCluster).to.deep.equal([`clusterrole.rbac.authorization.k8s.io/${release}`, `clusterrolebinding.rbac.authorization.k8s.io/${release}`]);
      for (const m of manifest) {
        if (m.kind === 'ClusterRole' || m.kind === 'ClusterRoleBinding') continue;
        expect(m.metadata.namespace, `${m.kind} ${m.metadata.name}`).to.equal(fx.ns);
        expect(m.metadata.labels?.['app.kubernetes.io/instance'], `${m.kind} ${m.metadata.name}`).to.equal(release);
      }
      // Every new object in the namespace is the release's (or helm's record of it).
      const nsAfter = names(['all,configmaps,secrets,serviceaccounts,roles,rolebindings,leases,networkpolicies,poddisruptionbudgets', '-n', fx.ns]);
      const ours = new Set(manifest.map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`));
      const stray = [...nsAfter].filter((n) => !nsBefore.has(n)).filter((n) => {
        const [kind, name] = [n.slice(0, n.indexOf('/')).split('.')[0], n.slice(n.indexOf('/') + 1)];
        if (kind === 'secret' && name.startsWith(`sh.helm.release.v1.${release}.`)) return false;
        if (['pod', 'replicaset'].includes(kind) && name.startsWith(`${release}-`)) return false; // the Deployment's own
        return !ours.has(`${kind}/${name}`);
      });
      expect(stray, 'objects in the namespace that are not the release\'s').to.deep.equal([]);
      const role = manifest.find((m) => m.kind === 'ClusterRole') as Manifest & { rules: unknown[] };
      expect(role.rules).to.deep.equal(namespacedRulePolicy());
      const config = manifest.find((m) => m.kind === 'ConfigMap' && m.metadata.name === `${release}-config`) as Manifest & { data: Record<string, string> };
      const cfg = loadAll(config.data['reflex.yaml'])[0] as { rules: { paths: string[] } };
      expect(cfg.rules.paths).to.deep.equal([]);
      expect(manifest.filter((m) => m.metadata.labels?.['reflex.dev/rules'] === 'true')).to.deep.equal([]);
      expect(helm(['lint', '--strict', chartDir]).stdout).to.contain('0 chart(s) failed');
    } finally {
      helm(['uninstall', release, ...kubeconfig]);
    }
  });
});
