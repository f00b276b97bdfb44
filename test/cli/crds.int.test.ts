/**
 * The generated CRDs on the real API server: accepted as structural, every shipped rule applies as
 * a ClusterRule, `kubectl explain` prints the field docs, unknown fields are rejected, what only
 * the daemon can judge (a JSONata syntax error) is accepted, and the printer columns and status
 * subresource work.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { repositoryRoot } from '../../src/cli/generate.js';
import { useCluster } from '../support/cluster.js';
import { kubectl } from '../charts/render.js';

const crdDir = join(repositoryRoot, 'config', 'crd');
const shippedRules = readdirSync(join(repositoryRoot, 'rules')).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml')).sort();

type Obj = { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown>; status?: Record<string, unknown> };

/** The rows of a kubectl table, cut at the header's column starts (empty cells stay empty). */
function table(text: string): Record<string, string>[] {
  const [header, ...rows] = text.replace(/\n$/, '').split('\n');
  const starts = [...header.matchAll(/(\S+(?: \S+)*)/g)].map((m) => ({ name: m[1], at: m.index }));
  return rows.map((row) => Object.fromEntries(starts.map((c, i) => [c.name, row.slice(c.at, starts[i + 1]?.at ?? row.length).trim()])));
}

async function until<T>(what: string, fn: () => T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('config/crd: the ClusterRule and Rule CRDs on the API server', function () {
  this.timeout(120_000);
  const fx = useCluster();
  const k = (args: string[], input?: string) => kubectl(fx.cp.kubeconfig, args, input);
  const ok = (args: string[], input?: string) => {
    const r = k(args, input);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
    return r.stdout;
  };
  const rule = (name: string, spec: Record<string, unknown>, kind = 'ClusterRule', namespace?: string): string =>
    dump({ apiVersion: 'reflex.dev/v1alpha1', kind, metadata: { name, ...(namespace ? { namespace } : {}) }, spec });

  before(async () => {
    ok(['apply', '--server-side', '-f', crdDir]);
    for (const name of ['clusterrules.reflex.dev', 'rules.reflex.dev']) {
      await until(`${name} Established`, () => {
        const crd = JSON.parse(ok(['get', 'crd', name, '-o', 'json'])) as { status: { conditions?: { type: string; status: string; message?: string }[] } };
        const nonStructural = crd.status.conditions?.find((c) => c.type === 'NonStructuralSchema');
        if (nonStructural) throw new Error(`${name} is not structural: ${nonStructural.message}`);
        return crd.status.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      });
    }
  });

  it('are accepted as structural and served; every shipped rule applies cleanly as a ClusterRule', () => {
    expect(ok(['api-resources', '--api-group=reflex.dev', '-o', 'name']).split('\n').filter(Boolean).sort()).to.deep.equal(['clusterrules.reflex.dev', 'rules.reflex.dev']);
    for (const f of shippedRules) {
      const text = readFileSync(join(repositoryRoot, 'rules', f), 'utf8');
      expect((load(text) as Obj).kind, f).to.equal('ClusterRule');
      const r = k(['apply', '--dry-run=server', '-f', '-'], text);
      expect(r.status, `${f}: ${r.stderr}`).to.equal(0);
      expect(r.stderr, f).to.equal(''); // no warning: nothing pruned
    }
  });

  it('kubectl explain prints the field docs', async () => {
    const text = await until('explain', () => {
      const r = k(['explain', 'clusterrule.spec.watch']);
      return r.status === 0 ? r.stdout : undefined;
    });
    expect(text).to.contain('The objects the rule sees');
    expect(text).to.match(/kind\s+<string>/);
    expect(text).to.match(/namespaces\s+<\[\]string>/);
    const kind = ok(['explain', 'clusterrule.spec.watch.kind']);
    expect(kind).to.contain('The watched kind, as in manifests (not the plural).');
    const limits = ok(['explain', 'rule.spec.limits.maxActionsPerRun']);
    expect(limits).to.contain('Default: 100.');
    expect(ok(['explain', 'rule.spec.serviceAccountName'])).to.contain('ServiceAccount');
    expect(k(['explain', 'clusterrule.spec.serviceAccountName']).status).to.not.equal(0);
    expect(ok(['explain', 'clusterrule.status.conditions.reason'])).to.contain('InvalidRule');
  });

  it('rejects an unknown field; accepts a JSONata syntax error, which only the daemon reports', () => {
    const base = { watch: { apiVersion: 'v1', kind: 'ConfigMap' }, suspend: true, actions: [{ log: { message: 'x' } }] };
    const unknown = k(['apply', '--dry-run=server', '-f', '-'], rule('typo', { ...base, whenn: 'true' }));
    expect(unknown.status).to.not.equal(0);
    expect(unknown.stderr).to.match(/unknown field "spec\.whenn"/);
    const deep = k(['apply', '--dry-run=server', '-f', '-'], rule('typo2', { ...base, limits: { maxActionsPerRunn: 3 } }));
    expect(deep.stderr).to.match(/unknown field "spec\.limits\.maxActionsPerRunn"/);
    const sa = k(['apply', '--dry-run=server', '-f', '-'], rule('sa', { ...base, serviceAccountName: 'bot' }));
    expect(sa.stderr).to.match(/unknown field "spec\.serviceAccountName"/);
    const wrongType = k(['apply', '--dry-run=server', '-f', '-'], rule('typed', { ...base, suspend: 'yes' }));
    expect(wrongType.stderr).to.match(/spec\.suspend: Invalid value: "string": spec\.suspend in body must be of type boolean/);
    const badEnum = k(['apply', '--dry-run=server', '-f', '-'], rule('mode', { ...base, mode: 'loud' }));
    expect(badEnum.stderr).to.match(/spec\.mode: Unsupported value: "loud"/);
    const syntax = k(['apply', '--dry-run=server', '-f', '-'], rule('syntax', { ...base, when: 'status.phase = = 1' }));
    expect(syntax.status, syntax.stderr).to.equal(0);
    const missing = k(['apply', '--dry-run=server', '-f', '-'], rule('nowatch', { suspend: true }));
    expect(missing.stderr).to.match(/spec\.watch: Required value/);
  });

  it('keeps templates, lists of watches and free-form objects as written', () => {
    const name = `kept-${Date.now().toString(36)}`;
    const spec = {
      suspend: true,
      watch: [{ apiVersion: 'v1', kind: 'ConfigMap', labelSelector: 'a=b' }, { apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchLabels: { app: 'web' } } }],
      when: true,
      actions: [
        { apply: { object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', namespace: 'y', annotations: { a: '{{ metadata.name }}' } }, data: { k: 'v' } }, force: '{{ true }}' } },
        { delete: null },
        { delete: { gracePeriodSeconds: '{{ 0 }}', ignoreMissing: false } },
        { webhook: { url: 'https://example.com', timeout: 1500, body: { any: ['thing', 1, { deep: true }] } } },
      ],
    };
    ok(['create', '-f', '-'], rule(name, spec));
    try {
      const got = JSON.parse(ok(['get', 'clusterrule', name, '-o', 'json'])) as Obj;
      expect(got.spec).to.deep.equal({ ...spec, mode: 'enforce' });
    } finally {
      ok(['delete', 'clusterrule', name, '--wait=false']);
    }
  });

  it('a namespaced Rule takes spec.serviceAccountName; get shows the printer columns; status is a subresource', async () => {
    const ns = fx.ns;
    const name = 'team-rule';
    ok(['apply', '-f', '-'], rule(name, { suspend: true, serviceAccountName: 'bot', watch: { apiVersion: 'apps/v1', kind: 'Deployment' }, actions: [{ log: { message: 'x' } }] }, 'Rule', ns));
    const [row] = table(ok(['get', 'rules', '-n', ns]));
    expect(Object.keys(row)).to.deep.equal(['NAME', 'READY', 'KIND', 'MODE', 'LAST RUN', 'AGE']);
    expect(row).to.include({ NAME: name, READY: '', KIND: 'Deployment', MODE: 'enforce', 'LAST RUN': '' });

    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = {
      observedGeneration: 1,
      conditions: [{ type: 'Ready', status: 'True', observedGeneration: 1, reason: 'Loaded', message: 'ok', lastTransitionTime: now }],
      objectsMatched: 3, evaluations: 7, actionsSucceeded: 2, actionsFailed: 1, lastEvaluationTime: now, lastError: 'patch deployments: 409',
    };
    ok(['patch', 'rule', name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
    const [after] = table(ok(['get', 'rules', '-n', ns]));
    expect(after).to.include({ NAME: name, READY: 'True', KIND: 'Deployment', MODE: 'enforce' });
    expect(after['LAST RUN']).to.match(/^\d+s$/);
    // A spec change through the main resource leaves the status alone and bumps the generation.
    ok(['patch', 'rule', name, '-n', ns, '--type=merge', '-p', JSON.stringify({ spec: { mode: 'audit' }, status: { evaluations: 0 } })]);
    const got = JSON.parse(ok(['get', 'rule', name, '-n', ns, '-o', 'json'])) as Obj;
    expect(got.metadata.generation).to.equal(2);
    expect(got.status).to.deep.equal(status);
    const clusterWide = ok(['get', 'clusterrules', '-o', 'name']);
    expect(clusterWide).not.to.contain(name);
  });

  it('Kind shows the first watched kind of a rule with several watches (the API server prints one value per cell)', () => {
    const name = `multi-${Date.now().toString(36)}`;
    ok(['create', '-f', '-'], rule(name, { suspend: true, watch: [{ apiVersion: 'v1', kind: 'ConfigMap' }, { apiVersion: 'v1', kind: 'Secret' }], actions: [{ log: { message: 'x' } }] }));
    try {
      const [row] = table(ok(['get', 'clusterrule', name]));
      expect(row).to.include({ NAME: name, READY: '', KIND: 'ConfigMap', MODE: 'enforce' });
    } finally {
      ok(['delete', 'clusterrule', name, '--wait=false']);
    }
  });
});
