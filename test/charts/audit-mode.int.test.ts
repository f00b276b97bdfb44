/** Bundled rules in audit mode: bundledRules.modes turns a rule on that plans and logs and writes nothing. */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load, loadAll } from 'js-yaml';
import { useCluster } from '../support/cluster.js';
import { repoRoot } from '../support/control-plane.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { ensureHelm, helm } from '../support/helm.js';
import { serviceAccountKubeconfig } from '../daemon/daemon-support.js';
import { chartDir, only, render, renderText, type Manifest } from './render.js';

type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Config = { rules: { paths: string[]; audit: string[] } };

const READ = ['get', 'list', 'watch'];
const configOf = (manifests: Manifest[]) => load((only(manifests, 'ConfigMap', 'rx-reflex-config') as Manifest & { data: Record<string, string> }).data['reflex.yaml']) as Config;
const clusterRules = (manifests: Manifest[]) => (only(manifests, 'ClusterRole') as Manifest & { rules: PolicyRule[] }).rules;
const writeVerbs = (rules: PolicyRule[]) => rules.flatMap((r) => r.verbs.filter((v) => !READ.includes(v)).map((v) => `${v} ${r.resources.join(',')}`));
/** What the daemon itself is granted with no rule enabled (rule objects' status, impersonation for namespaced rules…). */
const baseline = () => clusterRules(render('rs'));
/** The write verbs a rendering grants beyond the baseline: what its enabled rules may write. */
const ruleWrites = (rules: PolicyRule[]) => {
  const base = new Set(writeVerbs(baseline()));
  return writeVerbs(rules).filter((w) => !base.has(w));
};

