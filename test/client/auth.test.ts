import { expect } from 'chai';
import { mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/core/index.js';
import { createClient, type ExecConfig, ExecPluginError, isUnauthorized } from '../../src/client/index.js';
import { FakeApiServer, json, status } from './fake-server.js';
import { fixture } from './helpers.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'n', name: 'a' };

describe('authentication', () => {
  let server: FakeApiServer;
  let dir: string;
  beforeEach(async () => {
    server = await FakeApiServer.start();
    dir = mkdtempSync(join(tmpdir(), 'reflex-auth-'));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const exec = (env: Record<string, string>, o: Partial<ExecConfig> = {}): ExecConfig => ({
    apiVersion: 'client.authentication.k8s.io/v1',
    command: process.execPath,
    args: [fixture('exec-plugin.mjs'), '--flag'],
    env: Object.entries({ PLUGIN_RUNS_FILE: join(dir, 'runs'), ...env }).map(([name, value]) => ({ name, value })),
    interactiveMode: 'Never',
    provideClusterInfo: false,
    ...o,
  });
  const runs = (): { info: { spec: Record<string, unknown> }; args: string[] }[] => {
    try {
      return readFileSync(join(dir, 'runs'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    } catch {
      return [];
    }
  };
  const authHeaders = () => server.calls().map((r) => r.headers.authorization);

  it('runs an exec plugin once while its credential is valid, and again after it expires', async () => {
    const clock = new FakeClock(Date.now());
    const client = await createClient({ config: server.config({ auth: { type: 'exec', exec: exec({ PLUGIN_TOKEN: 'exec-token', PLUGIN_TTL_MS: '60000' }) } }), qps: 0, clock });
    await client.get(CM);
    await client.get(CM);
    expect(runs()).to.have.length(1);
    clock.advance(61_000);
    await client.get(CM);
    await client.close();
    expect(runs()).to.have.length(2);
    expect(runs()[0].args).to.deep.equal(['--flag']);
    expect(runs()[0].info).to.deep.equal({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', spec: { interactive: false } });
    expect(authHeaders().every((h) => h === 'Bearer exec-token')).to.equal(true);
  });

  it('passes cluster information to the plugin when provideClusterInfo is set', async () => {
    const client = await createClient({ config: server.config({ auth: { type: 'exec', exec: exec({ PLUGIN_TOKEN: 't' }, { provideClusterInfo: true }) } }), qps: 0 });
    await client.get(CM);
    await client.close();
    expect(runs()[0].info.spec.cluster).to.deep.include({ server: server.url, 'insecure-skip-tls-verify': false });
  });

  it('runs the plugin again once after a 401, and then reports the 401', async () => {
    server.on((r, res) => (r.path.includes('configmaps') ? json(res, 401, status(401, 'Unauthorized', 'Unauthorized')) : false));
    const client = await createClient({ config: server.config({ auth: { type: 'exec', exec: exec({ PLUGIN_TOKEN: 't' }) } }), qps: 0 });
    const err = await client.get(CM).catch((e: unknown) => e);
    await client.close();
    expect(isUnauthorized(err)).to.equal(true);
    expect(runs()).to.have.length(2);
    expect(server.calls().filter((r) => r.path.includes('configmaps'))).to.have.length(2);
  });

  it('says a missing plugin was not found, with its install hint', async () => {
    const client = await createClient({ config: server.config({ auth: { type: 'exec', exec: exec({}, { command: 'reflex-no-such-plugin', args: [], installHint: 'Install it from the vendor.' }) } }), qps: 0 });
    const err = await client.get(CM).catch((e: unknown) => e);
    await client.close();
    expect(err).to.be.instanceOf(ExecPluginError);
    expect((err as Error).message).to.equal(
      'exec credential plugin "reflex-no-such-plugin" was not found (reflex-no-such-plugin); install it or fix users[].user.exec.command in the kubeconfig\nInstall it from the vendor.',
    );
  });

  it('includes the stderr of a failing plugin', async () => {
    const client = await createClient({ config: server.config({ auth: { type: 'exec', exec: exec({ PLUGIN_FAIL: 'login expired: run vendor login' }) } }), qps: 0 });
    const err = (await client.get(CM).catch((e: unknown) => e)) as ExecPluginError;
    await client.close();
    expect(err.message).to.equal(`exec credential plugin "${process.execPath}" failed: exited with code 3; its stderr: login expired: run vendor login`);
    expect(err.stderr).to.equal('login expired: run vendor login');
  });

  it('rejects a credential of another apiVersion', async () => {
    const client = await createClient({ config: server.config({ auth: { type: 'exec', exec: exec({ PLUGIN_TOKEN: 't', PLUGIN_API: 'client.authentication.k8s.io/v1beta1' }) } }), qps: 0 });
    const err = await client.get(CM).catch((e: unknown) => e);
    await client.close();
    expect((err as Error).message).to.include('printed an invalid ExecCredential: apiVersion "client.authentication.k8s.io/v1beta1" differs from the kubeconfig\'s client.authentication.k8s.io/v1');
  });

  it('refuses interactiveMode Always without a terminal', async () => {
    const client = await createClient({ config: server.config({ auth: { type: 'exec', exec: exec({ PLUGIN_TOKEN: 't' }, { interactiveMode: 'Always' }) } }), qps: 0 });
    const err = await client.get(CM).catch((e: unknown) => e);
    await client.close();
    expect(process.stdin.isTTY ? 'tty' : (err as Error).message).to.be.oneOf(['tty', `exec plugin ${process.execPath} needs an interactive terminal (interactiveMode: Always), but stdin is not one`]);
  });

  it('re-reads a token file when it is replaced', async () => {
    const path = join(dir, 'token');
    writeFileSync(path, 'first\n');
    const client = await createClient({ config: server.config({ auth: { type: 'tokenFile', path } }), qps: 0 });
    await client.get(CM);
    writeFileSync(join(dir, 'token.new'), 'second');
    renameSync(join(dir, 'token.new'), path);
    await client.get(CM);
    await client.close();
    expect(authHeaders()).to.deep.equal(['Bearer first', 'Bearer second']);
  });

  it('re-reads a token file at least once a minute even when it looks unchanged', async () => {
    const path = join(dir, 'token');
    writeFileSync(path, 'aaaa');
    utimesSync(path, 1_000_000, 1_000_000);
    const clock = new FakeClock(Date.now());
    const client = await createClient({ config: server.config({ auth: { type: 'tokenFile', path } }), qps: 0, clock });
    await client.get(CM);
    writeFileSync(path, 'bbbb'); // same inode and size; the old mtime is put back
    utimesSync(path, 1_000_000, 1_000_000);
    await client.get(CM);
    clock.advance(60_000);
    await client.get(CM);
    await client.close();
    expect(authHeaders()).to.deep.equal(['Bearer aaaa', 'Bearer aaaa', 'Bearer bbbb']);
  });

  it('sends basic auth, and impersonation headers with one line per group', async () => {
    const client = await createClient({
      config: server.config({ auth: { type: 'basic', username: 'bob', password: 'pw' }, impersonate: { user: 'jane', groups: ['dev', 'ops'], uid: '42' } }),
      qps: 0,
    });
    await client.get(CM);
    await client.close();
    const h = server.calls()[0].distinct;
    expect([h.authorization, h['impersonate-user'], h['impersonate-group'], h['impersonate-uid']]).to.deep.equal([[`Basic ${Buffer.from('bob:pw').toString('base64')}`], ['jane'], ['dev', 'ops'], ['42']]);
  });
});
