import { expect } from 'chai';
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import { loadRules, type CompiledRule } from '../../src/engine/index.js';
import { SharedInformer } from '../../src/informers/index.js';
import type { PendingChange } from '../../src/daemon/coalesce.js';
import { RuleFanout } from '../../src/daemon/rule-fanout.js';
import type { ActiveRule } from '../../src/daemon/rule-registry.js';
import { until } from '../informers/harness.js';
import { MemoryListerWatcher, cm } from '../informers/memory-lister-watcher.js';

function rule(name: string, when: string | undefined): CompiledRule {
  const text = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: ${name} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
${when === undefined ? '' : `  when: '${when}'\n`}  actions:
    - log: { message: hit }
`;
  const { rules, errors } = loadRules([{ file: `${name}.yaml`, text }]);
  if (errors.length > 0) throw errors[0];
  return rules[0];
}

describe('RuleFanout (one informer handler for all its rules)', () => {
  let lw: MemoryListerWatcher;
  let informer: SharedInformer;
  let ac: AbortController;
  let calls: string[];
  let pending: Set<string>;
  let tracing: boolean;
  let fanout: RuleFanout;
  const active = (r: CompiledRule): ActiveRule => ({ rule: r, informers: [informer], sweeps: new Map(), current: (k) => informer.store.get(k) });

  beforeEach(async () => {
    lw = new MemoryListerWatcher();
    informer = new SharedInformer(lw, { clock: new FakeClock() });
    ac = new AbortController();
    void informer.run(ac.signal);
    await informer.waitForSync();
    calls = [];
    pending = new Set();
    tracing = false;
    fanout = new RuleFanout(informer, {
      enqueue: (r: ActiveRule, obj: KubeObject, change: PendingChange, objKey: string) => calls.push(`${r.rule.name} ${change.event} ${objKey}`),
      hasPending: (r, objKey) => pending.has(`${r}|${objKey}`),
      tracing: () => tracing,
    });
  });
  afterEach(() => ac.abort());

  const bucket = (name: string, b: string): KubeObject => cm('ns', name, {}, { bucket: b });

  it('hands an event only to the rules whose indexed `path = literal` the object can satisfy, and to unindexed rules', async () => {
    for (let i = 0; i < 50; i++) fanout.add(active(rule(`b${i}`, `metadata.labels.bucket = "${i}" and $not(data.seen = "y")`)));
    fanout.add(active(rule('any', undefined)));
    fanout.add(active(rule('complex', '$count(data) > 0')));
    lw.upsert(bucket('a', '7'));
    await until(() => calls.length >= 3, 'delivered');
    expect(calls.sort()).to.deep.equal(['any create ns/a', 'b7 create ns/a', 'complex create ns/a']);
  });

  it('still hands the event to a rule it cannot concern when a change of that rule is pending for the object', async () => {
    for (let i = 0; i < 3; i++) fanout.add(active(rule(`b${i}`, `metadata.labels.bucket = "${i}"`)));
    pending.add('b2|ns/a');
    lw.upsert(bucket('a', '0'));
    await until(() => calls.length >= 2, 'delivered');
    expect(calls.sort()).to.deep.equal(['b0 create ns/a', 'b2 create ns/a']);
  });

  it('hands every event to every rule while traces are watched, and to a whole group when the path meets an array', async () => {
    for (let i = 0; i < 3; i++) fanout.add(active(rule(`b${i}`, `metadata.labels.bucket = "${i}"`)));
    tracing = true;
    lw.upsert(bucket('a', '0'));
    await until(() => calls.length >= 3, 'delivered to all');
    calls.length = 0;
    tracing = false;
    const grouped = ['g0', 'g1'].map((n, i) => active(rule(n, `spec.kind = "${i}"`)));
    grouped.forEach((r) => fanout.add(r));
    calls.length = 0; // they saw ns/a as sync
    lw.upsert({ ...cm('ns', 'arr'), spec: [{ kind: '0' }] } as KubeObject);
    await until(() => calls.some((c) => c.startsWith('g1')), 'delivered to the group');
    expect(calls.filter((c) => c.startsWith('g')).sort()).to.deep.equal(['g0 create ns/arr', 'g1 create ns/arr']);
  });

  it('gives a rule added later every cached object as sync, and leaves the informer once its last rule is removed', async () => {
    lw.upsert(bucket('a', '1'));
    lw.upsert(bucket('b', '2'));
    await until(() => informer.store.size === 2, 'cached');
    const r = active(rule('late', 'metadata.labels.bucket = "1"'));
    fanout.add(r);
    expect(calls.sort()).to.deep.equal(['late sync ns/a', 'late sync ns/b']);
    calls.length = 0;
    expect(fanout.remove(r)).to.equal(true);
    lw.upsert(bucket('c', '1'));
    await until(() => informer.store.size === 3, 'cached');
    expect(calls).to.deep.equal([]);
  });
});
