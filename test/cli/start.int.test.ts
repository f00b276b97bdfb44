import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { repoRoot } from '../support/control-plane.js';
import { freePort } from '../support/daemon-process.js';
import { useCluster } from '../support/cluster.js';

/** Runs `reflex start ARGS` with `env`; stops it with SIGTERM once `until` holds for stdout (or at exit). */
function start(env: NodeJS.ProcessEnv, args: string[], until: (out: string) => boolean): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'reflex.js'), 'start', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let stopping = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (!stopping && until(out)) {
        stopping = true; // one signal: a second one means "exit now"
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('reflex start (what npm start runs)', function () {
  this.timeout(90_000);
  const fx = useCluster({ namespace: false });

  it('without a kubeconfig context, says so in one line and plans the example rules offline', async () => {
    const home = mkdtempSync(join(tmpdir(), 'reflex-home-'));
    const r = await start({ HOME: home, KUBECONFIG: '' }, [], () => false);
    expect(r.code).to.equal(0);
    expect(r.err.trim().split('\n')).to.have.length(1);
    expect(r.err).to.contain('no kubeconfig context found');
    expect(r.out).to.match(/^RULE\s+TRIGGER\s+ACTION\s+TARGET/m);
    for (const rule of ['copy-registry-secret', 'default-deny-networkpolicy', 'delete-finished-jobs', 'namespace-ttl']) expect(r.out).to.contain(rule);
  });

  it('with a kubeconfig context, runs the daemon with the bundled rules in client dry-run, writing nothing', async () => {
    const ports = ['--metrics-address', `127.0.0.1:${await freePort()}`, '--health-address', `127.0.0.1:${await freePort()}`];
    const r = await start({ KUBECONFIG: fx.cp.kubeconfig }, ports, (out) => /"msg":"dry-run: planned \w+ [^"]+ by [a-z-]+"/.test(out));
    expect(r.err).to.contain('kubeconfig context "reflex-test-admin": running the daemon with the bundled rules in client dry-run');
    expect(r.out).to.match(/"msg":"dry-run: planned \w+ [^"]+ by [a-z-]+"/);
    expect(r.code, `${r.err}\n${r.out.split('\n').filter((l) => l.includes('error')).slice(-3).join('\n')}`).to.equal(0);
  });
});
