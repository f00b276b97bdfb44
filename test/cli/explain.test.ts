import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitTopLevel } from '../../src/cli/explain-steps.js';
import { runReflex } from '../support/reflex-cli.js';

/** Runs `reflex explain` from the repository root. */
const explain = (...args: string[]) => runReflex(['explain', ...args]);

const jobs = ['--rules', 'rules/', '--rule', 'delete-finished-jobs', '--manifests', 'examples/delete-finished-jobs.yaml', '--now', '2026-03-10T21:30:00Z'];

describe('reflex explain (offline)', () => {
  it('shows a selected object, each operand of when, and the rendered actions', async () => {
    const r = await explain(...jobs, '--object', 'Job/ci/build-7');
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('1. the watch selects the object: yes');
    expect(r.out).to.contain('✔ labelSelector: "cleanup!=false" matches labels (none)');
    expect(r.out).to.contain('2. the rule listens to sync: yes');
    expect(r.out).to.contain('3. when: true');
    expect(r.out).to.match(/all of:\n\s+✔ status\.succeeded > 0 {2}→ true\n\s+✔ \$exists\(status\.completionTime\) {2}→ true\n\s+✔ \$millis\(\) - \$toMillis\(status\.completionTime\) > 3600000 {2}→ true/);
    expect(r.out).to.contain('4. actions: 2 planned');
    expect(r.out).to.contain('[1] delete Job ci/build-7  options {"propagationPolicy":"Background"}');
    expect(r.out).to.contain('verdict: the rule acts on this object (2 actions)');
  });

  it('says which selector rejects an object', async () => {
    const r = await explain(...jobs, '--object', 'job/ci/build-keep');
    expect(r.code).to.equal(0);
    expect(r.out).to.contain('✘ labelSelector: "cleanup!=false" does not match labels cleanup=false');
    expect(r.out).to.contain('verdict: no action, because the watch does not select the object (labelSelector)');
  });

  it('shows which operand of when is false, and the actions the rule would plan', async () => {
    const r = await explain(...jobs.slice(0, -1), '2026-03-10T20:00:00Z', '--object', 'Job/ci/build-7');
    expect(r.out).to.contain('3. when: false');
    expect(r.out).to.match(/✘ \$millis\(\) - \$toMillis\(status\.completionTime\) > 3600000 {2}→ false/);
    expect(r.out).to.contain('4. actions: none planned; if the rule acted, it would plan 2:');
    expect(r.out).to.contain('verdict: no action, because when is false');
  });

  it('explains a namespaceSelector and a $get against the manifests', async () => {
    const r = await explain('--rules', 'rules/propagate-team-label.yaml', '--manifests', 'examples/propagate-team-label.yaml', '--object', 'Deployment/shop/api', '--output', 'json');
    expect(r.code, r.err).to.equal(0);
    const e = JSON.parse(r.out);
    const ns = e.selection.find((c: { what: string }) => c.what === 'namespaceSelector');
    expect(ns.ok).to.equal(true);
    expect(ns.why).to.match(/^"team" matches Namespace shop's labels .*team=/);
    expect(e.when.truthy).to.equal(true);
    expect(e.actions[0]).to.deep.include({ action: 'patch', rule: 'propagate-team-label' });
  });

  it('asks for --object when the manifests hold several objects of the kind, naming them', async () => {
    const r = await explain(...jobs);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain('pick one with --object (Job/ci/build-7, Job/ci/build-8');
  });

  it('asks for --rule when the files hold several rules, and rejects a kind the rule does not watch', async () => {
    const several = await explain('--rules', 'rules/', '--manifests', 'examples/delete-finished-jobs.yaml');
    expect(several.code).to.equal(1);
    expect(several.err).to.contain('pick one with --rule (');
    const wrong = await explain(...jobs, '--object', 'Pod/ci/x');
    expect(wrong.err).to.contain('--object names a Pod (v1), but rule "delete-finished-jobs" watches batch/v1 Job');
  });

  it('exits 2 on usage errors', async () => {
    expect((await explain('--manifests', 'x')).code).to.equal(2);
    expect((await explain('--rules', 'rules/')).code).to.equal(2);
    expect((await explain(...jobs, '--event', 'poke')).code).to.equal(2);
  });

  it('reports an expression error in when as part of the explanation', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflex-explain-'));
    try {
      writeFileSync(join(dir, 'r.yaml'), 'apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: {name: r}\nspec:\n  watch: {apiVersion: v1, kind: ConfigMap}\n  when: \'$number(data.n) > 1 and $substring(1, "x")\'\n  actions: [{log: {message: hi}}]\n');
      writeFileSync(join(dir, 'm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {n: "2"}\n');
      const r = await explain('--rules', join(dir, 'r.yaml'), '--manifests', join(dir, 'm.yaml'));
      expect(r.code, r.err).to.equal(0);
      expect(r.out).to.contain('3. when: error');
      expect(r.out).to.match(/✔ \$number\(data\.n\) > 1 {2}→ true/);
      expect(r.out).to.match(/verdict: no action, because when failed: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits when at top-level and/or only, outside brackets and strings', () => {
    expect(splitTopLevel('a and (b or c) and "x and y" and $f(d and e)', 'and')).to.deep.equal(['a', '(b or c)', '"x and y"', '$f(d and e)']);
    expect(splitTopLevel('brand = 1 or order.or = 2', 'or')).to.deep.equal(['brand = 1', 'order.or = 2']);
  });
});
