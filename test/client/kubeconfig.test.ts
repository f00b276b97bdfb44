import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { inClusterConfig, KubeconfigError, loadConfig } from '../../src/client/index.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(o: { clusters?: string; users?: string; contexts?: string; current?: string }): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    o.clusters ? `clusters:\n${o.clusters}` : '',
    o.users ? `users:\n${o.users}` : '',
    o.contexts ? `contexts:\n${o.contexts}` : '',
    o.current ? `current-context: ${o.current}` : '',
  ].join('\n');
}

describe('loadConfig', () => {
  let dir: string;
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...extra });
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-kubeconfig-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('merges KUBECONFIG files by kubectl rules: first definition wins, current-context from the first file that sets one', () => {
    const a = write('a', kubeconfig({
      clusters: '- name: c1\n  cluster: {server: "https://a.example:6443"}',
      users: '- name: u1\n  user: {token: tok-a}',
      contexts: '- name: x\n  context: {cluster: c1, user: u1, namespace: from-a}',
    }));
    const b = write('b', kubeconfig({
      clusters: '- name: c1\n  cluster: {server: "https://b.example:6443"}\n- name: c2\n  cluster: {server: "https://c2.example"}',
      users: '- name: u2\n  user: {tokenFile: tok}',
      contexts: '- name: x\n  context: {cluster: c2, user: u2}\n- name: y\n  context: {cluster: c2, user: u2}',
      current: 'y',
    }));
    const c = write('c', kubeconfig({ current: 'x' }));
    const cfg = loadConfig({ env: env({ KUBECONFIG: [a, join(dir, 'missing'), b, c].join(delimiter) }), homeDir: dir });
    expect(cfg.contextName).to.equal('y');
    expect(cfg.server).to.equal('https://c2.example');
    expect(cfg.auth).to.deep.equal({ type: 'tokenFile', path: join(dir, 'tok') });
    expect(cfg.files).to.deep.equal([a, b, c]);
    const x = loadConfig({ env: env({ KUBECONFIG: [a, b].join(delimiter) }), context: 'x' });
    expect([x.server, x.namespace, x.auth]).to.deep.equal(['https://a.example:6443', 'from-a', { type: 'token', token: 'tok-a' }]);
  });

  it('reads ~/.kube/config when KUBECONFIG is not set, and an explicit path before both', () => {
    mkdirSync(join(dir, '.kube'));
    writeFileSync(join(dir, '.kube', 'config'), kubeconfig({ clusters: '- name: c\n  cluster: {server: "https://home"}', contexts: '- name: h\n  context: {cluster: c}', current: 'h' }));
    const explicit = write('explicit', kubeconfig({ clusters: '- name: c\n  cluster: {server: "https://explicit"}', contexts: '- name: e\n  context: {cluster: c}', current: 'e' }));
    expect(loadConfig({ env: env(), homeDir: dir }).server).to.equal('https://home');
    expect(loadConfig({ env: env({ KUBECONFIG: join(dir, '.kube', 'config') }), kubeconfig: explicit }).server).to.equal('https://explicit');
  });

  it('resolves every cluster and user field, with file paths relative to the kubeconfig', () => {
    write('ca.crt', PEM);
    write('client.crt', PEM);
    write('client.key', '-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n');
    const p = write('k', kubeconfig({
      clusters: `- name: c\n  cluster:\n    server: https://10.0.0.1:6443/\n    certificate-authority: ca.crt\n    tls-server-name: kubernetes\n    proxy-url: http://proxy:3128\n    insecure-skip-tls-verify: false`,
      users: `- name: u\n  user:\n    client-certificate: client.crt\n    client-key: client.key\n    as: jane\n    as-groups: [dev, ops]\n    as-uid: "42"\n    username: bob\n    password: pw`,
      contexts: '- name: k\n  context: {cluster: c, user: u}',
      current: 'k',
    }));
    const cfg = loadConfig({ kubeconfig: p });
    expect(cfg.server).to.equal('https://10.0.0.1:6443');
    expect(cfg.tls).to.deep.include({ ca: PEM, cert: PEM, serverName: 'kubernetes', insecureSkipTLSVerify: false, caSource: `certificate-authority ${join(dir, 'ca.crt')}` });
    expect(cfg.tls.key).to.include('PRIVATE KEY');
    expect(cfg.proxyUrl).to.equal('http://proxy:3128');
    expect(cfg.impersonate).to.deep.equal({ user: 'jane', groups: ['dev', 'ops'], uid: '42' });
    expect(cfg.auth).to.deep.equal({ type: 'basic', username: 'bob', password: 'pw' });
    expect(cfg.namespace).to.equal('default');
  });

  it('reads exec plugins of v1beta1 with IfAvailable as the default interactiveMode', () => {
    const p = write('k', kubeconfig({
      clusters: `- name: c\n  cluster: {server: "https://s", certificate-authority-data: ${b64(PEM)}}`,
      users: '- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: ./plugin\n      args: [get-token]\n      env: [{name: A, value: b}]\n      provideClusterInfo: true',
      contexts: '- name: k\n  context: {cluster: c, user: u}',
      current: 'k',
    }));
    const cfg = loadConfig({ kubeconfig: p });
    expect(cfg.auth.type).to.equal('exec');
    if (cfg.auth.type !== 'exec') return;
    expect(cfg.auth.exec).to.deep.include({ command: './plugin', args: ['get-token'], env: [{ name: 'A', value: 'b' }], interactiveMode: 'IfAvailable', provideClusterInfo: true, baseDir: dir });
    expect(cfg.tls.caSource).to.equal(`certificate-authority-data of cluster "c" in ${p}`);
  });

  describe('error messages', () => {
    it('says no configuration was found, and what to do', () => {
      const err = catchErr(() => loadConfig({ env: env(), homeDir: dir }));
      expect(err.message).to.equal(
        'no configuration found: KUBECONFIG is not set and ~/.kube/config does not exist, and this is not a pod (KUBERNETES_SERVICE_HOST is not set). Pass --kubeconfig, set KUBECONFIG, or run in a cluster',
      );
    });

    it('names a missing context and lists the contexts that exist', () => {
      const p = write('k', kubeconfig({ clusters: '- name: c\n  cluster: {server: "https://s"}', contexts: '- name: dev\n  context: {cluster: c}\n- name: prod\n  context: {cluster: c}', current: 'dev' }));
      const err = catchErr(() => loadConfig({ kubeconfig: p, context: 'staging' }));
      expect(err.message).to.equal(`context "staging" not found in kubeconfig ${p}; contexts that exist: "dev", "prod"`);
    });

    it('names the malformed kubeconfig and the line and column of the YAML error, without quoting it', () => {
      const p = write('k', 'apiVersion: v1\nusers:\n- name: u\n  user: {token: hunter2\nclusters: [');
      const err = catchErr(() => loadConfig({ kubeconfig: p }));
      expect(err.message).to.match(new RegExp(`^malformed kubeconfig ${p}: invalid YAML at line \\d+, column \\d+: `));
      expect(err.message).not.to.include('hunter2');
      expect(err.file).to.equal(p);
    });

    it('names an unreadable kubeconfig', () => {
      const p = join(dir, 'nope');
      expect(catchErr(() => loadConfig({ kubeconfig: p })).message).to.equal(`cannot read kubeconfig ${p}: the file does not exist`);
    });

    it('says what is wrong in a kubeconfig that parses but is not one', () => {
      const p = write('k', kubeconfig({ clusters: '- cluster: {server: "https://s"}' }));
      expect(catchErr(() => loadConfig({ kubeconfig: p })).message).to.equal(`malformed kubeconfig ${p}: clusters[0] has no name`);
      const q = write('q', kubeconfig({ users: '- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: x}', clusters: '- name: c\n  cluster: {server: "https://s"}', contexts: '- name: k\n  context: {cluster: c, user: u}', current: 'k' }));
      expect(catchErr(() => loadConfig({ kubeconfig: q })).message).to.equal(`malformed kubeconfig ${q}: user "u" exec needs interactiveMode (Never, IfAvailable or Always) with apiVersion v1`);
    });
  });

  describe('in-cluster', () => {
    function saDir(namespace?: string): string {
      const sa = join(dir, 'sa');
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, 'token'), 'sa-token');
      writeFileSync(join(sa, 'ca.crt'), PEM);
      if (namespace) writeFileSync(join(sa, 'namespace'), `${namespace}\n`);
      return sa;
    }

    it('puts an IPv6 service host in brackets and reads the namespace file', () => {
      const cfg = inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, serviceAccountDir: saDir('team-a') });
      expect(cfg.server).to.equal('https://[fd00::1]:443');
      expect(cfg.namespace).to.equal('team-a');
      expect(cfg.auth).to.deep.equal({ type: 'tokenFile', path: join(dir, 'sa', 'token') });
      expect(cfg.tls.ca).to.equal(PEM);
    });

    it('is the fallback when there is no kubeconfig, and can be forced', () => {
      const sa = saDir();
      const e = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '6443' };
      expect(loadConfig({ env: e, homeDir: dir, serviceAccountDir: sa })).to.deep.include({ source: 'in-cluster', server: 'https://10.0.0.1:6443', namespace: 'default' });
      const p = write('k', kubeconfig({ clusters: '- name: c\n  cluster: {server: "https://s"}', contexts: '- name: k\n  context: {cluster: c}', current: 'k' }));
      expect(loadConfig({ env: e, kubeconfig: p, inCluster: true, serviceAccountDir: sa }).source).to.equal('in-cluster');
    });
  });
});

function catchErr(fn: () => unknown): KubeconfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(KubeconfigError);
    return err as KubeconfigError;
  }
  throw new Error('expected a KubeconfigError');
}