describe('charts/reflex: bundled rules in audit mode', function () {
  this.timeout(180_000);
  before(() => ensureHelm());

  it('loads a rule named in bundledRules.modes in audit mode, with only reading verbs in the ClusterRole', () => {
    const m = render('rs', { bundledRules: { modes: { 'namespace-ttl': 'audit' } } });
    expect(configOf(m).rules).to.deep.include({ paths: ['/app/rules/namespace-ttl.yaml'], audit: ['namespace-ttl'] });
    expect(clusterRules(m).length).to.be.greaterThan(baseline().length);
    expect(ruleWrites(clusterRules(m))).to.deep.equal([]);
    expect(clusterRules(m)).to.deep.include({ apiGroups: [''], resources: ['namespaces'], verbs: READ });
  });

  it('runs bundledRules.rules in enforce mode, with their write verbs, unless modes says audit', () => {
    const enforced = render('rs', { bundledRules: { rules: ['namespace-ttl'] } });
    expect(configOf(enforced).rules).to.deep.include({ paths: ['/app/rules/namespace-ttl.yaml'], audit: [] });
    expect(ruleWrites(clusterRules(enforced))).to.include('delete namespaces');
    const both = render('rs', { bundledRules: { rules: ['namespace-ttl', 'deployment-pdb'], modes: { 'namespace-ttl': 'audit' } } });
    expect(configOf(both).rules).to.deep.include({ paths: ['/app/rules/deployment-pdb.yaml', '/app/rules/namespace-ttl.yaml'], audit: ['namespace-ttl'] });
    expect(ruleWrites(clusterRules(both))).to.not.include('delete namespaces');
    expect(ruleWrites(clusterRules(both))).to.include('create poddisruptionbudgets');
  });

  it('loads nothing with bundledRules.enabled=false, whatever the modes', () => {
    const m = render('rs', { bundledRules: { enabled: false, modes: { 'namespace-ttl': 'audit' } } });
    expect(configOf(m).rules).to.deep.include({ paths: [], audit: [] });
    expect(clusterRules(m)).to.deep.equal(baseline());
  });

  it('refuses an unknown rule name and an unknown mode in helm template', () => {
    expect(() => renderText('rs', { bundledRules: { modes: { bogus: 'audit' } } })).to.throw(/additional properties 'bogus' not allowed/);
    expect(() => renderText('rs', { bundledRules: { modes: { 'namespace-ttl': 'loud' } } })).to.throw(/value must be one of 'enforce', 'audit'/);
  });

  it('passes helm lint --strict with a rule in audit mode', () => {
    expect(helm(['lint', '--strict', chartDir, '--set', 'bundledRules.modes.namespace-ttl=audit']).stdout).to.contain('0 chart(s) failed');
  });

  describe('installed on the control plane', () => {
    const fx = useCluster();
    let daemon: DaemonProcess | undefined;
    let dir: string | undefined;
    afterEach(async () => {
      await daemon?.stop();
      daemon = undefined;
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('plans and logs what the rule would do, as the chart\'s ServiceAccount, and writes nothing', async () => {
      const release = `rx${Date.now().toString(36)}`;
      const kubeconfig = ['--kubeconfig', fx.cp.kubeconfig, '--namespace', fx.ns];
      helm(['install', release, chartDir, ...kubeconfig, '--set', 'bundledRules.modes.namespace-ttl=audit']);
      try {
        const manifest = (loadAll(helm(['get', 'manifest', release, ...kubeconfig]).stdout) as (Manifest | null)[]).filter((x): x is Manifest => x !== null);
        expect(ruleWrites((only(manifest, 'ClusterRole') as Manifest & { rules: PolicyRule[] }).rules)).to.deep.equal([]);
        // A Namespace whose expiry has passed: namespace-ttl in enforce mode deletes it.
        const expired = `${fx.ns}-expired`;
        await fx.admin.ok('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: expired, annotations: { 'reflex.dev/expires-at': '2020-01-01T00:00:00Z' } } });
        const before = await fx.admin.ok<{ metadata: { uid: string; resourceVersion: string } }>('GET', `/api/v1/namespaces/${expired}`);

        // The daemon as the installed pod would run it: the release's config and ServiceAccount,
        // the bundled rule read from this checkout instead of the image's /app/rules.
        const cm = manifest.find((x) => x.kind === 'ConfigMap' && x.metadata.name.endsWith('-config')) as Manifest & { data: Record<string, string> };
        const cfg = load(cm.data['reflex.yaml']) as Config;
        cfg.rules.paths = cfg.rules.paths.map((p) => p.replace('/app/rules/', `${join(repoRoot, 'rules')}/`));
        dir = mkdtempSync(join(tmpdir(), 'reflex-audit-'));
        writeFileSync(join(dir, 'reflex.yaml'), dump(cfg));
        const sa = (only(manifest, 'ServiceAccount') as Manifest).metadata.name;
        const saKubeconfig = await serviceAccountKubeconfig(fx, fx.ns, sa, { create: false });
        daemon = await DaemonProcess.start({ kubeconfig: saKubeconfig, args: ['--config', join(dir, 'reflex.yaml')], env: { POD_NAMESPACE: fx.ns }, readyTimeoutMs: 60_000 });

        const line = await daemon.waitForLog((l) => String(l.message).startsWith(`audit: would delete Namespace ${expired}`), 60_000, 'the audit line of the delete');
        expect(line.rule).to.equal('namespace-ttl');
        const after = await fx.admin.ok<{ metadata: { uid: string; resourceVersion: string; deletionTimestamp?: string } }>('GET', `/api/v1/namespaces/${expired}`);
        expect(after.metadata.uid).to.equal(before.metadata.uid);
        expect(after.metadata.deletionTimestamp).to.equal(undefined);
        expect(after.metadata.resourceVersion).to.equal(before.metadata.resourceVersion);
        expect(daemon.lines.filter((l) => /forbidden/i.test(String(l.message)) || /forbidden/i.test(String(l.error ?? '')))).to.deep.equal([]);
        await fx.admin.call('DELETE', `/api/v1/namespaces/${expired}`);
      } finally {
        helm(['uninstall', release, ...kubeconfig]);
      }
    });
  });
});
