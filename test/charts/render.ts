/** Chart test helpers: render charts/reflex with the built helm, and run kubectl against the control plane. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { repoRoot } from '../support/control-plane.js';
import { helm } from '../support/helm.js';

/** A rendered manifest: any Kubernetes object. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
} & Record<string, unknown>;

export const chartDir = join(repoRoot, 'charts', 'reflex');

/** Runs `fn` with a temporary directory that is removed afterwards. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-chart-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template` of the chart into `namespace` with `values`; returns the YAML text. */
export function renderText(namespace: string, values: Record<string, unknown> = {}, release = 'rx'): string {
  return withTempDir((dir) => {
    const file = join(dir, 'values.yaml');
    writeFileSync(file, dump(values));
    return helm(['template', release, chartDir, '--namespace', namespace, '--values', file]).stdout;
  });
}

/** Renders the chart and parses every document. */
export function render(namespace: string, values: Record<string, unknown> = {}, release = 'rx'): Manifest[] {
  return (loadAll(renderText(namespace, values, release)) as (Manifest | null)[]).filter((d): d is Manifest => d !== null);
}

/** The one manifest of `kind` (and `name`, when given); throws when there is none or more than one. */
export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  return found[0];
}

/** What kubectl printed, and how it exited. */
export interface KubectlResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl with the admin kubeconfig; `input` goes to its stdin. */
export function kubectl(kubeconfig: string, args: string[], input?: string): KubectlResult {
  const res = spawnSync('kubectl', ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  if (res.error) throw new Error(`kubectl ${args.join(' ')}: ${res.error.message}`);
  return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
}
