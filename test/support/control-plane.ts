/**
 * The test control plane: builds test/cluster (once per version, cached outside the
 * repository) and runs it as a child process: embedded etcd + kube-apiserver, with
 * kube-controller-manager as its own child.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The Kubernetes release the control plane is built from (test/cluster/go.mod pins it). */
export const KUBERNETES_VERSION = 'v1.35.4';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, found from the compiled (dist/test/support) or source (test/support) location. */
export const repoRoot = resolve(here, here.includes(`${join('dist', 'test')}`) ? '../../..' : '../..');
const moduleDir = join(repoRoot, 'test', 'cluster');

/** Where built binaries are cached: $REFLEX_CACHE_DIR, else $XDG_CACHE_HOME/reflex, else ~/.cache/reflex. */
export function cacheDir(): string {
  if (process.env.REFLEX_CACHE_DIR) return process.env.REFLEX_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reflex');
}

/** Cache key: the Kubernetes version plus a hash of the Go module's sources, so an edit rebuilds. */
function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of readdirSync(moduleDir).filter((n) => /\.(go|mod|sum)$/.test(n)).sort()) {
    h.update(f).update(readFileSync(join(moduleDir, f)));
  }
  return h.digest('hex').slice(0, 12);
}

/** The cached binary's path (it may not exist yet). */
export function binaryPath(): string {
  return join(cacheDir(), 'cluster', `${KUBERNETES_VERSION}-${sourceHash()}`, 'reflex-cluster');
}

/** A failure to build or start the control plane; its message is one line saying why. */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
}

/**
 * Returns the control-plane binary, building it when it is not cached yet.
 * Go's module and build caches are reused; a cold build takes minutes.
 */
export function ensureBinary(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): string {
  const bin = binaryPath();
  if (existsSync(bin)) return bin;
  const go = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (go.error || go.status !== 0) {
    throw new ControlPlaneError(
      'cannot build the test control plane: Go is not installed (go not found on PATH); install Go, or run REFLEX_SKIP_CLUSTER=1 npm test for unit tests only',
    );
  }
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}`;
  const minor = KUBERNETES_VERSION.split('.')[1];
  const ldflags = [
    '-s -w',
    `-X main.version=${KUBERNETES_VERSION}`,
    `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
    '-X k8s.io/component-base/version.gitMajor=1',
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
  ].join(' ');
  log(`building the test control plane (Kubernetes ${KUBERNETES_VERSION}) into ${dirname(bin)}; a cold build takes about 5 minutes on 2 cores…`);
  const started = Date.now();
  const res = spawnSync('go', ['build', '-trimpath', '-ldflags', ldflags, '-o', tmp, '.'], {
    cwd: moduleDir,
    env: { ...process.env, GOTOOLCHAIN: process.env.GOTOOLCHAIN ?? 'local', CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  if (res.status !== 0) {
    rmSync(tmp, { force: true });
    const last = (res.stderr ?? '').trim().split('\n').slice(-5).join(' | ');
    throw new ControlPlaneError(`cannot build the test control plane (go build in test/cluster failed): ${last}`);
  }
  renameSync(tmp, bin);
  log(`built the test control plane in ${Math.round((Date.now() - started) / 1000)} s`);
  return bin;
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
    const bin = ensureBinary();
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
