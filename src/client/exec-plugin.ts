/** ExecCredentialPlugin: runs a kubeconfig exec credential plugin and caches its credential until it expires. */
import { spawn } from 'node:child_process';
import { isAbsolute, resolve } from 'node:path';
import { type Clock, realClock } from '../core/index.js';
import type { ExecConfig, TLSConfig } from './config.js';
import { ExecPluginError } from './errors.js';

/** What a plugin returned: a bearer token, or a client certificate and key. */
export interface ExecCredential {
  token?: string;
  clientCertificateData?: string;
  clientKeyData?: string;
  /** Epoch ms after which the plugin runs again; absent: valid until a 401. */
  expiresAt?: number;
}

export interface ExecPluginOptions {
  clock?: Clock;
  /** Whether stdin is a terminal (for interactiveMode). Default process.stdin.isTTY. */
  stdinIsTTY?: boolean;
  /** Longest a plugin may run, ms. Default 60 000. */
  timeoutMs?: number;
  /** The cluster (for provideClusterInfo). */
  cluster?: { server: string; tls: TLSConfig; proxyUrl?: string };
}

const MAX_STDERR = 4_000;

/**
 * Runs the plugin at most once at a time; `get` returns the cached credential until
 * its expirationTimestamp passes, `invalidate` (after a 401) forces the next run.
 */
export class ExecCredentialPlugin {
  private cached: ExecCredential | undefined;
  private running: Promise<ExecCredential> | undefined;
  private readonly clock: Clock;
  /** How many times the plugin ran (for diagnostics and tests). */
  runs = 0;

  constructor(
    private readonly exec: ExecConfig,
    private readonly options: ExecPluginOptions = {},
  ) {
    this.clock = options.clock ?? realClock;
  }

  async get(): Promise<ExecCredential> {
    const c = this.cached;
    if (c && (c.expiresAt === undefined || this.clock.now() < c.expiresAt)) return c;
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  /** Drops the cached credential, so the next `get` runs the plugin. */
  invalidate(): void {
    this.cached = undefined;
  }

  private interactive(): boolean {
    const tty = this.options.stdinIsTTY ?? Boolean(process.stdin.isTTY);
    const mode = this.exec.interactiveMode;
    if (mode === 'Always' && !tty) {
      throw new ExecPluginError(`exec plugin ${this.exec.command} needs an interactive terminal (interactiveMode: Always), but stdin is not one`, this.exec.command, '');
    }
    return mode !== 'Never' && tty;
  }

  private execInfo(interactive: boolean): string {
    const spec: Record<string, unknown> = { interactive };
    const cl = this.options.cluster;
    if (this.exec.provideClusterInfo && cl) {
      spec.cluster = {
        server: cl.server,
        'tls-server-name': cl.tls.serverName,
        'insecure-skip-tls-verify': cl.tls.insecureSkipTLSVerify,
        'certificate-authority-data': cl.tls.ca ? Buffer.from(cl.tls.ca).toString('base64') : undefined,
        'proxy-url': cl.proxyUrl,
        config: this.exec.clusterConfig,
      };
    }
    return JSON.stringify({ apiVersion: this.exec.apiVersion, kind: 'ExecCredential', spec });
  }

  private command(): string {
    const c = this.exec.command;
    // kubectl: a command with a path separator is relative to the kubeconfig's directory.
    return c.includes('/') && !isAbsolute(c) && this.exec.baseDir ? resolve(this.exec.baseDir, c) : c;
  }

  private async run(): Promise<ExecCredential> {
    const interactive = this.interactive();
    const command = this.command();
    const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: this.execInfo(interactive) };
    for (const e of this.exec.env) env[e.name] = e.value;
    this.runs++;
    const timeoutMs = this.options.timeoutMs ?? 60_000;
    const { code, stdout, stderr, error, timedOut } = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: NodeJS.ErrnoException; timedOut?: boolean }>((resolve) => {
      const child = spawn(command, this.exec.args, {
        env,
        stdio: [interactive ? 'inherit' : 'ignore', 'pipe', interactive ? 'inherit' : 'pipe'],
      });
      let out = '';
      let err = '';
      let expired = false;
      // Our own timer, not spawn's `timeout`: that one is cleared only when the process exits, so a
      // plugin that never started (ENOENT) kept the process alive for the whole timeout.
      const timer = this.clock.setTimer(() => {
        expired = true;
        child.kill('SIGKILL');
      }, timeoutMs);
      const done = (r: { code: number | null; error?: NodeJS.ErrnoException }) => {
        this.clock.clearTimer(timer);
        resolve({ ...r, stdout: out, stderr: err, timedOut: expired });
      };
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => {
        if (err.length < MAX_STDERR) err += d.toString();
      });
      child.once('error', (e: NodeJS.ErrnoException) => done({ code: null, error: e }));
      child.once('close', (c) => done({ code: c }));
    });
    const name = this.exec.command;
    const errText = stderr.trim().slice(0, MAX_STDERR);
    if (error?.code === 'ENOENT') {
      const hint = this.exec.installHint ? `\n${this.exec.installHint.trim()}` : '';
      throw new ExecPluginError(`exec credential plugin "${name}" was not found (${command}); install it or fix users[].user.exec.command in the kubeconfig${hint}`, name, '', error);
    }
    if (timedOut) {
      throw new ExecPluginError(`exec credential plugin "${name}" did not finish within ${timeoutMs} ms and was stopped${errText ? `; its stderr: ${errText}` : ''}`, name, errText);
    }
    if (error || code !== 0) {
      const why = error ? error.message : `exited with code ${code}`;
      throw new ExecPluginError(`exec credential plugin "${name}" failed: ${why}${errText ? `; its stderr: ${errText}` : ''}`, name, errText, error);
    }
    const cred = this.parse(stdout, name, errText);
    this.cached = cred;
    return cred;
  }

  private parse(stdout: string, name: string, errText: string): ExecCredential {
    const bad = (why: string) => new ExecPluginError(`exec credential plugin "${name}" printed an invalid ExecCredential: ${why}`, name, errText);
    let doc: { apiVersion?: string; kind?: string; status?: Record<string, unknown> };
    try {
      doc = JSON.parse(stdout) as typeof doc;
    } catch {
      throw bad('its output is not JSON');
    }
    if (doc?.kind !== 'ExecCredential') throw bad(`kind is ${JSON.stringify(doc?.kind)}, not ExecCredential`);
    if (doc.apiVersion !== this.exec.apiVersion) throw bad(`apiVersion ${JSON.stringify(doc.apiVersion)} differs from the kubeconfig's ${this.exec.apiVersion}`);
    const s = doc.status;
    if (!s || typeof s !== 'object') throw bad('it has no status');
    const token = typeof s.token === 'string' && s.token ? s.token : undefined;
    const cert = typeof s.clientCertificateData === 'string' ? s.clientCertificateData : undefined;
    const key = typeof s.clientKeyData === 'string' ? s.clientKeyData : undefined;
    if (!token && !(cert && key)) throw bad('status has neither a token nor clientCertificateData and clientKeyData');
    let expiresAt: number | undefined;
    if (typeof s.expirationTimestamp === 'string') {
      expiresAt = Date.parse(s.expirationTimestamp);
      if (Number.isNaN(expiresAt)) throw bad(`expirationTimestamp ${JSON.stringify(s.expirationTimestamp)} is not an RFC 3339 time`);
    }
    return { token, clientCertificateData: cert, clientKeyData: key, expiresAt };
  }
}
