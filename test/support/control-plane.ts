/**
 * The test control plane: builds test/cluster (once per Kubernetes version, cached outside the
 * repository) and runs it as a child process: embedded etcd + kube-apiserver, with
 * kube-controller-manager as its own child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureGoBinary, goBinaryPath, type GoBinary } from './go-build.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, found from the compiled (dist/test/support) or source (test/support) location. */
export const repoRoot = resolve(here, here.includes(`${join('dist', 'test')}`) ? '../../..' : '../..');
const moduleDir = join(repoRoot, 'test', 'cluster');

export { cacheDir };

/** A failure to build or start the control plane; its message is one line saying why. */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
}

/** `[major, minor, patch]` of `v1.Y.Z`. */
function parts(v: string): number[] {
  return v.slice(1).split('.').map(Number);
}

/**
 * The Kubernetes releases the control plane builds, newest first: one module file per minor in
 * test/cluster (go.mod pins the newest, go.1.Y.mod each older one; the Go sources are shared).
 */
function modules(): ReadonlyMap<string, string> {
  const found: Array<[string, string]> = [];
  for (const file of readdirSync(moduleDir).filter((f) => /^go(\.\d+\.\d+)?\.mod$/.test(f))) {
    const version = /^\s*k8s\.io\/kubernetes\s+(v1\.\d+\.\d+)\s*$/m.exec(readFileSync(join(moduleDir, file), 'utf8'))?.[1];
    if (!version) throw new ControlPlaneError(`test/cluster/${file} does not require k8s.io/kubernetes v1.Y.Z`);
    found.push([version, file]);
  }
  const cmp = (a: string, b: string) => parts(b).reduce((d, n, i) => d || n - parts(a)[i], 0);
  return new Map(found.sort(([a], [b]) => cmp(a, b)));
}
const moduleFiles = modules();

/** Every Kubernetes release the test control plane is built from, newest first (e.g. `v1.37.2`, `v1.35.4`). */
export const KUBERNETES_VERSIONS: readonly string[] = [...moduleFiles.keys()];

/** The newest of them, which the full suite runs on. */
export const NEWEST_KUBERNETES_VERSION = KUBERNETES_VERSIONS[0];

/** The oldest supported minor, which the smoke suite (test/smoke) runs on. */
export const OLDEST_KUBERNETES_VERSION = KUBERNETES_VERSIONS[KUBERNETES_VERSIONS.length - 1];

/**
 * The release this test run's shared control plane serves: `$REFLEX_KUBERNETES_VERSION` (a release
 * of KUBERNETES_VERSIONS, or just its minor, e.g. `1.35`), else the newest.
 */
export const KUBERNETES_VERSION = kubernetesVersion(process.env.REFLEX_KUBERNETES_VERSION);

/** The release of KUBERNETES_VERSIONS that `wanted` names (`v1.35.4`, `1.35.4`, `1.35`); the newest when undefined. */
export function kubernetesVersion(wanted: string | undefined): string {
  if (!wanted) return NEWEST_KUBERNETES_VERSION;
  const v = wanted.startsWith('v') ? wanted : `v${wanted}`;
  const hit = KUBERNETES_VERSIONS.find((k) => k === v || k.startsWith(`${v}.`));
  if (!hit) throw new ControlPlaneError(`Kubernetes ${wanted} is not one of the supported releases ${KUBERNETES_VERSIONS.join(', ')} (test/cluster/go*.mod)`);
  return hit;
}

/** The control-plane binary of `version`: test/cluster built with that version's module file, version-stamped. */
function controlPlaneBinary(version: string): GoBinary {
  const modfile = moduleFiles.get(version);
  if (!modfile) throw new ControlPlaneError(`no test control plane for Kubernetes ${version}; test/cluster has ${KUBERNETES_VERSIONS.join(', ')}`);
  const minor = version.split('.')[1];
  return {
    name: 'reflex-cluster',
    moduleDir,
    modfile,
    pkg: '.',
    version,
    ldflags: [
      '-s -w',
      `-X main.version=${version}`,
      `-X k8s.io/component-base/version.gitVersion=${version}`,
      '-X k8s.io/component-base/version.gitMajor=1',
      `-X k8s.io/component-base/version.gitMinor=${minor}`,
      `-X k8s.io/client-go/pkg/version.gitVersion=${version}`,
    ].join(' '),
    buildNote: 'a cold build takes about 5 minutes on 2 cores',
  };
}

