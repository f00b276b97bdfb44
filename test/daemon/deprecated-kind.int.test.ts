/** The daemon reads `kind: Rule` without a namespace from a file as a ClusterRule, and logs its deprecation once, not at every reload. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DaemonProcess } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';
import { kubectlApply, testConfig } from './daemon-support.js';

const rule = (kind: string, name: string, ns: string) =>
  `apiVersion: reflex.dev/v1alpha1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${ns}] }\n  actions:\n    - log: { message: "seen {{ metadata.name }}" }\n`;

describe('daemon: kind Rule without a namespace in a rule file', function () {
  this.timeout(90_000);
  const fx = useCluster();
  let daemon: DaemonProcess | undefined;
  afterEach(async () => {
    await daemon?.stop('SIGKILL');
    daemon = undefined;
  });

  it('runs it as a ClusterRule and warns once in one line, across reloads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflex-kind-'));
    writeFileSync(join(dir, 'old.yaml'), rule('Rule', 'old-style', fx.ns));
    writeFileSync(join(dir, 'new.yaml'), rule('ClusterRule', 'new-style', fx.ns));
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--rules', dir] });
    const warned = await daemon.waitForLog((l) => l.message === 'deprecated rule kind', 20_000, 'the deprecation warning');
    expect(warned.level).to.equal('warn');
    expect(String(warned.warning)).to.equal(`${join(dir, 'old.yaml')}:2:7: kind: Rule without metadata.namespace is read as ClusterRule; this form is deprecated, write kind: ClusterRule`);
    expect(String(warned.warning)).not.to.contain('\n');
    await daemon.waitForLog((l) => /^rules loaded: 2 rules/.test(l.message), 20_000, 'the first load');
    // A reload (a third file) keeps the same warning silent.
    writeFileSync(join(dir, 'third.yaml'), rule('ClusterRule', 'third', fx.ns));
    await daemon.waitForLog((l) => /^rules loaded: 3 rules/.test(l.message), 20_000, 'the reload');
    expect(daemon.lines.filter((l) => l.message === 'deprecated rule kind')).to.have.length(1);
    expect(daemon.lines.filter((l) => l.message === 'invalid rule')).to.deep.equal([]);
    kubectlApply(fx, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe, namespace: ${fx.ns}}\n`);
    await daemon.waitForLog((l) => l.message === 'seen probe' && l.rule === 'old-style', 20_000, 'the deprecated rule acting');
  });
});
