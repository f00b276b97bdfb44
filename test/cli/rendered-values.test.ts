import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReflex } from '../support/reflex-cli.js';

/** Rules whose rendered values are of the wrong type, found at load time (constants, text templates). */
const STATIC = `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: {name: soon-grace}
spec:
  watch: {apiVersion: v1, kind: ConfigMap}
  actions:
    - delete: {gracePeriodSeconds: "{{ 'soon' }}"}
---
apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: {name: text-force}
spec:
  watch: {apiVersion: v1, kind: ConfigMap}
  actions:
    - apply:
        force: "{{ metadata.name }} {{ metadata.namespace }}"
        object: {apiVersion: v1, kind: ConfigMap, metadata: {name: x}}
`;

/** A rule whose wrong type depends on the object: only an evaluation can tell. */
const DYNAMIC = `apiVersion: reflex.dev/v1alpha1
kind: ClusterRule
metadata: {name: grace-from-annotation}
spec:
  watch: {apiVersion: v1, kind: ConfigMap}
  actions:
    - delete: {gracePeriodSeconds: "{{ metadata.annotations.grace = 'now' ? 0 : metadata.annotations.grace }}"}
`;

const configMap = (name: string, grace: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: ${name}, namespace: default, annotations: {grace: "${grace}"}}
`;

const FAILURE = 'rule "grace-from-annotation": actions[0].delete.gracePeriodSeconds: expected an integer >= 0; {{ metadata.annotations.grace = \'now\' ? 0 : metadata.annotations.grace }} rendered "soon"; nothing was sent';

describe('cli: rendered values of the wrong type in validate, dry-run, explain and test', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-rendered-'));
    writeFileSync(join(dir, 'static.yaml'), STATIC);
    writeFileSync(join(dir, 'dynamic.yaml'), DYNAMIC);
    writeFileSync(join(dir, 'bad.yaml'), configMap('bad', 'soon'));
    writeFileSync(join(dir, 'good.yaml'), configMap('good', 'now'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('validate places what is static at file:line:col with what the field expects, and exits 1', async () => {
    const r = await runReflex(['validate', join(dir, 'static.yaml')]);
    expect(r.code).to.equal(1);
    const file = join(dir, 'static.yaml');
    expect(r.err.trim().split('\n')).to.deep.equal([
      `${file}:7:36: rule "soon-grace" (document 1): spec.actions[0].delete.gracePeriodSeconds: expected an integer >= 0; the template always renders "soon"`,
      `${file}:16:16: rule "text-force" (document 2): spec.actions[0].apply.force: expected a boolean; the template always renders text (it has text around or between its expressions)`,
      '2 problems in 1 file; 0 valid rules',
    ]);
  });

  it('validate accepts a template whose type only the object decides', async () => {
    const r = await runReflex(['validate', join(dir, 'dynamic.yaml')]);
    expect(r.code, r.err).to.equal(0);
  });

  it('dry-run reports the failure of the action naming rule, action and field, plans the good object, and exits 1', async () => {
    const r = await runReflex(['dry-run', '--rules', join(dir, 'dynamic.yaml'), '--manifests', join(dir, 'bad.yaml'), '--manifests', join(dir, 'good.yaml'), '-o', 'json']);
    expect(r.code).to.equal(1);
    expect(r.err.trim()).to.equal(`${FAILURE} (object ConfigMap default/bad, event sync)`);
    const plan = JSON.parse(r.out) as { target: { name: string }; options: unknown }[];
    expect(plan.map((p) => [p.target.name, p.options])).to.deep.equal([['good', { gracePeriodSeconds: 0 }]]);
  });

  it('explain shows that the actions cannot render, and why', async () => {
    const r = await runReflex(['explain', '--rules', join(dir, 'dynamic.yaml'), '--manifests', join(dir, 'bad.yaml'), '--rule', 'grace-from-annotation', '--object', 'ConfigMap/default/bad']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain(`4. actions: cannot render: ${FAILURE}`);
    expect(r.out).to.contain(`verdict: no action, because its actions failed to render: ${FAILURE}`);
  });

  it('test fails a case whose action renders wrong, naming the field, in text and junit', async () => {
    writeFileSync(
      join(dir, 'dynamic.test.yaml'),
      `apiVersion: reflex.dev/v1alpha1
kind: RuleTest
metadata: {name: grace from annotation}
spec:
  rules: [dynamic.yaml]
  objects: [{apiVersion: v1, kind: ConfigMap, metadata: {name: bad, namespace: default, annotations: {grace: soon}}}]
  expect: [{action: delete}]
`,
    );
    const text = await runReflex(['test', 'dynamic.test.yaml'], { cwd: dir });
    expect(text.code).to.equal(1);
    expect(text.out).to.contain(`✘ grace from annotation\n    initial sync: ${FAILURE} (object ConfigMap default/bad, event sync)`);
    const junit = await runReflex(['test', 'dynamic.test.yaml', '-o', 'junit'], { cwd: dir });
    expect(junit.code).to.equal(1);
    expect(junit.out).to.contain('tests="1" failures="1"').and.contain('actions[0].delete.gracePeriodSeconds: expected an integer &gt;= 0');
  });
});
