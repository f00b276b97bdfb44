import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { crd, crdFiles, openApiSchema } from '../../src/cli/crd-files.js';
import { repositoryRoot } from '../../src/cli/generate.js';

type Node = Record<string, unknown>;

/** The structural-schema rules the API server checks, as paths that break one (mirrors apiextensions' validation). */
function violations(node: Node, path: string, level: 'root' | 'field' | 'item'): string[] {
  const out: string[] = [];
  const free = node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-int-or-string'] === true;
  if (!node.type && !free) out.push(`${path}: no type`);
  for (const k of ['$ref', 'oneOf', 'allOf', 'not', 'if', 'then', 'else', 'const', 'examples', 'x-expected']) if (k in node) out.push(`${path}: ${k}`);
  if ('anyOf' in node) out.push(`${path}: anyOf`);
  if (node.uniqueItems) out.push(`${path}: uniqueItems`);
  if (node.properties && 'additionalProperties' in node) out.push(`${path}: properties with additionalProperties`);
  if (node.type === 'array' && !node.items) out.push(`${path}: array without items`);
  if (level === 'root' && node.type !== 'object') out.push(`${path}: root is not an object`);
  if ('default' in node && path !== '.spec.mode') out.push(`${path}: default`);
  for (const [k, v] of Object.entries((node.properties as Record<string, Node>) ?? {})) out.push(...violations(v, `${path}.${k}`, 'field'));
  if (node.items) out.push(...violations(node.items as Node, `${path}[]`, 'item'));
  if (node.additionalProperties && typeof node.additionalProperties === 'object') out.push(...violations(node.additionalProperties as Node, `${path}{}`, 'field'));
  return out;
}

const at = (schema: Node, path: string) => path.split('.').reduce((n, k) => (n.properties as Record<string, Node>)[k], schema);

describe('cli/crd-files: the ClusterRule and Rule CRDs', () => {
  for (const kind of ['ClusterRule', 'Rule'] as const) {
    it(`${kind}: a structural schema, no default but spec.mode's, descriptions kept`, () => {
      const schema = openApiSchema(kind);
      expect(violations(schema, '', 'root')).to.deep.equal([]);
      expect(at(schema, 'spec.watch').description).to.match(/^The objects the rule sees/);
      expect(at(schema, 'spec.watch.kind').description).to.equal('The watched kind, as in manifests (not the plural).');
      expect(at(schema, 'spec.limits.maxActionsPerRun').description).to.match(/Default: 100\.$/);
      expect(at(schema, 'spec.mode').default).to.equal('enforce');
      expect(at(schema, 'metadata')).to.deep.equal({ type: 'object' });
    });
  }

  it('only the namespaced Rule has spec.serviceAccountName; scopes and names', () => {
    expect(Object.keys(at(openApiSchema('Rule'), 'spec').properties as Node)).to.include('serviceAccountName');
    expect(Object.keys(at(openApiSchema('ClusterRule'), 'spec').properties as Node)).not.to.include('serviceAccountName');
    const c = crd('ClusterRule') as { metadata: { name: string }; spec: { scope: string } };
    const r = crd('Rule') as { metadata: { name: string }; spec: { scope: string } };
    expect([c.metadata.name, c.spec.scope, r.metadata.name, r.spec.scope]).to.deep.equal(['clusterrules.reflex.dev', 'Cluster', 'rules.reflex.dev', 'Namespaced']);
  });

  it('maps what a structural schema cannot say: int-or-string, kept-as-written values, nullable, sets', () => {
    const spec = at(openApiSchema('ClusterRule'), 'spec');
    const action = (spec.properties as Record<string, Node>).actions.items as Node;
    const del = (action.properties as Record<string, Node>).delete;
    expect(del.nullable).to.equal(true);
    expect((del.properties as Record<string, Node>).gracePeriodSeconds['x-kubernetes-int-or-string']).to.equal(true);
    expect((del.properties as Record<string, Node>).ignoreMissing['x-kubernetes-preserve-unknown-fields']).to.equal(true);
    const apply = (action.properties as Record<string, Node>).apply.properties as Record<string, Node>;
    expect(apply.object).to.include({ 'x-kubernetes-preserve-unknown-fields': true }).and.not.to.have.property('type');
    expect(at(spec, 'on')['x-kubernetes-list-type']).to.equal('set');
    const watch = at(spec, 'watch');
    expect(watch['x-kubernetes-preserve-unknown-fields']).to.equal(true);
    expect(Object.keys((watch.items as Node).properties as Node)).to.deep.equal(Object.keys(watch.properties as Node));
  });

  it('the files in config/crd and the chart\'s crds are the generated ones, the same in both places', () => {
    const files = crdFiles();
    expect(files.map((f) => f.path)).to.deep.equal([
      'config/crd/clusterrules.reflex.dev.yaml',
      'config/crd/rules.reflex.dev.yaml',
      'charts/reflex/crds/clusterrules.reflex.dev.yaml',
      'charts/reflex/crds/rules.reflex.dev.yaml',
    ]);
    for (const f of files) {
      expect(readFileSync(join(repositoryRoot, f.path), 'utf8'), `${f.path} is stale: run npm run gen`).to.equal(f.text);
      expect(load(f.text)).to.deep.equal(crd(f.path.includes('clusterrules') ? 'ClusterRule' : 'Rule'));
    }
  });
});
