import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { evaluate, objectIdentity, refOf, stampGenerated, type PlannedRef } from '../../src/engine/index.js';
import { asStored, covers, GeneratePlanner } from '../../src/daemon/generate-planner.js';
import { listerOf, ruleFrom, ruleText } from '../engine/helpers.js';

const ns = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, uid: `uid-${name}` } });
const rule = (name: string, extra = '') =>
  ruleFrom(ruleText(name, `watch: { apiVersion: v1, kind: Namespace }\ngenerate:${extra}\n  objects:\n    - { apiVersion: v1, kind: ConfigMap, metadata: { name: cfg, namespace: "{{ metadata.name }}" }, data: { a: "1" } }`));

/** The inventory as the planner reads it: objects held in memory, indexed as the informer-backed one is. */
function inventoryOf(objects: KubeObject[]) {
  const get = (ref: PlannedRef) => objects.find((o) => objectIdentity(refOf(o)) === objectIdentity(ref));
  const of = (label: string, uid: string) => objects.filter((o) => o.metadata?.labels?.['reflex.dev/rule'] === label && o.metadata?.labels?.['reflex.dev/trigger-uid'] === uid);
  return { ensure: async () => undefined, get, of, ofRule: (label: string) => objects.filter((o) => o.metadata?.labels?.['reflex.dev/rule'] === label) };
}

const generated = (ruleName: string, trigger: KubeObject, name: string, data: Record<string, string>): KubeObject =>
  stampGenerated({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: trigger.metadata!.name, uid: `uid-${name}`, resourceVersion: '7' }, data }, ruleName, trigger);

describe('daemon/generate-planner: the writes that make the cluster equal to the declared set', () => {
  it('plans an apply for a missing object and none for one already as declared', async () => {
    const r = rule('g');
    const declared = await evaluate(r, 'sync', ns('a'), undefined, { lister: listerOf([]) });
    expect((await new GeneratePlanner(inventoryOf([])).complete(r, ns('a'), 'sync', declared)).plan.map((p) => p.action)).to.deep.equal(['apply']);
    const same = generated('g', ns('a'), 'cfg', { a: '1', extra: 'kept' });
    expect((await new GeneratePlanner(inventoryOf([same])).complete(r, ns('a'), 'sync', declared)).plan).to.deep.equal([]);
    const edited = generated('g', ns('a'), 'cfg', { a: 'tampered' });
    expect((await new GeneratePlanner(inventoryOf([edited])).complete(r, ns('a'), 'sync', declared)).plan.map((p) => p.action)).to.deep.equal(['apply']);
  });

  it('prunes what the trigger generated and no longer declares, never another trigger’s', async () => {
    const r = rule('g');
    const inventory = inventoryOf([generated('g', ns('a'), 'cfg', { a: '1' }), generated('g', ns('a'), 'old', {}), generated('g', ns('b'), 'old', {})]);
    const declared = await evaluate(r, 'sync', ns('a'), undefined, { lister: listerOf([]) });
    const { plan } = await new GeneratePlanner(inventory).complete(r, ns('a'), 'sync', declared);
    expect(plan.map((p) => [p.action, p.target.namespace, p.target.name, p.options])).to.deep.equal([['delete', 'a', 'old', { prune: true }]]);
  });

  it('prunes nothing with orphan: true or synchronize: false', async () => {
    for (const extra of ['\n  orphan: true', '\n  synchronize: false']) {
      const inventory = inventoryOf([generated('g', ns('a'), 'old', {})]);
      expect((await new GeneratePlanner(inventory).complete(rule('g', extra), ns('a'), 'delete', [])).plan).to.deep.equal([]);
    }
  });

  it('does not write an object another rule generated, reports it once, and does not prune it', async () => {
    const r = rule('mine');
    const theirs = generated('theirs', ns('a'), 'cfg', { a: 'x' });
    const planner = new GeneratePlanner(inventoryOf([theirs]));
    const declared = await evaluate(r, 'sync', ns('a'), undefined, { lister: listerOf([]) });
    const first = await planner.complete(r, ns('a'), 'sync', declared);
    expect(first.plan).to.deep.equal([]);
    expect(first.reported.map((c) => c.owner)).to.deep.equal(['theirs']);
    expect((await planner.complete(r, ns('a'), 'sync', declared)).reported).to.deep.equal([]);
  });

  it('plans the prunes of everything a removed rule generated, each under its own trigger', () => {
    const r = rule('g');
    const plan = new GeneratePlanner(inventoryOf([generated('g', ns('a'), 'cfg', {}), generated('g', ns('b'), 'cfg', {})])).pruneAll(r);
    expect(plan.map((p) => [p.trigger.name, p.target.namespace, p.action])).to.deep.equal([
      ['a', 'a', 'delete'],
      ['b', 'b', 'delete'],
    ]);
  });
});

describe('daemon/generate-planner: covers (would an apply change anything)', () => {
  it('compares a Secret’s stringData as the data it is stored as', () => {
    const declared = { apiVersion: 'v1', kind: 'Secret', stringData: { a: 'x' }, data: { b: 'eQ==' } };
    expect(asStored(declared)).to.deep.equal({ apiVersion: 'v1', kind: 'Secret', data: { a: 'eA==', b: 'eQ==' } });
    expect(covers({ apiVersion: 'v1', kind: 'Secret', data: { a: 'eA==', b: 'eQ==' } }, asStored(declared))).to.equal(true);
  });
  it('is true when every declared field holds the same value, whatever else the object has', () => {
    expect(covers({ a: 1, b: { c: [1, { d: 2, e: 3 }] }, extra: true }, { b: { c: [1, { d: 2 }] }, a: 1 })).to.equal(true);
  });
  it('is false for a different scalar, a missing field, or a list of another length', () => {
    expect(covers({ a: 1 }, { a: 2 })).to.equal(false);
    expect(covers({}, { a: { b: 1 } })).to.equal(false);
    expect(covers({ l: [1, 2] }, { l: [1] })).to.equal(false);
  });
});
