/**
 * The helm CLI of the chart tests: built from its Go module (test/helm pins the
 * version) the way the control plane is built, cached outside the repository
 * under the same cache root, and run as a child process.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './control-plane.js';
import { cacheDir, ensureGoBinary, goBinaryPath, type GoBinary } from './go-build.js';

const moduleDir = join(repoRoot, 'test', 'helm');

/** The helm release test/helm/go.mod pins, e.g. `v3.20.2`. */
export function helmVersion(): string {
  const mod = readFileSync(join(moduleDir, 'go.mod'), 'utf8');
  const m = /^\s*(?:require\s+)?helm\.sh\/helm\/v3\s+(v\S+)/m.exec(mod);
  if (!m) throw new HelmError('test/helm/go.mod does not require helm.sh/helm/v3');
  return m[1];
}

/**
 * The linker flags of the build, as helm's Makefile sets them: the version, and the Kubernetes
 * version `helm template` assumes without a cluster (from the client-go it is built with, v0.N → 1.N).
 */
function ldflags(): string {
  const mod = readFileSync(join(moduleDir, 'go.mod'), 'utf8');
  const minor = /k8s\.io\/client-go v0\.(\d+)\./.exec(mod)?.[1];
  if (!minor) throw new HelmError('test/helm/go.mod does not require k8s.io/client-go');
  return [
    '-s -w',
    `-X helm.sh/helm/v3/internal/version.version=${helmVersion()}`,
    '-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1',
    `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
    '-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1',
    `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
  ].join(' ');
}

/** The helm binary: `helm.sh/helm/v3/cmd/helm` built in test/helm. */
function helmBinary(): GoBinary {
  return { name: 'helm', moduleDir, pkg: 'helm.sh/helm/v3/cmd/helm', version: helmVersion(), ldflags: ldflags(), buildNote: 'a cold build takes a minute or two' };
}

/** The cached helm binary's path (it may not exist yet). */
export function helmPath(): string {
  return goBinaryPath(helmBinary());
}

/** A failure to build or run helm; its message is one line saying why. */
export class HelmError extends Error {
  override name = 'HelmError';
}

/** Returns the helm binary, building it when it is not cached yet; a failure is one line. */
export function ensureHelm(log?: (line: string) => void): string {
  try {
    return ensureGoBinary(helmBinary(), log);
  } catch (err) {
    throw new HelmError(`helm for the chart tests: ${(err as Error).message}`);
  }
}

/** What one helm run printed. */
export interface HelmResult {
  stdout: string;
  stderr: string;
}

/** Runs the built helm with `args`; throws a HelmError naming the command and helm's last lines on failure. */
export function helm(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): HelmResult {
  const bin = ensureHelm();
  const res = spawnSync(bin, args, {
    cwd: options.cwd ?? repoRoot,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    // helm keeps caches and config in these; a test run must not touch the user's.
    env: {
      ...process.env,
      HELM_CACHE_HOME: join(cacheDir(), 'helm', 'home', 'cache'),
      HELM_CONFIG_HOME: join(cacheDir(), 'helm', 'home', 'config'),
      HELM_DATA_HOME: join(cacheDir(), 'helm', 'home', 'data'),
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (res.error || res.status !== 0) {
    const why = res.error?.message ?? (res.stderr || res.stdout).trim().split('\n').slice(-5).join(' | ');
    throw new HelmError(`helm ${args.join(' ')} failed: ${why}`);
  }
  return { stdout: res.stdout, stderr: res.stderr };
}
