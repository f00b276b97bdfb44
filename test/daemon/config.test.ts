import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  DaemonConfigError,
  envVariables,
  loadDaemonConfig,
  parseDurationSeconds,
  resolveNamespaces,
} from '../../src/daemon/index.js';

const files = (texts: Record<string, string>) => (file: string) => {
  if (!(file in texts)) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
  return texts[file];
};

function configError(fn: () => unknown): DaemonConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).to.be.instanceOf(DaemonConfigError);
    const e = err as DaemonConfigError;
    expect(e.code).to.equal('ERR_DAEMON_CONFIG');
    expect(e.message).not.to.include('\n');
    return e;
  }
  expect.fail('expected a DaemonConfigError');
}

describe('loadDaemonConfig', () => {
  it('fills every field with its default when nothing is given', () => {
    const c = loadDaemonConfig({ env: {} });
    expect(c.rules).to.deep.equal({ paths: [], configMaps: { enabled: true, labelSelector: 'reflex.dev/rules=true' }, customResources: { enabled: true }, maxRulesPerSource: 1000, maxSourceBytes: 4194304, audit: [] });
    expect(c.dryRun).to.equal('none');
    expect(c.workers).to.equal(32);
    expect(c.queue).to.deep.equal({ qps: 10, burst: 100, baseDelayMs: 5, maxDelayMs: 300_000, maxRetries: 0 });
    expect(c.client).to.deep.equal({ qps: 50, burst: 100, timeoutMs: 30_000, streamingLists: false, protobuf: true });
    expect(c.caches).to.deep.equal({ trim: true });
    expect(c.leaderElection).to.include({ enabled: false, leaseName: 'reflex', leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 });
    expect(c.leaderElection.identity).to.match(/^.+_\d+-[0-9a-f]{8}$/);
    expect(c.metrics.address).to.equal(':9090');
    expect(c.health.address).to.equal(':8081');
    expect(c.traces.enabled).to.equal(true);
    expect(c.log).to.deep.equal({ level: 'info', format: 'auto' });
    expect(c.shutdown.gracePeriodSeconds).to.equal(25);
    expect(c.namespace).to.equal(undefined);
  });

  it('turns leader election on by default inside a Pod and takes the namespace from POD_NAMESPACE', () => {
    const c = loadDaemonConfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', POD_NAMESPACE: 'ops' } });
    expect(c.leaderElection.enabled).to.equal(true);
    expect(c.namespace).to.equal('ops');
  });

  it('accepts the shipped config/reflex.yaml, whose values are the defaults', () => {
    const c = loadDaemonConfig({ file: 'config/reflex.yaml', env: {} });
    const d = loadDaemonConfig({ env: {} });
    expect({ ...c, leaderElection: { ...c.leaderElection, identity: '' } }).to.deep.equal({
      ...d,
      leaderElection: { ...d.leaderElection, identity: '' },
    });
    expect(readFileSync('config/reflex.yaml', 'utf8')).to.include('leaseDurationSeconds: 15');
  });

  it('lets the file override defaults, the environment override the file and flags override both', () => {
    const readFile = files({ 'c.yaml': 'workers: 8\nlog: {level: debug}\nqueue: {maxRetries: 3}\n' });
    const env = { REFLEX_WORKERS: '12', REFLEX_QUEUE_MAX_RETRIES: '5', REFLEX_LOG_FORMAT: 'json' };
    const fileOnly = loadDaemonConfig({ file: 'c.yaml', env: {}, readFile });
    expect([fileOnly.workers, fileOnly.log.level, fileOnly.queue.maxRetries, fileOnly.queue.qps]).to.deep.equal([8, 'debug', 3, 10]);
    const withEnv = loadDaemonConfig({ file: 'c.yaml', env, readFile });
    expect([withEnv.workers, withEnv.queue.maxRetries, withEnv.log]).to.deep.equal([12, 5, { level: 'debug', format: 'json' }]);
    const withFlags = loadDaemonConfig({ file: 'c.yaml', env, readFile, flags: { workers: 2, log: { format: 'text' } } });
    expect([withFlags.workers, withFlags.log]).to.deep.equal([2, { level: 'debug', format: 'text' }]);
  });

  it('reads lists from the environment as comma-separated values and booleans as true/false', () => {
    const c = loadDaemonConfig({
      env: { REFLEX_RULES_PATHS: 'rules/, more.yaml', REFLEX_RULES_CONFIG_MAPS_NAMESPACES: 'a,b', REFLEX_LEADER_ELECTION_ENABLED: 'true' },
    });
    expect(c.rules.paths).to.deep.equal(['rules/', 'more.yaml']);
    expect(c.rules.configMaps.namespaces).to.deep.equal(['a', 'b']);
    expect(c.leaderElection.enabled).to.equal(true);
  });

  it('names an environment variable for every field', () => {
    const names = envVariables().map((v) => v.name);
    expect(names).to.include.members([
      'REFLEX_KUBECONFIG', 'REFLEX_CONTEXT', 'REFLEX_DRY_RUN', 'REFLEX_WORKERS', 'REFLEX_QUEUE_BASE_DELAY_MS',
      'REFLEX_CLIENT_TIMEOUT_MS', 'REFLEX_CLIENT_STREAMING_LISTS', 'REFLEX_LEADER_ELECTION_LEASE_NAME', 'REFLEX_LEADER_ELECTION_RENEW_DEADLINE_SECONDS',
      'REFLEX_METRICS_ADDRESS', 'REFLEX_HEALTH_ADDRESS', 'REFLEX_TRACES_ENABLED', 'REFLEX_LOG_LEVEL', 'REFLEX_SHUTDOWN_GRACE_PERIOD_SECONDS',
      'REFLEX_RULES_CONFIG_MAPS_LABEL_SELECTOR',
    ]);
  });

  it('accepts Kubernetes duration strings for the lease durations, as the Helm chart writes them', () => {
    const readFile = files({ 'c.yaml': 'leaderElection: {leaseDuration: 3s, renewDeadline: 2s, retryPeriod: 500ms}\n' });
    const c = loadDaemonConfig({ file: 'c.yaml', env: {}, readFile });
    expect(c.leaderElection).to.include({ leaseDurationSeconds: 3, renewDeadlineSeconds: 2, retryPeriodSeconds: 0.5 });
    expect(parseDurationSeconds('1m30s')).to.equal(90);
    expect(parseDurationSeconds('soon')).to.equal(undefined);
  });

  it('rejects an unknown field in the file, naming the file, the field and the known ones', () => {
    const e = configError(() => loadDaemonConfig({ file: 'c.yaml', env: {}, readFile: files({ 'c.yaml': 'queue:\n  qsp: 5\n' }) }));
    expect(e.message).to.equal('config file c.yaml: unknown field "queue.qsp" (known here: qps, burst, baseDelayMs, maxDelayMs, maxRetries)');
  });

  it('rejects a value of the wrong type in the file', () => {
    const e = configError(() => loadDaemonConfig({ file: 'c.yaml', env: {}, readFile: files({ 'c.yaml': 'workers: many\n' }) }));
    expect(e.message).to.equal('config file c.yaml: workers must be an integer, got "many"');
  });

  it('rejects an unknown dry-run mode coming from a flag, naming the flag', () => {
    const e = configError(() => loadDaemonConfig({ env: {}, flags: { dryRun: 'maybe' as never } }));
    expect(e.message).to.equal('flag --dry-run: dryRun must be one of none, client, server, got "maybe"');
    expect(e.source).to.equal('flag --dry-run');
  });

  it('rejects an unreadable environment variable, naming it', () => {
    const e = configError(() => loadDaemonConfig({ env: { REFLEX_WORKERS: 'lots' } }));
    expect(e.message).to.equal('environment variable REFLEX_WORKERS: workers must be an integer, got "lots"');
  });

  it('rejects a value out of range from the environment, naming the variable', () => {
    const e = configError(() => loadDaemonConfig({ env: { REFLEX_WORKERS: '0' } }));
    expect(e.message).to.equal('environment variable REFLEX_WORKERS: workers must be >= 1, got 0');
  });

  it('rejects a malformed listen address', () => {
    const e = configError(() => loadDaemonConfig({ env: {}, flags: { metrics: { address: '9090' } } }));
    expect(e.message).to.equal('flag --metrics-address: metrics.address must be HOST:PORT with a port from 1 to 65535 (e.g. ":9090" or "127.0.0.1:9090"), got "9090"');
    for (const bad of ['127.0.0.1:99999', ':0', ':65536']) {
      expect(configError(() => loadDaemonConfig({ env: {}, flags: { metrics: { address: bad } } })).message).to.match(/port from 1 to 65535/);
    }
    expect(loadDaemonConfig({ env: {}, flags: { metrics: { address: '[::1]:65535' } } }).metrics.address).to.equal('[::1]:65535');
  });

  it('rejects a renew deadline not shorter than the lease duration', () => {
    const e = configError(() => loadDaemonConfig({ env: { REFLEX_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: '20' } }));
    expect(e.message).to.match(/^environment variable REFLEX_LEADER_ELECTION_RENEW_DEADLINE_SECONDS: .*must be less than leaseDurationSeconds \(15\)$/);
  });

  it('rejects "*" mixed with other namespaces', () => {
    const e = configError(() => loadDaemonConfig({ env: { REFLEX_RULES_CONFIG_MAPS_NAMESPACES: '*,a' } }));
    expect(e.message).to.include('"*" (all namespaces) must be the only entry');
  });

  it('says when the file is missing or not YAML', () => {
    expect(configError(() => loadDaemonConfig({ file: 'nope.yaml', env: {}, readFile: files({}) })).message)
      .to.equal('config file nope.yaml: no such file; pass an existing file to --config');
    expect(configError(() => loadDaemonConfig({ file: 'c.yaml', env: {}, readFile: files({ 'c.yaml': 'a: [1,\n' }) })).message)
      .to.match(/^config file c\.yaml: not valid YAML: /);
    expect(configError(() => loadDaemonConfig({ file: 'c.yaml', env: {}, readFile: files({ 'c.yaml': '- 1\n' }) })).message)
      .to.equal('config file c.yaml: must be a YAML mapping of settings (see config/reflex.yaml)');
  });

  it('fills the namespaces left to the daemon from the client namespace', () => {
    const c = resolveNamespaces(loadDaemonConfig({ env: {} }), 'team-a');
    expect(c.namespace).to.equal('team-a');
    expect(c.rules.configMaps.namespaces).to.deep.equal(['team-a']);
    expect(c.leaderElection.leaseNamespace).to.equal('team-a');
    const pinned = resolveNamespaces(loadDaemonConfig({ env: { POD_NAMESPACE: 'ops' }, flags: { leaderElection: { leaseNamespace: 'leases' } } }), 'x');
    expect([pinned.rules.configMaps.namespaces, pinned.leaderElection.leaseNamespace]).to.deep.equal([['ops'], 'leases']);
  });
});

describe('docs/configuration.md', () => {
  it('documents every environment variable the loader reads', () => {
    const doc = readFileSync('docs/configuration.md', 'utf8');
    const missing = envVariables().filter((v) => !doc.includes(`\`${v.name}\``));
    expect(missing.map((v) => v.name)).to.deep.equal([]);
  });

  it('lists in config/reflex.yaml every field of the schema', () => {
    const yaml = readFileSync('config/reflex.yaml', 'utf8');
    const missing = envVariables().filter((v) => !new RegExp(`^\\s*#?\\s*${v.path.split('.').at(-1)}:`, 'm').test(yaml));
    expect(missing.map((v) => v.path)).to.deep.equal([]);
  });
});
