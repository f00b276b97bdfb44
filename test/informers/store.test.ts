import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { parseLabelSelector, SelectorSyntaxError } from '../../src/core/index.js';
import { NAMESPACE_INDEX, createLister, createStore } from '../../src/informers/index.js';
import { cm } from './memory-lister-watcher.js';

const at = (o: KubeObject, rv: string): KubeObject => ({ ...o, metadata: { ...o.metadata, resourceVersion: rv } });
const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, resourceVersion: '1' } });

describe('store', () => {
  it('files objects under their namespace, cluster-scoped ones under the empty string', () => {
    const [store, writer] = createStore();
    writer.apply(at(cm('a', 'x'), '1'));
    writer.apply(at(cm('b', 'y'), '2'));
    writer.apply(ns('a'));
    expect(store.byIndex(NAMESPACE_INDEX, 'a').map((o) => o.metadata?.name)).to.deep.equal(['x']);
    expect(store.byIndex(NAMESPACE_INDEX, '').map((o) => o.metadata?.name)).to.deep.equal(['a']);
    expect(store.get('b/y')?.metadata?.name).to.equal('y');
    expect(store.get('a')?.kind).to.equal('Namespace');
  });

  it('keeps custom indexes current through updates and deletes', () => {
    const [store, writer] = createStore({ indexers: { app: (o) => (o.metadata?.labels?.app ? [o.metadata.labels.app] : []) } });
    writer.apply(at(cm('n', 'x', {}, { app: 'web' }), '1'));
    expect(store.byIndex('app', 'web')).to.have.length(1);
    writer.apply(at(cm('n', 'x', {}, { app: 'api' }), '2'));
    expect(store.byIndex('app', 'web')).to.have.length(0);
    expect(store.byIndex('app', 'api')).to.have.length(1);
    writer.delete(at(cm('n', 'x', {}, { app: 'api' }), '3'));
    expect(store.byIndex('app', 'api')).to.have.length(0);
    expect(store.size).to.equal(0);
  });

  it('refuses a lookup in an index it does not have, naming the ones it has', () => {
    const [store] = createStore();
    expect(() => store.byIndex('owner', 'x')).to.throw(/no index named "owner" \(have: namespace\)/);
  });

  it('reports no change when an object arrives again with the same resourceVersion', () => {
    const [, writer] = createStore();
    expect(writer.apply(at(cm('n', 'x'), '1'))?.type).to.equal('add');
    expect(writer.apply(at(cm('n', 'x'), '1'))).to.equal(undefined);
    expect(writer.apply(at(cm('n', 'x'), '2'))?.type).to.equal('update');
  });

  it('ignores the delete of an object it never held', () => {
    const [, writer] = createStore();
    expect(writer.delete(at(cm('n', 'ghost'), '5'))).to.equal(undefined);
  });

  it('replaces its content with a listing, reporting only what differs and marking only the first listing initial', () => {
    const [store, writer] = createStore();
    const first = writer.replace([at(cm('n', 'a'), '1'), at(cm('n', 'b'), '2')], '10');
    expect(first.map((c) => c.type === 'add' && c.isInitialList)).to.deep.equal([true, true]);
    const second = writer.replace([at(cm('n', 'a'), '1'), at(cm('n', 'b'), '5'), at(cm('n', 'c'), '6')], '20');
    expect(second.map((c) => `${c.type} ${c.object.metadata?.name}`)).to.deep.equal(['update b', 'add c']);
    expect(second.find((c) => c.type === 'add')).to.include({ isInitialList: false });
    const third = writer.replace([at(cm('n', 'c'), '6')], '30');
    expect(third.map((c) => `${c.type} ${c.object.metadata?.name}`)).to.deep.equal(['delete a', 'delete b']);
    expect(store.resourceVersion).to.equal('30');
  });

  it('applies its transform before storing, and strips managedFields by default', () => {
    const withFields = { ...cm('n', 'x'), metadata: { namespace: 'n', name: 'x', resourceVersion: '1', managedFields: [{}] } };
    const [plain, w1] = createStore();
    w1.apply(withFields);
    expect(plain.get('n/x')?.metadata).to.not.have.property('managedFields');
    expect(withFields.metadata).to.have.property('managedFields'); // the input is not mutated
    const [custom, w2] = createStore({ transform: (o) => ({ ...o, data: undefined }) });
    w2.apply(at(cm('n', 'x', { big: 'value' }), '1'));
    expect(custom.get('n/x')).to.not.have.property('data', 'value');
    expect(custom.get('n/x')?.data).to.equal(undefined);
  });
});

describe('Lister', () => {
  const [store, writer] = createStore();
  writer.replace(
    [
      at(cm('b', 'two', {}, { app: 'web', tier: 'front' }), '1'),
      at(cm('a', 'one', {}, { app: 'web' }), '2'),
      at(cm('a', 'three', {}, { app: 'db' }), '3'),
      ns('a'),
    ],
    '9',
  );
  const lister = createLister(store);

  it('gets a namespaced object by namespace and name, and a cluster-scoped one with an empty namespace', () => {
    expect(lister.get('a', 'one')?.metadata?.name).to.equal('one');
    expect(lister.get('', 'a')?.kind).to.equal('Namespace');
    expect(lister.get(null, 'a')?.kind).to.equal('Namespace');
    expect(lister.get('a', 'missing')).to.equal(undefined);
  });

  it('lists one namespace or all of them, sorted by namespace then name', () => {
    expect(lister.list('a').map((o) => o.metadata?.name)).to.deep.equal(['one', 'three']);
    expect(lister.list().map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`)).to.deep.equal(['/a', 'a/one', 'a/three', 'b/two']);
  });

  it('filters by label selector', () => {
    expect(lister.list(null, 'app=web').map((o) => o.metadata?.name)).to.deep.equal(['one', 'two']);
    expect(lister.list('b', 'app=web,tier in (front)').map((o) => o.metadata?.name)).to.deep.equal(['two']);
    expect(lister.list('a', '!tier,app!=db').map((o) => o.metadata?.name)).to.deep.equal(['one']);
  });
});

describe('label selectors', () => {
  const l = { app: 'web', tier: 'front', env: '' };
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=api', false],
    ['app!=api', true],
    ['missing!=x', true],
    ['tier in (front, back)', true],
    ['tier notin (front)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['!app', false],
    ['!missing', true],
    ['env=', true],
    ['app=web, tier in (front,back), !legacy', true],
  ];
  for (const [selector, expected] of cases) {
    it(`${expected ? 'matches' : 'does not match'} ${JSON.stringify(selector)}`, () => {
      expect(parseLabelSelector(selector).matches(l)).to.equal(expected);
    });
  }

  it('rejects malformed selectors with a message naming the bad term', () => {
    expect(() => parseLabelSelector('app=web,tier in front')).to.throw(SelectorSyntaxError);
  });
});
