import { expect } from 'chai';
import { applyJsonPatch, applyMergePatch, applyPatchLocally, applyStrategicPatch, deepEqual, LocalPatchError } from '../../src/actions/index.js';

describe('actions/local-patch', () => {
  const obj = { metadata: { name: 'x', labels: { a: '1', b: '2' } }, spec: { containers: [{ name: 'c', image: 'i:1' }, { name: 'd', image: 'j:1' }], replicas: 1 } };

  it('merge patch (RFC 7386): sets, removes with null, replaces lists', () => {
    expect(applyMergePatch(obj, { metadata: { labels: { a: null, c: '3' } }, spec: { replicas: 2 } })).to.deep.equal({
      metadata: { name: 'x', labels: { b: '2', c: '3' } },
      spec: { containers: obj.spec.containers, replicas: 2 },
    });
    expect(applyMergePatch(obj, { spec: { containers: [] } })).to.deep.include({ spec: { containers: [], replicas: 1 } });
  });

  it('json patch (RFC 6902): add, remove, replace, move, copy, test', () => {
    const out = applyJsonPatch(obj, [
      { op: 'add', path: '/metadata/labels/c', value: '3' },
      { op: 'remove', path: '/metadata/labels/a' },
      { op: 'replace', path: '/spec/replicas', value: 4 },
      { op: 'copy', from: '/metadata/name', path: '/metadata/alias' },
      { op: 'move', from: '/metadata/alias', path: '/metadata/other' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'e' } },
      { op: 'test', path: '/spec/replicas', value: 4 },
    ]);
    expect(out).to.deep.equal({
      metadata: { name: 'x', labels: { b: '2', c: '3' }, other: 'x' },
      spec: { containers: [...obj.spec.containers, { name: 'e' }], replicas: 4 },
    });
    expect(obj.metadata.labels).to.deep.equal({ a: '1', b: '2' });
  });

  it('json patch: a failed test or a missing path is a LocalPatchError', () => {
    expect(() => applyJsonPatch(obj, [{ op: 'test', path: '/spec/replicas', value: 9 }])).to.throw(LocalPatchError, 'test of "/spec/replicas" failed');
    expect(() => applyJsonPatch(obj, [{ op: 'remove', path: '/nope/x' }])).to.throw(LocalPatchError, 'path "/nope/x" does not exist');
  });

  it('strategic merge: lists of named objects merge by name; $patch: delete removes one', () => {
    expect(applyStrategicPatch(obj, { spec: { containers: [{ name: 'c', image: 'i:2' }, { name: 'd', $patch: 'delete' }, { name: 'f', image: 'k' }] } })).to.deep.equal({
      metadata: obj.metadata,
      spec: { containers: [{ name: 'c', image: 'i:2' }, { name: 'f', image: 'k' }], replicas: 1 },
    });
  });

  it('tells a no-op patch from a change', () => {
    expect(deepEqual(applyPatchLocally(obj, { metadata: { labels: { a: '1' } } }, 'merge'), obj)).to.equal(true);
    expect(deepEqual(applyPatchLocally(obj, { spec: { containers: [{ name: 'c', image: 'i:1' }] } }, 'strategic'), obj)).to.equal(true);
    expect(deepEqual(applyPatchLocally(obj, [{ op: 'replace', path: '/spec/replicas', value: 1 }], 'json'), obj)).to.equal(true);
    expect(deepEqual(applyPatchLocally(obj, { metadata: { labels: { a: '9' } } }, 'merge'), obj)).to.equal(false);
  });
});
