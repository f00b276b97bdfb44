/** `helm install` with default values on the control plane: nothing outside the release, no rule that writes. */
import { expect } from 'chai';
import { loadAll } from 'js-yaml';
import { useCluster } from '../support/cluster.js';
import { ensureHelm, helm } from '../support/helm.js';
import { chartDir, kubectl, type Manifest } from './render.js';
import { namespacedRulePolicy, ruleObjectPolicy } from '../../src/cli/rbac-policy.js';

const RULE_CRDS = ['clusterrules.reflex.dev', 'rules.reflex.dev'];
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
      // The rule CRDs (crds/) are new unless an earlier test created them; the next test covers them.
      const newCluster = [...clusterAfter].filter((n) => !clusterBefore.has(n) && !RULE_CRDS.some((c) => n === `customresourcedefinition.apiextensions.k8s.io/${c}`)).sort();
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
      // Cluster-wide: what namespaced rules need, and what the daemon needs of rule objects (ClusterRule, Rule and their status).
      expect(role.rules).to.deep.equal([...namespacedRulePolicy(), ...ruleObjectPolicy()]);
      const config = manifest.find((m) => m.kind === 'ConfigMap' && m.metadata.name === `${release}-config`) as Manifest & { data: Record<string, string> };
      const cfg = loadAll(config.data['reflex.yaml'])[0] as { rules: { paths: string[] } };
      expect(cfg.rules.paths).to.deep.equal([]);
      expect(manifest.filter((m) => m.metadata.labels?.['reflex.dev/rules'] === 'true')).to.deep.equal([]);
      expect(helm(['lint', '--strict', chartDir]).stdout).to.contain('0 chart(s) failed');
    } finally {
      helm(['uninstall', release, ...kubeconfig]);
    }
  });
  it('creates the ClusterRule and Rule CRDs (server dry-run renders them), and helm upgrade and uninstall keep them and their objects', () => {
    const release = `reflex-crd-${Date.now().toString(36)}`;
    const kubeconfig = ['--kubeconfig', fx.cp.kubeconfig, '--namespace', fx.ns];
    const k = (args: string[], input?: string) => {
      const r = kubectl(fx.cp.kubeconfig, args, input);
      if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
      return r.stdout;
    };
    // Start without them, so this install is the one creating them.
    kubectl(fx.cp.kubeconfig, ['delete', 'crd', ...RULE_CRDS, '--ignore-not-found', '--wait=true', '--timeout=60s']);
    // helm install --dry-run=server goes through with the CRDs absent; helm template renders them
    // (install has no --include-crds), and the API server accepts what it rendered.
    helm(['install', release, chartDir, ...kubeconfig, '--dry-run=server']);
    const crds = (loadAll(helm(['template', release, chartDir, ...kubeconfig, '--dry-run=server', '--include-crds']).stdout) as (Manifest | null)[]).filter(
      (m): m is Manifest => m !== null && m.kind === 'CustomResourceDefinition',
    );
    expect(crds.map((m) => m.metadata.name).sort()).to.deep.equal(RULE_CRDS);
    k(['apply', '--dry-run=server', '-f', '-'], crds.map((m) => JSON.stringify(m)).join('\n'));
    expect(kubectl(fx.cp.kubeconfig, ['get', 'crd', ...RULE_CRDS]).status, 'a server dry-run creates nothing').to.not.equal(0);

    helm(['install', release, chartDir, ...kubeconfig]);
    try {
      k(['wait', '--for=condition=Established', '--timeout=30s', ...RULE_CRDS.map((c) => `crd/${c}`)]);
      const crd = JSON.parse(k(['get', 'crd', 'clusterrules.reflex.dev', '-o', 'json'])) as { status: { conditions: { type: string }[] } };
      expect(crd.status.conditions.map((c) => c.type)).not.to.include('NonStructuralSchema');
      const name = `kept-${Date.now().toString(36)}`;
      k(['apply', '-f', '-'], `apiVersion: reflex.dev/v1alpha1\nkind: ClusterRule\nmetadata: {name: ${name}}\nspec:\n  suspend: true\n  watch: {apiVersion: v1, kind: ConfigMap}\n  actions: [{log: {message: x}}]\n`);
      k(['apply', '-n', fx.ns, '-f', '-'], `apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: {name: ${name}}\nspec:\n  suspend: true\n  watch: {apiVersion: v1, kind: ConfigMap}\n  actions: [{log: {message: x}}]\n`);
      const uids = () => RULE_CRDS.map((c) => (JSON.parse(k(['get', 'crd', c, '-o', 'json'])) as { metadata: { uid: string } }).metadata.uid);
      const before = uids();
      helm(['upgrade', release, chartDir, ...kubeconfig, '--set', 'replicaCount=1']);
      expect(uids(), 'the same CRD objects after the upgrade').to.deep.equal(before);
      expect(k(['get', 'clusterrule', name, '-o', 'name']).trim()).to.equal(`clusterrule.reflex.dev/${name}`);
      expect(k(['get', 'rule', name, '-n', fx.ns, '-o', 'name']).trim()).to.equal(`rule.reflex.dev/${name}`);
      helm(['uninstall', release, ...kubeconfig]);
      expect(uids(), 'helm never deletes crds/').to.deep.equal(before);
      expect(k(['get', 'clusterrule', name, '-o', 'name']).trim()).to.equal(`clusterrule.reflex.dev/${name}`);
      k(['delete', 'clusterrule', name]);
    } finally {
      helm(['uninstall', release, ...kubeconfig, '--ignore-not-found']);
    }
  });
});
