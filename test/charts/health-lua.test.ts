/** The chart's Argo CD health check (files/health.lua), run by a real Lua interpreter over a table of rule statuses. */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chartDir } from './render.js';

const LUA = process.env.REFLEX_LUA ?? 'lua5.4';
const healthLua = readFileSync(join(chartDir, 'files', 'health.lua'), 'utf8');

/** A JSON value as a Lua table constructor (objects as tables with string keys, arrays as sequences). */
function luaLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${JSON.stringify(k)}] = ${luaLiteral(x)}`).join(', ')}}`;
}

/** Runs health.lua as Argo CD does (the object in global `obj`), returning its status and message. */
function health(obj: unknown): { status: string; message: string } {
  const script = `obj = ${luaLiteral(obj)}\nlocal hs = (function()\n${healthLua}\nend)()\nio.write(hs.status, "\\t", hs.message)\n`;
  const run = spawnSync(LUA, ['-'], { input: script, encoding: 'utf8' });
  if (run.error) throw new Error(`${LUA} is needed to run the Argo CD health check (apt-get install lua5.4): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`health.lua failed: ${run.stderr.trim()}`);
  const [status, message] = run.stdout.split('\t');
  return { status, message };
}

const cond = (type: string, status: string, extra: Record<string, unknown> = {}) => ({ type, status, lastTransitionTime: '2026-01-01T00:00:00Z', ...extra });
const rule = (generation: number, status?: Record<string, unknown>) => ({ apiVersion: 'reflex.dev/v1alpha1', kind: 'ClusterRule', metadata: { name: 'r', generation }, spec: {}, ...(status ? { status } : {}) });

const TABLE: [string, unknown, string, string][] = [
  ['no status yet', rule(1), 'Progressing', 'Waiting for the Reflex daemon to load the rule'],
  ['no conditions yet', rule(1, { conditions: [] }), 'Progressing', 'Waiting for the daemon to load generation 1'],
  ['Ready for the current generation', rule(2, { observedGeneration: 2, conditions: [cond('Ready', 'True', { observedGeneration: 2, reason: 'Loaded', message: 'watching apps/v1 Deployment' }), cond('Stalled', 'False', { observedGeneration: 2 })] }), 'Healthy', 'watching apps/v1 Deployment'],
  ['Ready without a message', rule(3, { observedGeneration: 3, conditions: [cond('Ready', 'True', { observedGeneration: 3 })] }), 'Healthy', 'Ready'],
  ['Ready, but for an older generation', rule(2, { observedGeneration: 1, conditions: [cond('Ready', 'True', { observedGeneration: 1 })] }), 'Progressing', 'Waiting for the daemon to load generation 2'],
  ['Stalled: does not load', rule(4, { observedGeneration: 4, conditions: [cond('Ready', 'False', { observedGeneration: 4 }), cond('Stalled', 'True', { observedGeneration: 4, reason: 'InvalidRule', message: 'spec.when:1:14: JSONata syntax error' })] }), 'Degraded', 'spec.when:1:14: JSONata syntax error'],
  ['Stalled without a message', rule(4, { observedGeneration: 4, conditions: [cond('Stalled', 'True', { observedGeneration: 4, reason: 'ActionsFailing' })] }), 'Degraded', 'ActionsFailing'],
  ['Stalled while Ready: actions fail terminally', rule(5, { observedGeneration: 5, conditions: [cond('Ready', 'True', { observedGeneration: 5 }), cond('Stalled', 'True', { observedGeneration: 5, reason: 'ActionsFailing', message: 'patch deployments: 403 Forbidden' })] }), 'Degraded', 'patch deployments: 403 Forbidden'],
  ['Stalled for the previous generation, the fix not loaded yet', rule(6, { observedGeneration: 5, conditions: [cond('Stalled', 'True', { observedGeneration: 5, reason: 'InvalidRule', message: 'old problem' })] }), 'Progressing', 'Waiting for the daemon to load generation 6'],
  ['Reconciling: the watched kind is not served', rule(1, { observedGeneration: 1, conditions: [cond('Ready', 'False', { observedGeneration: 1 }), cond('Reconciling', 'True', { observedGeneration: 1, reason: 'KindNotServed', message: 'example.com/v1 Widget is not served yet' })] }), 'Progressing', 'example.com/v1 Widget is not served yet'],
  ['Ready Unknown, nothing else', rule(1, { observedGeneration: 1, conditions: [cond('Ready', 'Unknown', { observedGeneration: 1 })] }), 'Progressing', 'Waiting for the Reflex daemon to load the rule'],
  ['conditions without observedGeneration follow status.observedGeneration', rule(7, { observedGeneration: 7, conditions: [cond('Ready', 'True')] }), 'Healthy', 'Ready'],
];

describe('charts/reflex: the Argo CD health check of ClusterRule and Rule (files/health.lua, run by Lua)', () => {
  for (const [name, obj, status, message] of TABLE) {
    it(`${name}: ${status}`, () => {
      expect(health(obj)).to.deep.equal({ status, message });
    });
  }

  it('docs/crds.md shows this same script in its argocd-cm snippet, for both kinds', () => {
    const doc = readFileSync(join(chartDir, '..', '..', 'docs', 'crds.md'), 'utf8');
    const indented = healthLua.replace(/^(?=.)/gm, '    ');
    for (const kind of ['ClusterRule', 'Rule']) expect(doc).to.contain(`  resource.customizations.health.reflex.dev_${kind}: |\n${indented}`);
  });

  it('the same for a namespaced Rule', () => {
    const obj = { ...rule(2, { observedGeneration: 2, conditions: [cond('Ready', 'True', { observedGeneration: 2 })] }), kind: 'Rule', metadata: { name: 'r', namespace: 'team-a', generation: 2 } };
    expect(health(obj)).to.deep.equal({ status: 'Healthy', message: 'Ready' });
  });
});
