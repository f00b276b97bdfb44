/**
 * The test control plane: builds test/cluster (once per version, cached outside the
 * repository) and runs it as a child process: embedded etcd + kube-apiserver, with
 * kube-controller-manager as its own child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureGoBinary, goBinaryPath, type GoBinary } from './go-build.js';

/** The Kubernetes release the control plane is built from (test/cluster/go.mod pins it). */
export const KUBERNETES_VERSION = 'v1.35.4';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, found from the compiled (dist/test/support) or source (test/support) location. */
export const repoRoot = resolve(here, here.includes(`${join('dist', 'test')}`) ? '../../..' : '../..');
const moduleDir = join(repoRoot, 'test', 'cluster');

export { cacheDir };

/** A failure to build or start the control plane; its message is one line saying why. */
export class ControlPlaneError extends Error {
  override name = 'ControlPlaneError';
}

/** The control-plane binary: test/cluster, version-stamped. */
function controlPlaneBinary(): GoBinary {
  const minor = KUBERNETES_VERSION.split('.')[1];
  return {
    name: 'reflex-cluster',
    moduleDir,
    pkg: '.',
    version: KUBERNETES_VERSION,
    ldflags: [
      '-s -w',
      `-X main.version=${KUBERNETES_VERSION}`,
      `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
      '-X k8s.io/component-base/version.gitMajor=1',
      `-X k8s.io/component-base/version.gitMinor=${minor}`,
      `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
    ].join(' '),
    buildNote: 'a cold build takes about 5 minutes on 2 cores',
  };
}

/** The cached binary's path (it may not exist yet). */
export function binaryPath(): string {
  return goBinaryPath(controlPlaneBinary());
}

/** Returns the control-plane binary, building it when it is not cached yet; a failure is one line. */
export function ensureBinary(log?: (line: string) => void): string {
  try {
    return ensureGoBinary(controlPlaneBinary(), log);
  } catch (err) {
    throw new ControlPlaneError(`the test control plane: ${(err as Error).message}`);
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
