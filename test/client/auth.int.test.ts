import { expect } from 'chai';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import { createClient, ExecPluginError, isForbidden, type KubeApiError, KubeNetworkError } from '../../src/client/index.js';
import { useCluster } from '../support/cluster.js';
import { fixture } from './helpers.js';

/** A free TCP port on 127.0.0.1 with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('client authentication against the control plane', function () {
  this.timeout(60_000);
  const fx = useCluster();
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-auth-int-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Writes a kubeconfig for the test control plane with the given user block (YAML lines under `user:`). */
  function kubeconfig(userYaml: string, cluster: { server?: string; ca?: string } = {}): string {
    const ca = cluster.ca ?? `certificate-authority: ${join(fx.cp.dir, 'ca.crt')}`;
    const path = join(dir, `kubeconfig-${Math.random().toString(36).slice(2, 8)}`);
    writeFileSync(path, [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: test',
      '  cluster:',
      `    server: ${cluster.server ?? fx.cp.server}`,
      `    ${ca}`,
      'users:',
      '- name: me',
      '  user:',
      ...userYaml.split('\n').map((l) => `    ${l}`),
      'contexts:',
      '- name: test',
      '  context: {cluster: test, user: me, namespace: default}',
      'current-context: test',
      '',
    ].join('\n'));
    return path;
  }

  const whoami = async (client: Awaited<ReturnType<typeof createClient>>) => {
    const review = await client.create<KubeObject>({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    return (review.status as { userInfo: { username: string } }).userInfo.username;
  };

  it('authenticates through an exec plugin, running it once while the credential is valid and again after it expires', async () => {
    const runs = join(dir, 'runs');
    const path = kubeconfig([
      'exec:',
      '  apiVersion: client.authentication.k8s.io/v1',
      `  command: ${process.execPath}`,
      `  args: [${JSON.stringify(fixture('exec-plugin.mjs'))}]`,
      '  interactiveMode: Never',
      '  env:',
      `  - {name: PLUGIN_TOKEN, value: ${JSON.stringify(fx.cp.state.adminToken)}}`,
      '  - {name: PLUGIN_TTL_MS, value: "600000"}',
      `  - {name: PLUGIN_RUNS_FILE, value: ${JSON.stringify(runs)}}`,
    ].join('\n'));
    const clock = new FakeClock(Date.now());
    const client = await createClient({ kubeconfig: path, qps: 0, clock });
    try {
      const count = () => readFileSync(runs, 'utf8').trim().split('\n').length;
      const first = await whoami(client);
      await client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns });
      expect(count()).to.equal(1);
      clock.advance(700_000); // past expirationTimestamp (set by the plugin from the real time a moment after the clock started)
      await client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns });
      expect(count()).to.equal(2);
      expect(first).to.equal('reflex-admin'); // the static admin token the plugin printed
      expect(await whoami(client)).to.equal('reflex-admin');
    } finally {
      await client.close();
    }
  });

  it('authenticates with a client certificate an exec plugin returns', async () => {
    const path = kubeconfig([
      'exec:',
      '  apiVersion: client.authentication.k8s.io/v1beta1',
      `  command: ${process.execPath}`,
      `  args: [${JSON.stringify(fixture('exec-plugin.mjs'))}]`,
      '  env:',
      `  - {name: PLUGIN_CERT_FILE, value: ${JSON.stringify(join(fx.cp.dir, 'admin.crt'))}}`,
      `  - {name: PLUGIN_KEY_FILE, value: ${JSON.stringify(join(fx.cp.dir, 'admin.key'))}}`,
    ].join('\n'));
    const client = await createClient({ kubeconfig: path, qps: 0 });
    try {
      expect(await whoami(client)).to.equal('reflex-admin');
    } finally {
      await client.close();
    }
  });

  it('sends the new identity after the token file is replaced (tokens from the TokenRequest API)', async () => {
    const tokens: string[] = [];
    for (const sa of ['robot-one', 'robot-two']) {
      await fx.admin.ok('POST', `/api/v1/namespaces/${fx.ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } });
      const tr = await fx.admin.ok<{ status: { token: string } }>('POST', `/api/v1/namespaces/${fx.ns}/serviceaccounts/${sa}/token`, {
        apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 },
      });
      tokens.push(tr.status.token);
    }
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, tokens[0]);
    const client = await createClient({ kubeconfig: kubeconfig(`tokenFile: ${tokenFile}`), qps: 0 });
    try {
      expect(await whoami(client)).to.equal(`system:serviceaccount:${fx.ns}:robot-one`);
      writeFileSync(`${tokenFile}.new`, tokens[1]);
      renameSync(`${tokenFile}.new`, tokenFile);
      expect(await whoami(client)).to.equal(`system:serviceaccount:${fx.ns}:robot-two`);
    } finally {
      await client.close();
    }
  });

  it('gives the user without grants a typed Forbidden naming the verb and the resource', async () => {
    const client = await createClient({ kubeconfig: fx.cp.noGrantsKubeconfig, qps: 0 });
    try {
      const err = (await client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }).catch((e: unknown) => e)) as KubeApiError;
      expect(isForbidden(err)).to.equal(true);
      expect([err.status, err.verb, err.resource]).to.deep.equal([403, 'list', `configmaps in namespace "${fx.ns}"`]);
      expect(err.message).to.match(new RegExp(`^list configmaps in namespace "${fx.ns}" on ${fx.cp.server}: Forbidden \\(403\\): configmaps is forbidden: User ".+" cannot list resource "configmaps"`));
    } finally {
      await client.close();
    }
  });

  it('checks the server certificate against tls-server-name, and skips the check with insecure-skip-tls-verify', async () => {
    const ca = `certificate-authority: ${join(fx.cp.dir, 'ca.crt')}`;
    const named = await createClient({ kubeconfig: kubeconfig(`token: ${fx.cp.state.adminToken}`, { ca: `${ca}\n    tls-server-name: kubernetes.default` }), qps: 0 });
    const wrong = await createClient({ kubeconfig: kubeconfig(`token: ${fx.cp.state.adminToken}`, { ca: `${ca}\n    tls-server-name: elsewhere.example` }), qps: 0 });
    const insecure = await createClient({ kubeconfig: kubeconfig(`token: ${fx.cp.state.adminToken}`, { ca: 'insecure-skip-tls-verify: true' }), qps: 0 });
    try {
      expect(await whoami(named)).to.equal('reflex-admin');
      const err = (await whoami(wrong).catch((e: unknown) => e)) as KubeNetworkError;
      expect([err.failure, err.message.includes('elsewhere.example')]).to.deep.equal(['tls', true]);
      expect(await whoami(insecure)).to.equal('reflex-admin');
    } finally {
      await Promise.all([named.close(), wrong.close(), insecure.close()]);
    }
  });

  describe('error messages', () => {
    it('names the server and the CA in use on a TLS failure', async () => {
      const ca = fixture('other-ca.crt');
      const client = await createClient({ kubeconfig: kubeconfig(`token: ${fx.cp.state.adminToken}`, { ca: `certificate-authority: ${ca}` }), qps: 0 });
      const err = (await client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }).catch((e: unknown) => e)) as KubeNetworkError;
      await client.close();
      expect(err).to.be.instanceOf(KubeNetworkError);
      expect(err.failure).to.equal('tls');
      expect(err.message).to.match(new RegExp(
        `^get discovery /api(s)? on ${fx.cp.server}: .+: TLS with ${fx.cp.server} failed; the CA in use is certificate-authority ${ca}\\. Check certificate-authority, tls-server-name and the server URL$`,
      ));
      expect(err.message).not.to.include(fx.cp.state.adminToken);
    });

    it('names the server when the connection is refused', async () => {
      const server = `https://127.0.0.1:${await closedPort()}`;
      const client = await createClient({ kubeconfig: kubeconfig('token: x', { server }), qps: 0 });
      const err = (await client.get({ apiVersion: 'v1', kind: 'ConfigMap', name: 'x' }).catch((e: unknown) => e)) as KubeNetworkError;
      await client.close();
      expect(err).to.be.instanceOf(KubeNetworkError);
      expect(err.message).to.match(new RegExp(
        `^get discovery /api(s)? on ${server}: connection refused: nothing accepts connections at ${server}; is the API server running, and is this the right server URL\\?$`,
      ));
    });

    it('includes the stderr of a failing exec plugin, and says when one is missing', async () => {
      const failing = kubeconfig([
        'exec:',
        '  apiVersion: client.authentication.k8s.io/v1beta1',
        `  command: ${process.execPath}`,
        `  args: [${JSON.stringify(fixture('exec-plugin.mjs'))}]`,
        '  env: [{name: PLUGIN_FAIL, value: "error: you must log in first"}]',
      ].join('\n'));
      const c1 = await createClient({ kubeconfig: failing, qps: 0 });
      const e1 = await c1.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }).catch((e: unknown) => e);
      await c1.close();
      expect(e1).to.be.instanceOf(ExecPluginError);
      expect((e1 as Error).message).to.equal(`exec credential plugin "${process.execPath}" failed: exited with code 3; its stderr: error: you must log in first`);

      const missing = kubeconfig('exec: {apiVersion: client.authentication.k8s.io/v1, command: reflex-missing-plugin, interactiveMode: Never, installHint: "Install reflex-missing-plugin first."}');
      const c2 = await createClient({ kubeconfig: missing, qps: 0 });
      const e2 = await c2.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: fx.ns }).catch((e: unknown) => e);
      await c2.close();
      expect((e2 as Error).message).to.equal(
        'exec credential plugin "reflex-missing-plugin" was not found (reflex-missing-plugin); install it or fix users[].user.exec.command in the kubeconfig\nInstall reflex-missing-plugin first.',
      );
    });

    it('says no configuration was found, names a missing context with the ones that exist, and names a malformed file', async () => {
      const none = await createClient({ env: {}, homeDir: dir }).catch((e: unknown) => e);
      expect((none as Error).message).to.match(/^no configuration found: KUBECONFIG is not set and ~\/\.kube\/config does not exist/);
      const ctx = await createClient({ kubeconfig: fx.cp.kubeconfig, context: 'nope' }).catch((e: unknown) => e);
      expect((ctx as Error).message).to.equal(`context "nope" not found in kubeconfig ${fx.cp.kubeconfig}; contexts that exist: "reflex-test-admin"`);
      const bad = join(dir, 'bad');
      writeFileSync(bad, 'clusters: {name: x}\n');
      const mal = await createClient({ kubeconfig: bad }).catch((e: unknown) => e);
      expect((mal as Error).message).to.equal(`malformed kubeconfig ${bad}: "clusters" must be a list`);
    });
  });
});
