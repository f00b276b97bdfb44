import { expect } from 'chai';
import { FakeClock, objectKey, type KubeObject } from '../../src/core/index.js';
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
  let fanout: RuleFanout;
  const active = (r: CompiledRule): ActiveRule => ({ rule: r, informers: [informer], current: (k) => informer.store.get(k), keyOf: (o, k) => k ?? objectKey(o) });

  beforeEach(async () => {
    lw = new MemoryListerWatcher();
    informer = new SharedInformer(lw, { clock: new FakeClock() });
    ac = new AbortController();
    void informer.run(ac.signal);
    await informer.waitForSync();
    calls = [];
    fanout = new RuleFanout(informer, (r: ActiveRule, obj: KubeObject, change: PendingChange, objKey: string, decidedFalse: boolean) =>
      calls.push(`${r.rule.name} ${change.event} ${objKey}${decidedFalse ? ' decided-false' : ''}`),
    );
  });
  afterEach(() => ac.abort());

  const bucket = (name: string, b: string): KubeObject => cm('ns', name, {}, { bucket: b });
  /** The rules the controller has to evaluate (not decided false by the index). */
  const undecided = () => calls.filter((c) => !c.endsWith('decided-false')).sort();

  it('decides false, by one lookup, every indexed rule whose `path = literal` the object does not carry; unindexed rules stay undecided', async () => {
    for (let i = 0; i < 50; i++) fanout.add(active(rule(`b${i}`, `metadata.labels.bucket = "${i}" and $not(data.seen = "y")`)));
    fanout.add(active(rule('any', undefined)));
    fanout.add(active(rule('complex', '$count(data) > 0')));
    lw.upsert(bucket('a', '7'));
    await until(() => calls.length >= 52, 'delivered');
    expect(undecided()).to.deep.equal(['any create ns/a', 'b7 create ns/a', 'complex create ns/a']);
    expect(calls.filter((c) => c.endsWith('decided-false'))).to.have.length(49);
  });

  it('hands every rule every event, so the controller can still merge it into a pending change or trace it', async () => {
    for (let i = 0; i < 3; i++) fanout.add(active(rule(`b${i}`, `metadata.labels.bucket = "${i}"`)));
    lw.upsert(bucket('a', '0'));
    await until(() => calls.length >= 3, 'delivered');
    expect(calls.sort()).to.deep.equal(['b0 create ns/a', 'b1 create ns/a decided-false', 'b2 create ns/a decided-false']);
  });

  it('leaves a whole group undecided when its path meets an array, and decides an object there false', async () => {
    const grouped = ['g0', 'g1'].map((n, i) => active(rule(n, `spec.kind = "${i}"`)));
    grouped.forEach((r) => fanout.add(r));
    lw.upsert({ ...cm('ns', 'arr'), spec: [{ kind: '0' }] } as KubeObject);
    await until(() => calls.length >= 2, 'delivered to the group');
    expect(undecided()).to.deep.equal(['g0 create ns/arr', 'g1 create ns/arr']);
    calls.length = 0;
    lw.upsert({ ...cm('ns', 'obj'), spec: { kind: { nested: '0' } } } as KubeObject);
    await until(() => calls.length >= 2, 'delivered');
    expect(undecided()).to.deep.equal([]);
  });

  it('leaves the informer once its last rule is removed', async () => {
    const r = active(rule('late', 'metadata.labels.bucket = "1"'));
    fanout.add(r);
    lw.upsert(bucket('a', '1'));
    await until(() => calls.length === 1, 'delivered');
    calls.length = 0;
    expect(fanout.remove(r)).to.equal(true);
    lw.upsert(bucket('c', '1'));
    await until(() => informer.store.size === 2, 'cached');
    expect(calls).to.deep.equal([]);
  });
});
