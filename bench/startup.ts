/**
 * The start-up phase of the benchmark suite: the fixed costs. The daemon (`reflex run`) with 8
 * shipped rules, next to a minimal informer program of client-go and of client-node watching the
 * same kinds: the time from spawning the process to ready (the daemon: /readyz answers 200; the
 * peers: every informer synced), and the resident memory at rest some seconds later.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { ControlPlane } from '../test/support/control-plane.js';
import { repoRoot } from '../test/support/control-plane.js';
import { freePort } from '../test/support/daemon-process.js';
import type { Loader } from './support/load.js';
import { execChild, type JsonChild, nodeChild, procStatusMiB } from './support/proc.js';
import { median } from './support/results.js';

/** The rules the daemon starts with: built-in kinds only (Namespaces, Jobs, Deployments, StatefulSets). */
export const STARTUP_RULES = [
  'default-deny-networkpolicy',
  'delete-finished-jobs',
  'deployment-pdb',
  'downscale-by-annotation',
  'namespace-quota',
  'namespace-ttl',
  'nightly-scale-down',
  'propagate-team-label',
];

export interface StartupSample {
  /** Spawn → ready, ms. */
  readyMs: number;
  /** VmRSS after `settleMs` at rest, MiB. */
  idleRssMiB: number;
  /** VmHWM then, MiB. */
  peakRssMiB: number;
}

export type StartupFigures = Record<'reflex' | 'client-go' | 'client-node', StartupSample>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The daemon: spawned with the rules, /readyz polled every 10 ms. */
async function reflexStartup(cp: ControlPlane, rulesDir: string, namespace: string, settleMs: number): Promise<StartupSample> {
  const [metrics, health, traces] = [await freePort(), await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [join(repoRoot, 'bin', 'reflex.js'), 'run', '--kubeconfig', cp.kubeconfig, '--rules', rulesDir, '--namespace', namespace, '--leader-elect=false',
      '--metrics-address', `127.0.0.1:${metrics}`, '--health-address', `127.0.0.1:${health}`, '--log-level', 'warn', '--log-format', 'json'],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, REFLEX_TRACES_ADDRESS: `127.0.0.1:${traces}` } },
  );
  try {
    let readyMs = 0;
    for (const deadline = started + 120_000; performance.now() < deadline; await sleep(10)) {
      if (child.exitCode !== null) throw new Error(`reflex run exited with ${child.exitCode} before it was ready`);
      const status = await fetch(`http://127.0.0.1:${health}/readyz`).then((r) => r.status, () => 0);
      if (status === 200) {
        readyMs = performance.now() - started;
        break;
      }
    }
    if (!readyMs) throw new Error('reflex run was not ready within 120 s');
    await sleep(settleMs);
    return { readyMs, idleRssMiB: procStatusMiB('VmRSS', child.pid!), peakRssMiB: procStatusMiB('VmHWM', child.pid!) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
  }
}

/** A peer that prints {"mode":"ready"} at sync and its sample after the settle time. */
async function peerStartup(start: () => JsonChild): Promise<StartupSample> {
  const started = performance.now();
  const child = start();
  try {
    await child.next();
    const readyMs = performance.now() - started;
    const s = await child.next<{ steadyRssMiB: number; peakRssMiB: number }>();
    return { readyMs, idleRssMiB: s.steadyRssMiB, peakRssMiB: s.peakRssMiB };
  } finally {
    await child.close();
  }
}

/** `runs` rounds of the three, interleaved; the median of each. */
export async function startupPhase(cp: ControlPlane, loader: Loader, goBin: string, runs: number, log: (l: string) => void): Promise<StartupFigures> {
  const namespace = 'bench-startup';
  await loader.namespace(namespace);
  const rulesDir = mkdtempSync(join(tmpdir(), 'reflex-bench-rules-'));
  for (const r of STARTUP_RULES) copyFileSync(join(repoRoot, 'rules', `${r}.yaml`), join(rulesDir, `${r}.yaml`));
  const settleMs = 5000;
  const all: Record<string, StartupSample[]> = {};
  try {
    for (let i = 0; i < runs; i++) {
      const samples: [keyof StartupFigures, StartupSample][] = [
        ['reflex', await reflexStartup(cp, rulesDir, namespace, settleMs)],
        ['client-go', await peerStartup(() => execChild('client-go', goBin, ['--kubeconfig', cp.kubeconfig, '--namespace', namespace, '--startup', '--settle', `${settleMs}ms`]))],
        ['client-node', await peerStartup(() => nodeChild('startup-child', [cp.kubeconfig, namespace, String(settleMs)]))],
      ];
      for (const [name, s] of samples) {
        (all[name] ??= []).push(s);
        log(`startup ${name}: ready in ${(s.readyMs / 1000).toFixed(2)} s, idle RSS ${Math.round(s.idleRssMiB)} MiB (peak ${Math.round(s.peakRssMiB)} MiB)`);
      }
    }
  } finally {
    rmSync(rulesDir, { recursive: true, force: true });
  }
  const pick = (name: keyof StartupFigures): StartupSample => ({
    readyMs: median(all[name].map((s) => s.readyMs)),
    idleRssMiB: median(all[name].map((s) => s.idleRssMiB)),
    peakRssMiB: median(all[name].map((s) => s.peakRssMiB)),
  });
  return { reflex: pick('reflex'), 'client-go': pick('client-go'), 'client-node': pick('client-node') };
}
