/** Every command that reads rules takes ClusterRule and Rule documents, and says once per file that `kind: Rule` without a namespace is deprecated. */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReflex } from '../support/reflex-cli.js';

const rule = (kind: string, name: string, namespace?: string) => `apiVersion: reflex.dev/v1alpha1
kind: ${kind}
metadata: {name: ${name}${namespace ? `, namespace: ${namespace}` : ''}}
spec:
  watch: {apiVersion: v1, kind: ConfigMap}
  actions:
    - patch: {patch: {metadata: {labels: {seen: "yes"}}}}
`;
const manifests = `apiVersion: v1
kind: ConfigMap
metadata: {name: c1, namespace: team-a}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c2, namespace: team-b}
`;
const warning = (file: string) => `${file}:2:7: warning: kind: Rule without metadata.namespace is read as ClusterRule (2 rules in this source); this form is deprecated, write kind: ClusterRule`;

describe('cli: ClusterRule and Rule documents', () => {
  let dir: string;
  let cluster: string;
  let team: string;
  let old: string;
  let objects: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-kinds-'));
    cluster = join(dir, 'cluster.yaml');
    team = join(dir, 'team.yaml');
    old = join(dir, 'old.yaml');
    objects = join(dir, 'objects.yaml');
    writeFileSync(cluster, rule('ClusterRule', 'everywhere'));
    writeFileSync(team, rule('Rule', 'team-only', 'team-a'));
    writeFileSync(old, `${rule('Rule', 'old-one')}---\n${rule('Rule', 'old-two')}`);
    writeFileSync(objects, manifests);
    writeFileSync(join(dir, 'team.test.yaml'), `apiVersion: reflex.dev/v1alpha1
kind: RuleTest
metadata: {name: acts only in its namespace}
spec:
  objects:
    - {apiVersion: v1, kind: ConfigMap, metadata: {name: c2, namespace: team-b}}
  expect: none
  steps:
    - create: {apiVersion: v1, kind: ConfigMap, metadata: {name: c1, namespace: team-a}}
      expect:
        - action: patch
          trigger: {kind: ConfigMap, namespace: team-a, name: c1, event: create}
          target: {apiVersion: v1, kind: ConfigMap, namespace: team-a, name: c1}
          body: {metadata: {labels: {seen: "yes"}}}
`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('validate: all load; the deprecated form warns once for its file', async () => {
    const r = await runReflex(['validate', cluster, team, old]);
    expect(r).to.deep.equal({ code: 0, out: '4 rules valid in 3 files\n', err: `${warning(old)}\n` });
  });

  it('dry-run: the namespaced Rule acts only in its namespace, the ClusterRule everywhere', async () => {
    const r = await runReflex(['dry-run', '--rules', cluster, '--rules', team, '--rules', old, '--manifests', objects, '-o', 'json']);
    expect(r.code, r.err).to.equal(0);
    expect(r.err).to.equal(`${warning(old)}\n`);
    const plan = JSON.parse(r.out) as { rule: string; target: { namespace: string } }[];
    const where = (name: string) => plan.filter((p) => p.rule === name).map((p) => p.target.namespace);
    expect(where('everywhere')).to.deep.equal(['team-a', 'team-b']);
    expect(where('team-only')).to.deep.equal(['team-a']);
    expect(where('old-one')).to.deep.equal(['team-a', 'team-b']);
  });

  it('explain: a namespaced Rule does not select an object of another namespace', async () => {
    const r = await runReflex(['explain', '--rules', team, '--manifests', objects, '--object', 'configmap/team-b/c2']);
    expect(r.code, r.err).to.equal(0);
    expect(r.out).to.contain('namespaces: [team-a] does not include "team-b"');
    const w = await runReflex(['explain', '--rules', old, '--rule', 'old-one', '--manifests', objects, '--object', 'configmap/team-b/c2']);
    expect([w.code, w.err]).to.deep.equal([0, `${warning(old)}\n`]);
  });

  it('rbac and test take them too', async () => {
    const rbac = await runReflex(['rbac', cluster, team, old, '--roles-only']);
    expect(rbac.code, rbac.err).to.equal(0);
    expect(rbac.out).to.contain('# Rules: everywhere, old-one, old-two, team-only');
    expect(rbac.err).to.equal(`${warning(old)}\n`);
    const t = await runReflex(['test', join(dir, 'team.test.yaml')]);
    expect(t.code, `${t.out}${t.err}`).to.equal(0);
  });
});
