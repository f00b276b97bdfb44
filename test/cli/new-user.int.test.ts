/**
 * A new user follows the README's quick start as written, on a fresh clone: the repository's
 * current HEAD is cloned into a temporary directory (outside the checkout, removed afterwards), and
 * the commands read from README.md run there through a shell, verbatim — `npm ci && npm start`
 * offline (no kubeconfig context), then validate, a dry-run fed by kubectl from the test control
 * plane, and the rule tests as JUnit XML. npm is pointed at the local package cache through its
 * environment (prefer-offline, no audit, no fund, no update check), never by changing the command.
 */
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
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

/** `npm ci` on a fresh clone, from the local package cache, took about 2 minutes on the loaded two-core test machine (tsc included). */
const INSTALL_TIMEOUT_MS = 8 * 60_000;

function sh(command: string, cwd: string, env: NodeJS.ProcessEnv, timeout = 180_000) {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('a new user following the README on a fresh clone', function () {
  this.timeout(INSTALL_TIMEOUT_MS + 5 * 60_000);
  const fx = useCluster();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-newuser-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs with npm ci, gets a plan offline from npm start, then validates, dry-runs against the cluster and tests the bundled rules', () => {
    const [install, then] = quickStart();
    expect(install).to.deep.equal(['npm ci && npm start']);
    expect(then).to.deep.equal([
      'npx reflex validate rules/',
      'kubectl get deploy -A -o yaml | npx reflex dry-run --rules rules/ --manifests -',
      'npx reflex test rules/ -o junit > reflex-tests.xml',
    ]);

    const clone = join(dir, 'reflex');
    execFileSync('git', ['clone', '--quiet', repoRoot, clone]);
    expect(existsSync(join(clone, 'node_modules')), 'a fresh clone has no dependencies').to.equal(false);
    const home = join(dir, 'home');
    mkdirSync(home);
    const npm = {
      npm_config_cache: execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim(),
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };

    // No kubeconfig context (an empty home, no $KUBECONFIG): npm start says so in one line on
    // stderr and prints the offline plan on stdout.
    const started = Date.now();
    const start = sh(install[0], clone, { ...npm, HOME: home, KUBECONFIG: '' }, INSTALL_TIMEOUT_MS);
    expect(start.code, start.err).to.equal(0);
    expect(Date.now() - started).to.be.below(INSTALL_TIMEOUT_MS);
    expect(existsSync(join(clone, 'dist', 'src', 'cli', 'main.js')), 'npm ci built the package').to.equal(true);
    // stderr also holds npm's own lines (script banners, `npm warn …` of the install): reflex's are the rest.
    expect(start.err.trim().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('>') && !/^npm (warn|notice) /.test(l))).to.deep.equal([
      'reflex: no kubeconfig context found ($KUBECONFIG or ~/.kube/config); planning the example rules (rules/) against the example manifests (examples/), offline',
    ]);
    expect(start.out).to.match(/^RULE\s+TRIGGER\s+ACTION\s+TARGET/m);
    expect(start.out).to.match(/^delete-finished-jobs +sync Job ci\/build-7 +delete /m);

    const env = { ...npm, KUBECONFIG: fx.cp.kubeconfig };
    const validate = sh(then[0], clone, env);
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
    const dryRun = sh(then[1], clone, env);
    expect(dryRun.code, dryRun.err).to.equal(0);
    expect(dryRun.out).to.match(new RegExp(`^deployment-pdb +sync Deployment ${fx.ns}/api +apply +PodDisruptionBudget ${fx.ns}/api`, 'm'));

    const test = sh(then[2], clone, env);
    expect(test.code, test.err).to.equal(0);
    const report = join(clone, 'reflex-tests.xml');
    expect(existsSync(report)).to.equal(true);
    const root = parseXml(readFileSync(report, 'utf8'));
    const suites = root.children;
    const cases = suites.flatMap((s) => s.children);
    const testFiles = readdirSync(join(clone, 'rules')).filter((f) => f.endsWith('.test.yaml'));
    expect(root.name).to.equal('testsuites');
    expect(suites.map((s) => s.attributes.name).sort()).to.deep.equal(testFiles.map((f) => `rules/${f}`).sort());
    expect(Number(root.attributes.tests)).to.equal(cases.length).and.to.be.greaterThan(testFiles.length);
    for (const s of suites) expect(Number(s.attributes.tests), s.attributes.name).to.equal(s.children.length);
    expect(root.attributes.failures).to.equal('0');
    expect(root.attributes.errors).to.equal('0');
    expect(cases.every((c) => c.name === 'testcase' && c.children.length === 0)).to.equal(true);
  });
});