/** The cached binary's path for `version` (it may not exist yet). */
export function binaryPath(version = KUBERNETES_VERSION): string {
  return goBinaryPath(controlPlaneBinary(version));
}

/** Returns the control-plane binary of `version`, building it when it is not cached yet; a failure is one line. */
export function ensureBinary(version = KUBERNETES_VERSION, log?: (line: string) => void): string {
  try {
    return ensureGoBinary(controlPlaneBinary(version), log);
  } catch (err) {
    throw new ControlPlaneError(`the test control plane ${version}: ${(err as Error).message}`);
  }
}

/** What the control plane saves in its state directory (DIR/state.json). */
export interface ControlPlaneState {
  port: number;
  etcdPort: number;
  server: string;
  etcdURL: string;
  adminKubeconfig: string;
  noGrantsKubeconfig: string;
  adminToken: string;
  noGrantsToken: string;
  version: string;
  pid: number;
}

export interface StartOptions {
  /** The Kubernetes release to serve, one of KUBERNETES_VERSIONS; default KUBERNETES_VERSION. */
  version?: string;
  /** State directory; default: a new temporary one (removed on stop). */
  dir?: string;
  /** How long to wait for readiness, ms. Default 120 000. */
  readyTimeoutMs?: number;
}

/** A running control plane. `stop()` leaves no process or port behind; `restart()` keeps data and ports. */
export class ControlPlane {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly bin: string,
    private readonly readyTimeoutMs: number,
    public state: ControlPlaneState,
  ) {}

  static async start(options: StartOptions = {}): Promise<ControlPlane> {
    const bin = ensureBinary(options.version);
    const ownsDir = options.dir === undefined;
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'reflex-cluster-'));
    const cp = new ControlPlane(dir, ownsDir, bin, options.readyTimeoutMs ?? 120_000, undefined as never);
    await cp.launch();
    return cp;
  }

  get server(): string {
    return this.state.server;
  }
  get kubeconfig(): string {
    return this.state.adminKubeconfig;
  }
  get noGrantsKubeconfig(): string {
    return this.state.noGrantsKubeconfig;
  }
  get logFile(): string {
    return join(this.dir, 'control-plane.log');
  }

  private async launch(): Promise<void> {
    const child = spawn(this.bin, ['--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = new Promise((res) => child.once('exit', () => res()));
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const path = await new Promise<string>((res, rej) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        rej(new ControlPlaneError(`the test control plane was not ready after ${this.readyTimeoutMs / 1000} s (log: ${this.logFile})`));
      }, this.readyTimeoutMs);
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          res(out.slice(0, nl).trim());
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        const why = stderr.trim().split('\n').pop() || `exit ${code ?? signal}`;
        rej(new ControlPlaneError(`the test control plane failed to start: ${why} (log: ${this.logFile})`));
      });
    });
    this.state = JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as ControlPlaneState;
    if (this.state.adminKubeconfig !== path) {
      throw new ControlPlaneError(`the test control plane printed ${path}, expected ${this.state.adminKubeconfig}`);
    }
  }

  /** Stops the control plane (SIGTERM, then SIGKILL after `graceMs`). Keeps the state directory when `keepDir`. */
  async stop(options: { graceMs?: number; keepDir?: boolean } = {}): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), options.graceMs ?? 20_000);
      await this.exited;
      clearTimeout(timer);
    }
    this.child = undefined;
    if (this.ownsDir && !options.keepDir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Stops and starts again on the same ports with the same data (for fault tests). */
  async restart(options: { downMs?: number } = {}): Promise<void> {
    await this.stop({ keepDir: true });
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    await this.launch();
  }

  /** Stops the control plane without starting it again (pair with `resume`). */
  async pause(): Promise<void> {
    await this.stop({ keepDir: true });
  }

  /** Starts a paused control plane again, same ports, same data. */
  async resume(): Promise<void> {
    await this.launch();
  }
}
