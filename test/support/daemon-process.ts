/**
 * DaemonProcess: runs `reflex run` as a child process for end-to-end tests, with its
 * own ports, and reads its JSON log lines. `stop()` sends SIGTERM and waits for the exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from './control-plane.js';

export interface LogLine {
  level: string;
  message: string;
  [field: string]: unknown;
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface DaemonStartOptions {
  kubeconfig: string;
  /** Extra arguments of `reflex run`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for /readyz before resolving. Default true. */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly metricsPort: number,
    readonly healthPort: number,
    /** Where /traces listens (on 127.0.0.1, the daemon's default host). */
    readonly tracesPort: number,
  ) {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          const parsed = JSON.parse(line) as LogLine & { msg?: string };
          this.lines.push({ ...parsed, message: parsed.msg ?? parsed.message });
        } catch {
          this.lines.push({ level: 'raw', message: line });
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  static async start(options: DaemonStartOptions): Promise<DaemonProcess> {
    const metricsPort = await freePort();
    const healthPort = await freePort();
    const tracesPort = await freePort();
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'reflex.js'),
        'run',
        '--kubeconfig',
        options.kubeconfig,
        '--metrics-address',
        `127.0.0.1:${metricsPort}`,
        '--health-address',
        `127.0.0.1:${healthPort}`,
        '--log-format',
        'json',
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REFLEX_TRACES_ADDRESS: `127.0.0.1:${tracesPort}`, ...options.env } },
    );
    const d = new DaemonProcess(child, metricsPort, healthPort, tracesPort);
    if (options.waitReady !== false) await d.waitReady(options.readyTimeoutMs ?? 30_000);
    return d;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** GET a path of the health or metrics server; status and text. */
  async get(path: string, server: 'health' | 'metrics' = 'health'): Promise<{ status: number; text: string }> {
    const port = server === 'health' ? this.healthPort : this.metricsPort;
    const res = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: res.status, text: await res.text() };
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`the daemon exited with ${this.child.exitCode}: ${this.stderr.join('').trim() || this.lastLines()}`);
      const r = await this.get('/readyz').catch(() => undefined);
      if (r?.status === 200) return;
      if (Date.now() > deadline) throw new Error(`the daemon was not ready after ${timeoutMs} ms (${r?.text ?? 'no answer'}); last log lines: ${this.lastLines()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves with the first log line (already written or to come) matching `match`. */
  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 20_000, what = 'a log line'): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last log lines: ${this.lastLines()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  lastLines(n = 8): string {
    return this.lines.slice(-n).map((l) => JSON.stringify(l)).join('\n');
  }

  /** Sends `signal` (default SIGTERM) and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exit;
    clearTimeout(timer);
    return result;
  }

  /** Resolves when the process exits. */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exit;
  }
}
