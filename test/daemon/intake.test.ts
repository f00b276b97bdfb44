import { expect } from 'chai';
import { FakeClock, objectKey, type KubeObject } from '../../src/core/index.js';
import { loadRules, type CompiledRule } from '../../src/engine/index.js';
import type { SharedInformer } from '../../src/informers/index.js';
import { RateLimitingWorkQueue } from '../../src/queue/index.js';
import type { ActiveRule } from '../../src/daemon/active-rule.js';
import { Intake, queueKey } from '../../src/daemon/intake.js';
import { cm } from '../informers/memory-lister-watcher.js';

function rule(name: string, extra = ''): CompiledRule {
  const text = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: ${name} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
${extra}  actions:
    - log: { message: hi }
`;
  const { rules, errors } = loadRules([{ file: `${name}.yaml`, text }]);
  if (errors.length > 0) throw errors[0];
  return rules[0];
}

/** An active rule over a fixed set of cached objects. */
function active(r: CompiledRule, cached: KubeObject[]): ActiveRule {
  const store = { list: () => cached, get: (k: string) => cached.find((o) => `${o.metadata?.namespace}/${o.metadata?.name}` === k) };
  return { rule: r, informers: [{ store } as unknown as SharedInformer], current: (k) => store.get(k), keyOf: (o, k) => k ?? objectKey(o) };
}

describe('Intake (between the informers and the queue)', () => {
  const setup = () => {
    const clock = new FakeClock(1000);
    const queue = new RateLimitingWorkQueue({ clock });
    return { clock, queue, intake: new Intake({ queue, clock }) };
  };

  it('queues a change once per key, coalesced with $old of the first update', () => {
    const { queue, intake } = setup();
    const a = active(rule('r'), []);
    const v1 = cm('ns', 'a', { v: '1' });
    const v2 = cm('ns', 'a', { v: '2' });
    const v3 = cm('ns', 'a', { v: '3' });
    intake.offer(a, v2, { event: 'update', old: v1, last: v2, lane: 'live' });
    intake.offer(a, v3, { event: 'update', old: v2, last: v3, lane: 'live' });
    expect(queue.len()).to.equal(1);
    expect(intake.take(queueKey('r', 'ns/a'))).to.deep.equal({ event: 'update', old: v1, last: v3, lane: 'live' });
    expect(intake.take(queueKey('r', 'ns/a'))).to.equal(undefined);
  });

  it('does not queue a change decided false with nothing pending, nor an event the rule does not listen to', () => {
    const { queue, intake } = setup();
    const a = active(rule('r', '  on: [create]\n  when: "data.v = \'go\'"\n'), []);
    intake.offer(a, cm('ns', 'a', { v: 'no' }), { event: 'create', last: cm('ns', 'a'), lane: 'live' });
    intake.offer(a, cm('ns', 'b', { v: 'go' }), { event: 'update', last: cm('ns', 'b'), lane: 'live' });
    intake.offer(a, cm('ns', 'c', { v: 'go' }), { event: 'create', last: cm('ns', 'c'), lane: 'live' }, 'ns/c', true);
    expect(queue.len()).to.equal(0);
    intake.offer(a, cm('ns', 'd', { v: 'go' }), { event: 'create', last: cm('ns', 'd'), lane: 'live' });
    expect(queue.len()).to.equal(1);
  });

  it('runs a sweep with a fresh maxActionsPerRun budget, and stops it once the budget is spent', () => {
    const { queue, intake } = setup();
    const a = active(rule('r', '  on: [sync, resync]\n  resync: 10m\n'), [cm('ns', 'a'), cm('ns', 'b'), cm('other', 'c')]);
    intake.sweep(a, 'resync', 'ns');
    expect(queue.len()).to.equal(2);
    expect(intake.chargeSweep('r', 'resync', 2, 3)).to.equal('ok');
    expect(intake.chargeSweep('r', 'resync', 2, 3)).to.equal('limit-reached');
    expect(intake.sweepStopped('r', 'resync')).to.equal(true);
    expect(intake.chargeSweep('r', 'resync', 1, 3)).to.equal('stopped');
    intake.sweep(a, 'resync');
    expect(intake.chargeSweep('r', 'resync', 3, 3)).to.equal('ok');
  });

  it('hands out a due re-check as a recheck change, and a change that arrived meanwhile instead of it', () => {
    const { clock, queue, intake } = setup();
    const a = active(rule('r'), []);
    const key = queueKey('r', 'ns/a');
    const obj = cm('ns', 'a');
    intake.recheck(key, clock.now() + 500, obj);
    expect(intake.take(key), 'not due yet').to.equal(undefined);
    clock.advance(500);
    expect(queue.len()).to.equal(1);
    expect(intake.take(key)).to.deep.equal({ event: 'recheck', last: obj, lane: 'live' });
    intake.recheck(key, clock.now() + 500, obj);
    intake.offer(a, obj, { event: 'update', old: obj, last: obj, lane: 'live' });
    expect(intake.take(key)?.event).to.equal('update');
  });

  it('queues a dependency event on the newest cached state of the trigger', () => {
    const { queue, intake } = setup();
    const a = active(rule('r', '  on: [create, dependency]\n'), [cm('ns', 'a', { v: 'cached' })]);
    intake.notify(a, 'ns/a', 'dependency');
    intake.notify(a, 'ns/gone', 'dependency');
    expect(queue.len()).to.equal(1);
    expect(intake.take(queueKey('r', 'ns/a'))).to.deep.include({ event: 'dependency', lane: 'live' });
  });
});
