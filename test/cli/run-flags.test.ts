import { expect } from 'chai';
import { parseCommandLine, UsageError } from '../../src/cli/flags.js';
import { RUN_SPEC, runOverrides } from '../../src/cli/run-flags.js';
import { loadDaemonConfig } from '../../src/daemon/index.js';

const parse = (args: string[]) => runOverrides(parseCommandLine(RUN_SPEC, args).values);

function usageError(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error('expected a UsageError');
}

describe('cli/run-flags', () => {
  it('turns every flag into an override', () => {
    const f = parse([
      '--config', 'c.yaml', '--kubeconfig', 'kc', '--context', 'ctx', '-n', 'ops', '--rules', 'a', '--rules=b', '--dry-run=server',
      '--workers', '7', '--log-level', 'debug', '--log-format=json', '--metrics-address', ':1', '--health-address', ':2',
      '--leader-elect=false', '--lease-name', 'l', '--lease-namespace', 'ns',
    ]);
    expect(f.config).to.equal('c.yaml');
    expect(f.flags).to.deep.equal({
      kubeconfig: 'kc', context: 'ctx', namespace: 'ops', rules: { paths: ['a', 'b'] }, dryRun: 'server', workers: 7,
      log: { level: 'debug', format: 'json' }, metrics: { address: ':1' }, health: { address: ':2' },
      leaderElection: { enabled: false, leaseName: 'l', leaseNamespace: 'ns' },
    });
  });

  it('reads a bare --leader-elect as true and gives no overrides for no flags', () => {
    expect(parse(['--leader-elect']).flags).to.deep.equal({ leaderElection: { enabled: true } });
    expect(parse([])).to.deep.equal({ config: undefined, flags: {} });
  });

  it('rejects an unknown flag and a bad value in one line naming the flag', () => {
    expect(usageError(() => parse(['--wrokers', '3'])).message).to.equal('unknown flag --wrokers');
    expect(usageError(() => parse(['--workers', 'x'])).message).to.equal('--workers expects a whole number of workers; got "x"');
    expect(usageError(() => parse(['--leader-elect=yes'])).message).to.equal('--leader-elect must be true or false; got "yes"');
    expect(usageError(() => parse(['--log-level', 'loud'])).message).to.equal('--log-level must be debug, info, warn or error; got "loud"');
  });

  it('turns cache trimming off with --trim-caches=false, over the file and the environment', () => {
    expect(parse(['--trim-caches=false']).flags).to.deep.equal({ caches: { trim: false } });
    expect(parse(['--trim-caches']).flags).to.deep.equal({ caches: { trim: true } });
    expect(loadDaemonConfig({ env: {} }).caches.trim).to.equal(true);
    expect(loadDaemonConfig({ env: { REFLEX_CACHES_TRIM: 'false' } }).caches.trim).to.equal(false);
    expect(loadDaemonConfig({ env: { REFLEX_CACHES_TRIM: 'false' }, flags: parse(['--trim-caches=true']).flags }).caches.trim).to.equal(true);
  });

  it('hands its overrides to loadDaemonConfig, where they win', () => {
    const { flags } = parse(['--workers', '9', '--dry-run=client']);
    const c = loadDaemonConfig({ env: { REFLEX_WORKERS: '3', REFLEX_DRY_RUN: 'server' }, flags });
    expect([c.workers, c.dryRun]).to.deep.equal([9, 'client']);
  });
});
