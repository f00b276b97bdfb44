import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { createStore, projectionTransform } from '../../src/informers/index.js';

const pod = (): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', resourceVersion: '5', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u' }], managedFields: [{ manager: 'kubectl' }] },
    spec: { nodeName: 'n1', containers: [{ name: 'a', image: 'nginx', env: [{ name: 'X' }] }, { name: 'b' }, 'odd'], volumes: [{ name: 'v' }] },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
  }) as KubeObject;

describe('informers/projection: stores that keep only some paths', () => {
  it('keeps apiVersion, kind and metadata (without managedFields) and the subtrees at the paths', () => {
    expect(projectionTransform([['status', 'phase']])(pod())).to.deep.equal({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', resourceVersion: '5', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u' }] },
      status: { phase: 'Running' },
    });
  });

  it('keeps managedFields when asked', () => {
    expect(projectionTransform([], { keepManagedFields: true })(pod()).metadata?.managedFields).to.deep.equal([{ manager: 'kubectl' }]);
  });

  it('keeps every element of an array on a path, in order, each projected; other values as they are', () => {
    expect(projectionTransform([['spec', 'containers', 'image']])(pod()).spec).to.deep.equal({ containers: [{ image: 'nginx' }, {}, 'odd'] });
  });

  it('keeps a whole subtree when a path names it, whatever longer paths ask, and shares it with the decoded object', () => {
    const obj = pod();
    const out = projectionTransform([['status', 'phase'], ['status'], ['spec', 'nodeName']])(obj);
    expect(out.status).to.equal(obj.status);
    expect(out.spec).to.deep.equal({ nodeName: 'n1' });
  });

  it('leaves out a path the object does not have, rather than adding it as undefined', () => {
    const out = projectionTransform([['status', 'podIP'], ['spec', 'missing', 'deep']])(pod());
    expect(out).to.not.have.nested.property('status.podIP');
    expect(out.spec).to.deep.equal({});
  });

  it('is a store transform: stored objects are projected', () => {
    const [store, writer] = createStore({ transform: projectionTransform([['status', 'phase']]) });
    writer.apply(pod());
    expect(store.get('ns/p')).to.not.have.property('spec');
  });
});
