/**
 * What a person at a terminal reads: the daemon's text log (start-up, a planned action, a failed
 * action) and `reflex tail`, captured from real processes against the control plane. At info
 * level every line stays under 160 characters.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useCluster } from '../support/cluster.js';
import { repoRoot } from '../support/control-plane.js';
import { DaemonProcess } from '../support/daemon-process.js';
import { kubectlApply, testConfig } from '../daemon/daemon-support.js';

const rule = (ns: string, name: string, patch: string) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: {name: ${name}}
spec:
  watch: {apiVersion: apps/v1, kind: Deployment, namespaces: [${ns}]}
  when: "$not($exists(metadata.labels.stamped))"
  actions:
    - patch: {patch: ${patch}}
`;

const deployment = (ns: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: registry.example/api:1}]}
`;

/** The daemon's text lines (DaemonProcess keeps what is not JSON as raw lines). */
const textLines = (d: DaemonProcess) => d.lines.filter((l) => l.level === 'raw').map((l) => String(l.message));

async function until<T>(get: () => T | undefined, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('terminal output of the daemon and reflex tail', function () {
  this.timeout(120_000);
  const fx = useCluster();
  let dir: string;
  let daemon: DaemonProcess | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-term-'));
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with one summary of the rules and shows a planned action in one short line', async () => {
    writeFileSync(join(dir, 'stamp.yaml'), rule(fx.ns, 'stamp-label', '{metadata: {labels: {stamped: "yes"}}}'));
    kubectlApply(fx, deployment(fx.ns));
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--rules', dir, '--dry-run=client', '--log-format', 'text'] });
    const planned = await until(() => textLines(daemon!).find((l) => l.includes('dry-run: planned')), 20_000, 'the planned action');
    expect(planned).to.match(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  dry-run: planned patch Deployment ${fx.ns}/api by stamp-label$`));
    const lines = textLines(daemon);
    const summaries = lines.filter((l) => l.includes('rules loaded'));
    expect(summaries).to.have.length(1);
    expect(summaries[0]).to.match(new RegExp(`INFO  rules loaded: 1 rule from ${dir.replace(/[/.]/g, '\\$&')}; watching Deployment rules=1 errors=0 sources=1$`));
    expect(lines.find((l) => l.includes(' starting '))).to.match(/INFO {2}starting server=https:\/\/127\.0\.0\.1:\d+ /);
    for (const l of lines) expect(l.length, l).to.be.lessThan(160);
  });

  it('reports a failed action in one line under 160 characters, and reflex tail shows it too', async () => {
    writeFileSync(join(dir, 'bad.yaml'), rule(fx.ns, 'bad-replicas', '{spec: {replicas: -1}}'));
    daemon = await DaemonProcess.start({ kubeconfig: fx.cp.kubeconfig, args: ['--config', testConfig(fx.ns), '--rules', dir, '--log-format', 'text'] });
    const tail = spawn(process.execPath, [join(repoRoot, 'bin', 'reflex.js'), 'tail', '--url', `ws://127.0.0.1:${daemon.tracesPort}/traces`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tailOut = '';
    let tailErr = '';
    tail.stdout.on('data', (d: Buffer) => (tailOut += d.toString()));
    tail.stderr.on('data', (d: Buffer) => (tailErr += d.toString()));
    try {
      await until(() => (tailErr.includes('connected') ? true : undefined), 10_000, 'tail to connect');
      kubectlApply(fx, deployment(fx.ns));
      const failed = await until(() => textLines(daemon!).find((l) => /WARN|ERROR/.test(l) && l.includes('bad-replicas')), 30_000, 'the failed action');
      expect(failed.length, failed).to.be.lessThan(160);
      expect(failed).to.match(/patch failed/);
      const traced = await until(() => tailOut.split('\n').find((l) => l.includes('bad-replicas') && l.includes('patch failed')), 20_000, 'the failed patch in tail');
      expect(traced).to.match(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} bad-replicas (create|sync) Deployment ${fx.ns}/api: match → patch failed \\d+ms \\(Invalid \\(422\\): `));
      for (const l of [...textLines(daemon), ...tailOut.split('\n'), ...tailErr.split('\n')]) expect(l.length, l).to.be.lessThan(160);
      expect(tailErr.split('\n')[0]).to.equal(`reflex tail: connected to ws://127.0.0.1:${daemon.tracesPort}/traces`);
    } finally {
      tail.kill('SIGINT');
      await new Promise((r) => tail.once('exit', r));
    }
  });
});
