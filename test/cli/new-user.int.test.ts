/**
 * A new user follows the README's quick start as written: the commands are read from README.md
 * and run through a shell, against the test control plane. It runs in this checkout, not a
 * fresh clone: `npm ci` (which would reinstall the dependencies and compile) is left out, since
 * the suite has installed and compiled them already; every other command runs verbatim.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCluster } from '../support/cluster.js';
import { repoRoot } from '../support/control-plane.js';
import { parseXml } from '../support/xml.js';
import { kubectlApply } from '../daemon/daemon-support.js';

/** The shell blocks of the README's "Quick start" section, one command per line. */
function quickStart(): string[][] {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1].split('\n').filter((l) => l.trim() !== ''));
}

function sh(command: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 180_000 });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('a new user following the README', function () {
  this.timeout(600_000);
  const fx = useCluster();
  const report = join(repoRoot, 'reflex-tests.xml');
  after(() => rmSync(report, { force: true }));

  it('gets a plan offline from npm start, then validates, dry-runs against the cluster and tests the bundled rules', () => {
    const [install, then] = quickStart();
    expect(install).to.deep.equal(['npm ci && npm start']);
    expect(then).to.deep.equal([
      'npx reflex validate rules/',
      'kubectl get deploy -A -o yaml | npx reflex dry-run --rules rules/ --manifests -',
      'npx reflex test rules/ -o junit > reflex-tests.xml',
    ]);

    // npm start with no kubeconfig context: one line on stderr, the offline plan on stdout.
    const home = mkdtempSync(join(tmpdir(), 'reflex-newuser-'));
    try {
      const start = sh(install[0].replace('npm ci && ', ''), { HOME: home, KUBECONFIG: '' });
      expect(start.code, start.err).to.equal(0);
      expect(start.err.trim().split('\n').filter((l) => !l.startsWith('>'))).to.deep.equal([
        'reflex: no kubeconfig context found ($KUBECONFIG or ~/.kube/config); planning the example rules (rules/) against the example manifests (examples/), offline',
      ]);
      expect(start.out).to.match(/^RULE\s+TRIGGER\s+ACTION\s+TARGET/m);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }

    const env = { KUBECONFIG: fx.cp.kubeconfig };
    const validate = sh(then[0], env);
    expect(validate.code, validate.err).to.equal(0);
    expect(validate.out).to.match(/^\d+ rules valid in \d+ files$/m);

    // A Deployment of two replicas: deployment-pdb plans a PodDisruptionBudget beside it.
    kubectlApply(fx, `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ${fx.ns}}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: registry.example/api:1}]}
`);
    const dryRun = sh(then[1], env);
    expect(dryRun.code, dryRun.err).to.equal(0);
    expect(dryRun.out).to.match(new RegExp(`^deployment-pdb +sync Deployment ${fx.ns}/api +apply +PodDisruptionBudget ${fx.ns}/api`, 'm'));

    const test = sh(then[2], env);
    expect(test.code, test.err).to.equal(0);
    expect(existsSync(report)).to.equal(true);
    const root = parseXml(readFileSync(report, 'utf8'));
    const cases = root.children.flatMap((s) => s.children);
    const testFiles = spawnSync('bash', ['-c', 'ls rules/*.test.yaml | wc -l'], { cwd: repoRoot, encoding: 'utf8' }).stdout.trim();
    expect(root.children).to.have.length(Number(testFiles));
    expect(Number(root.attributes.tests)).to.equal(cases.length).and.to.be.greaterThan(Number(testFiles));
    expect(root.attributes.failures).to.equal('0');
    expect(cases.every((c) => c.name === 'testcase' && c.children.length === 0)).to.equal(true);
  });
});
