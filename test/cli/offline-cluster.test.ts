import { expect } from 'chai';
import { OfflineCluster, parseManifests } from '../../src/cli/offline-cluster.js';
import { lineDiff } from '../../src/cli/text-diff.js';

describe('cli/offline-cluster', () => {
  const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: { name: widgets.example.com }
spec:
  group: example.com
  scope: Cluster
  names: { kind: Widget, plural: widgets }
  versions: [{ name: v1, served: true, storage: true }]
`;

  it('knows built-in scopes and takes a CRD\'s scope from its manifest', () => {
    const { objects } = parseManifests([{ file: 'm.yaml', text: crd }]);
    const c = new OfflineCluster(objects);
    expect(c.scopeOf('v1', 'ConfigMap')).to.equal('Namespaced');
    expect(c.scopeOf('rbac.authorization.k8s.io/v1', 'ClusterRole')).to.equal('Cluster');
    expect(c.scopeOf('example.com/v1', 'Widget')).to.equal('Cluster');
    expect(c.scopeOf('example.com/v2', 'Widget')).to.equal(undefined);
    expect(c.scopeOf('other.io/v1', 'Thing')).to.equal(undefined);
  });

  it('places namespaced objects without a namespace in default, and strips one from cluster-scoped objects', () => {
    const text = `${crd}---
apiVersion: v1
kind: ConfigMap
metadata: { name: a }
---
apiVersion: example.com/v1
kind: Widget
metadata: { name: w, namespace: stray }
`;
    const c = new OfflineCluster(parseManifests([{ file: 'm.yaml', text }]).objects);
    expect(c.get('v1', 'ConfigMap', 'default', 'a')?.metadata?.name).to.equal('a');
    expect(c.get('example.com/v1', 'Widget', undefined, 'w')?.metadata).to.deep.equal({ name: 'w' });
    expect(c.list('v1', 'ConfigMap', undefined)).to.have.length(1);
    expect(c.list('v1', 'ConfigMap', 'elsewhere')).to.deep.equal([]);
  });

  it('flattens lists and reports documents that are not objects, and YAML errors with their place', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n  - { apiVersion: v1, kind: ConfigMap, metadata: { name: x } }\n  - { apiVersion: v1, kind: ConfigMap, metadata: { name: y } }\n---\njust: a map\n';
    const r = parseManifests([
      { file: 'list.yaml', text: list },
      { file: 'bad.yaml', text: 'a: [1\n' },
    ]);
    expect(r.objects.map((o) => o.metadata?.name)).to.deep.equal(['x', 'y']);
    expect(r.problems).to.deep.equal([
      { file: 'list.yaml', line: 1, column: 1, message: 'document 2: expected a Kubernetes object with apiVersion, kind and metadata.name' },
      { file: 'bad.yaml', line: 2, column: 1, message: r.problems[1].message },
    ]);
    expect(r.problems[1].message).to.match(/^invalid YAML: /);
  });
});

describe('cli/text-diff', () => {
  it('marks removed and added lines and elides long unchanged runs', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x: 1'].join('\n');
    const after = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x: 2'].join('\n');
    expect(lineDiff(before, after, 2)).to.deep.equal(['  …', '  g', '  h', '- x: 1', '+ x: 2']);
  });
});
