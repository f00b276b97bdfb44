import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { evaluate, type ObjectLister } from '../../src/engine/index.js';
import { DependencyIndex, RecordingLister } from '../../src/daemon/dependency-index.js';
import { listerOf, ruleFrom, ruleText } from '../engine/helpers.js';

const secret = (namespace: string, name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name, labels } });

/** The reads of one lookup sequence. */
async function reads(run: (l: ObjectLister) => Promise<unknown> | unknown) {
  const l = new RecordingLister(listerOf([]));
  await run(l);
  return l.reads();
}

describe('daemon/dependency-index: which keys read an object', () => {
  it('records the $get and $list calls an evaluation performs', async () => {
    const rule = ruleFrom(
      ruleText('r', `watch: { apiVersion: v1, kind: Namespace }\nwhen: "$exists($get('v1', 'Secret', 'platform', 'regcred')) or $count($list('v1', 'ConfigMap', 'platform', 'copy=yes')) > 0"\nactions:\n  - log: { message: hi }`),
    );
    const l = new RecordingLister(listerOf([]));
    await evaluate(rule, 'sync', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }, undefined, { lister: l });
    const index = new DependencyIndex();
    index.record('r|a', l.reads());
    expect([...index.dependents('v1', 'Secret', secret('platform', 'regcred'))]).to.deep.equal(['r|a']);
    expect([...index.dependents('v1', 'ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'platform', name: 'x', labels: { copy: 'yes' } } })]).to.deep.equal(['r|a']);
    expect([...index.dependents('v1', 'ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'platform', name: 'x', labels: { copy: 'no' } } })]).to.deep.equal([]);
  });

  it('finds a $get by exact name only, and a $list by namespace, all namespaces and selector (now or before)', async () => {
    const index = new DependencyIndex();
    index.record('get', await reads((l) => l.get('v1', 'Secret', 'platform', 'regcred')));
    index.record('list-ns', await reads((l) => l.list('v1', 'Secret', 'team-a', undefined)));
    index.record('list-all', await reads((l) => l.list('v1', 'Secret', undefined, 'copy in (yes)')));
    expect([...index.dependents('v1', 'Secret', secret('platform', 'regcred'))]).to.deep.equal(['get']);
    expect([...index.dependents('v1', 'Secret', secret('platform', 'other'))]).to.deep.equal([]);
    expect([...index.dependents('v1', 'Secret', secret('team-a', 'x'))]).to.deep.equal(['list-ns']);
    expect([...index.dependents('v1', 'Secret', secret('team-b', 'x', { copy: 'yes' }))]).to.deep.equal(['list-all']);
    expect([...index.dependents('v1', 'Secret', secret('team-b', 'x'), secret('team-b', 'x', { copy: 'yes' }))]).to.deep.equal(['list-all']);
    expect([...index.dependents('v1', 'ConfigMap', secret('platform', 'regcred'))]).to.deep.equal([]);
  });

  it('replaces a key’s reads on each record and forgets them on drop, leaving nothing behind', async () => {
    const index = new DependencyIndex();
    index.record('k', await reads((l) => l.get('v1', 'Secret', 'platform', 'a')));
    index.record('k', await reads((l) => l.get('v1', 'Secret', 'platform', 'b')));
    expect([...index.dependents('v1', 'Secret', secret('platform', 'a'))]).to.deep.equal([]);
    expect([...index.dependents('v1', 'Secret', secret('platform', 'b'))]).to.deep.equal(['k']);
    expect(index.stats()).to.deep.equal({ keys: 1, entries: 1 });
    index.drop('k');
    expect(index.stats()).to.deep.equal({ keys: 0, entries: 0 });
    expect(index.kinds()).to.deep.equal([]);
  });

  it('shares one entry among many keys reading one object', async () => {
    const index = new DependencyIndex();
    for (let i = 0; i < 100; i++) index.record(`r|ns-${i}`, await reads((l) => l.get('v1', 'Secret', 'platform', 'regcred')));
    expect(index.dependents('v1', 'Secret', secret('platform', 'regcred')).size).to.equal(100);
    index.dropWhere((k) => k.startsWith('r|'));
    expect(index.stats()).to.deep.equal({ keys: 0, entries: 0 });
  });
});
