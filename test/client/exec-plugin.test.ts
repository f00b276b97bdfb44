import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/core/index.js';
import type { ExecConfig } from '../../src/client/index.js';
import { ExecCredentialPlugin } from '../../src/client/exec-plugin.js';
import { repoRoot } from '../support/control-plane.js';
import { fixture, until } from './helpers.js';

const plugin = (env: Record<string, string>, o: Partial<ExecConfig> = {}): ExecConfig => ({
  apiVersion: 'client.authentication.k8s.io/v1',
  command: process.execPath,
  args: [fixture('exec-plugin.mjs')],
  env: Object.entries(env).map(([name, value]) => ({ name, value })),
  interactiveMode: 'Never',
  provideClusterInfo: false,
  ...o,
});

describe('ExecCredentialPlugin', () => {
  it('leaves no timer behind when the plugin cannot be started, so a failing command exits at once', async () => {
    const clock = new FakeClock(0);
    const p = new ExecCredentialPlugin(plugin({}, { command: 'reflex-no-such-plugin', args: [] }), { clock, stdinIsTTY: false });
    const err = (await p.get().catch((e: unknown) => e)) as Error;
    expect(err.message).to.match(/was not found/);
    expect(clock.pendingTimers(), 'timers left on the clock').to.equal(0);
  });

  it('leaves no timer behind after a plugin that answered', async () => {
    const clock = new FakeClock(0);
    const p = new ExecCredentialPlugin(plugin({ PLUGIN_TOKEN: 't' }), { clock, stdinIsTTY: false });
    expect((await p.get()).token).to.equal('t');
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('stops a plugin that runs past its time limit, and says so', async () => {
    const clock = new FakeClock(0);
    const p = new ExecCredentialPlugin(plugin({ PLUGIN_HANG: '1' }), { clock, stdinIsTTY: false, timeoutMs: 5000 });
    const result = p.get().catch((e: unknown) => e);
    await until(() => clock.pendingTimers() === 1);
    clock.advance(5000);
    const err = (await result) as Error;
    expect(err.message).to.equal(`exec credential plugin "${process.execPath}" did not finish within 5000 ms and was stopped`);
  });
});

describe('a reflex command whose kubeconfig names a missing exec plugin', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-exec-'));
    writeFileSync(
      join(dir, 'kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]',
        'users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: reflex-no-such-plugin, interactiveMode: Never}}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints that the plugin was not found and exits within 2 s of saying so', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/reflex.js'), 'explain', '--rules', 'rules/propagate-team-label.yaml', '--object', 'Deployment/ns/api', '--kubeconfig', join(dir, 'kubeconfig')], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    let saidAt = 0;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!saidAt && stderr.includes('was not found')) saidAt = Date.now();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    const exitedAfter = Date.now() - saidAt;
    expect(stderr).to.contain('exec credential plugin "reflex-no-such-plugin" was not found');
    expect(code).to.equal(1);
    expect(exitedAfter, 'ms from the error to the exit').to.be.below(2000);
  });
});
