/**
 * Process helpers of the benchmark suite: memory read from /proc (the same source for
 * Node.js and Go children, so their figures compare), and child processes that answer
 * with JSON lines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A `VmXxx:  N kB` field of /proc/PID/status (default this process), in MiB (0 where /proc is missing). */
export function procStatusMiB(field: 'VmHWM' | 'VmRSS', pid: number | 'self' = 'self'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak resident memory so far, MiB. */
export const peakRssMiB = (): number => procStatusMiB('VmHWM') || process.resourceUsage().maxRSS / 1024;
/** Resident memory now, MiB. */
export const rssMiB = (): number => procStatusMiB('VmRSS') || process.memoryUsage().rss / 2 ** 20;

/** Writes one JSON line to stdout (the answer of a child). */
export function emit(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Children still running, so that a failing suite can end them (`killChildren`). */
const running = new Set<ChildProcess>();

/** Kills every child this process started that is still running (after a failure). */
export function killChildren(): void {
  for (const proc of running) proc.kill('SIGKILL');
  running.clear();
}

/** A running child that answers with JSON lines on stdout; stderr passes through. */
export class JsonChild {
  private readonly lines: unknown[] = [];
  private readonly waiters: ((v: unknown) => void)[] = [];
  private readonly exited: Promise<number | null>;
  private buffer = '';

  constructor(readonly name: string, readonly proc: ChildProcess) {
    proc.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      for (let nl = this.buffer.indexOf('\n'); nl >= 0; nl = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const value: unknown = JSON.parse(line);
        const w = this.waiters.shift();
        if (w) w(value);
        else this.lines.push(value);
      }
    });
    running.add(proc);
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code) => {
        running.delete(proc);
        resolve(code);
      }),
    );
  }

  /** The next JSON line; rejects when the child exits first or `timeoutMs` passes. */
  next<T>(timeoutMs = 600_000): Promise<T> {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
      const w = (v: unknown) => {
        clearTimeout(timer);
        resolve(v as T);
      };
      this.waiters.push(w);
      void this.exited.then((code) => {
        const i = this.waiters.indexOf(w);
        if (i < 0) return;
        this.waiters.splice(i, 1);
        clearTimeout(timer);
        reject(new Error(`${this.name} exited with ${code} before answering`));
      });
    });
  }

  /** Sends one line to the child's stdin. */
  send(line: string): void {
    this.proc.stdin?.write(`${line}\n`);
  }

  /** Waits for the child to exit (killing it after `graceMs`). */
  async close(graceMs = 10_000): Promise<void> {
    this.proc.stdin?.end();
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Starts a compiled bench script (`bench/<script>.js` next to this file's parent) as a Node.js child, with $BENCH_NODE_FLAGS. */
export function nodeChild(script: string, args: string[], nodeFlags: string[] = []): JsonChild {
  const path = fileURLToPath(new URL(`../${script}.js`, import.meta.url));
  const extra = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...extra, ...nodeFlags, path, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new JsonChild(`${script} ${args[0] ?? ''}`.trim(), proc);
}

/** Starts any executable as a JSON child. */
export function execChild(name: string, file: string, args: string[]): JsonChild {
  return new JsonChild(name, spawn(file, args, { stdio: ['pipe', 'pipe', 'inherit'] }));
}

/** Reads lines of the parent's messages on stdin (for children). */
export function stdinLines(onLine: (line: string) => void): void {
  let buf = '';
  process.stdin.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      onLine(buf.slice(0, nl).trim());
      buf = buf.slice(nl + 1);
    }
  });
}

/** Percentile (0..100) of a list of numbers, nearest rank. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const wallMs = (): number => performance.timeOrigin + performance.now();
