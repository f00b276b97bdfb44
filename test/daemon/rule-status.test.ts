import { expect } from 'chai';
import { FakeClock, nullLogger, type KubeObject } from '../../src/core/index.js';
import { KubeApiError, type KubeClient, type PatchOptions } from '../../src/client/index.js';
import { positionInString, desiredStatus, sameStatus, type RuleCounters } from '../../src/daemon/rule-conditions.js';
import { RuleStatusWriter } from '../../src/daemon/rule-status.js';
import type { RuleState } from '../../src/daemon/rule-registry.js';

const counters = (): RuleCounters => ({ evaluations: 0, actionsSucceeded: 0, actionsFailed: 0 });
const active: RuleState = { state: 'active', synced: true, objects: 3 };

describe('rule object status: conditions', () => {
  it('positions inside a JSON string count lines and columns of the decoded text', () => {
    const line = '    "when": "$.a and\\n  $.b ++ 1",';
    // Column of the first `+` of `++`, as the loader would report it (1-based, in the JSON line).
    const col = line.indexOf('++') + 1;
    expect(positionInString(line, col)).to.deep.equal({ line: 2, column: 7 });
    expect(positionInString(line, line.indexOf('$.a') + 1)).to.deep.equal({ line: 1, column: 1 });
    // A key, or outside any string: no position.
    expect(positionInString(line, line.indexOf('"when"') + 1)).to.equal(undefined);
    expect(positionInString('    "limits": 12,', 15)).to.equal(undefined);
  });

  it('an invalid rule is Stalled and not Ready; fixed, it is Ready and Stalled flips back with a new lastTransitionTime', () => {
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const broken = desiredStatus({ generation: 2, invalid: 'spec.when:1:14: JSONata syntax error', counters: counters() }, undefined, t0);
    const byType = (s: typeof broken) => Object.fromEntries(s.conditions.map((c) => [c.type, c]));
    expect(byType(broken).Stalled).to.include({ status: 'True', reason: 'InvalidRule', observedGeneration: 2, lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect(byType(broken).Stalled.message).to.equal('spec.when:1:14: JSONata syntax error');
    expect(byType(broken).Ready.status).to.equal('False');
    expect(broken.observedGeneration).to.equal(2);

    const fixed = desiredStatus({ generation: 3, rule: active, counters: counters() }, broken, t0 + 60_000);
    expect(byType(fixed).Ready).to.include({ status: 'True', reason: 'Loaded', observedGeneration: 3, lastTransitionTime: '2026-01-01T00:01:00Z' });
    expect(byType(fixed).Stalled).to.include({ status: 'False', lastTransitionTime: '2026-01-01T00:01:00Z' });
    // Reconciling was False before and after: its time stays.
    expect(byType(fixed).Reconciling).to.include({ status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' });
    expect(fixed.objectsMatched).to.equal(3);
  });

  it('waiting for a kind or a first sync is Reconciling; objects failing for good make it Stalled', () => {
    const reasons = (s: ReturnType<typeof desiredStatus>) => s.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`);
    expect(reasons(desiredStatus({ generation: 1, rule: { state: 'pending', reason: 'its kind is not served yet' }, counters: counters() }, undefined, 0)))
      .to.deep.equal(['Ready=False/KindNotServed', 'Stalled=False/KindNotServed', 'Reconciling=True/KindNotServed']);
    expect(reasons(desiredStatus({ generation: 1, rule: { state: 'active', synced: false, objects: 0 }, counters: counters() }, undefined, 0))).to.include('Reconciling=True/Syncing');
    const failing = desiredStatus({ generation: 1, rule: active, failing: { reason: 'Invalid', message: 'patch of Deployment a/b failed: 422', objects: 3 }, counters: counters() }, undefined, 0);
    expect(reasons(failing)).to.include('Stalled=True/ActionsFailing');
    expect(failing.conditions[1].message).to.equal('patch of Deployment a/b failed: 422 (and 2 more objects failing)');
    const forbidden = desiredStatus({ generation: 1, rule: active, failing: { reason: 'Forbidden', message: 'patch … forbidden', objects: 1 }, counters: counters() }, undefined, 0);
    expect(reasons(forbidden)).to.include('Stalled=True/Forbidden');
  });

  it('a status read back from the server (nulls left out) is the same status', () => {
    const s = desiredStatus({ generation: 1, rule: active, counters: counters() }, undefined, 0);
    const fromServer = JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
    delete fromServer.lastError;
    delete fromServer.lastEvaluationTime;
    expect(sameStatus(s, fromServer)).to.equal(true);
    expect(sameStatus(s, { ...fromServer, evaluations: 1 })).to.equal(false);
  });
});

/** A writer over one ClusterRule, a client that records status patches, and a fake clock. */
function harness(o: { leader?: () => boolean; fail?: () => Error | undefined } = {}) {
  const clock = new FakeClock(Date.parse('2026-01-01T00:00:00Z'));
  const patches: { body: { status: Record<string, unknown> }; options?: PatchOptions; at: number }[] = [];
  let obj: KubeObject = { apiVersion: 'reflex.dev/v1alpha1', kind: 'ClusterRule', metadata: { name: 'r', uid: 'u1', generation: 1 } };
  const client = {
    patch: async (_t: unknown, body: { status: Record<string, unknown> }, options?: PatchOptions) => {
      const err = o.fail?.();
      if (err) throw err;
      patches.push({ body, options, at: clock.now() });
      obj = { ...obj, status: body.status };
      return obj;
    },
  } as unknown as KubeClient;
  let state: RuleState | undefined = active;
  const writer = new RuleStatusWriter({ client, clock, logger: nullLogger, isLeader: o.leader ?? (() => true), object: () => obj, ruleState: () => state });
  const id = 'ClusterRule/r';
  const load = (generation: number, invalid = false) => {
    obj = { ...obj, metadata: { ...obj.metadata, generation } };
    writer.loaded([[id, obj]], invalid ? [loadError(id)] : [], [], new Map([[id, { text: '{\n  "spec": {\n    "when": "$.a ++"\n  }\n}', generation }]]));
  };
  const settle = async (ms = 0) => {
    clock.advance(ms);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { clock, patches, writer, id, load, settle, setState: (s: RuleState | undefined) => (state = s) };
}

function loadError(file: string) {
  return { location: { file, document: 0, line: 3, column: 18 }, reason: 'rule "r" (document 1): spec.when: JSONata syntax error: unexpected ++', rule: 'r' } as never;
}

describe('RuleStatusWriter', () => {
  it('writes at once, then at most once per 5 s however often the rule evaluates, and nothing when nothing changed', async () => {
    const h = harness();
    h.load(1);
    await h.settle();
    expect(h.patches).to.have.length(1);
    expect(h.patches[0].options).to.include({ type: 'merge', subresource: 'status' });
    for (let i = 0; i < 500; i++) {
      h.writer.evaluated(h.id);
      await h.settle(10); // 500 evaluations over 5 s
    }
    await h.settle(1000);
    const gaps = h.patches.slice(1).map((p, i) => p.at - h.patches[i].at);
    expect(h.patches.length).to.be.within(2, 3);
    for (const g of gaps) expect(g).to.be.at.least(5000);
    expect(h.patches.at(-1)!.body.status.evaluations).to.equal(500);
    const n = h.patches.length;
    await h.settle(60_000);
    expect(h.patches).to.have.length(n);
  });

  it('reports an invalid generation with its field position, and Ready with the next generation', async () => {
    const h = harness();
    h.load(1, true);
    await h.settle();
    const stalled = (h.patches[0].body.status.conditions as { type: string; status: string; message: string }[]).find((c) => c.type === 'Stalled')!;
    expect(stalled.status).to.equal('True');
    expect(stalled.message).to.equal('spec.when:1:5: JSONata syntax error: unexpected ++');
    h.load(2);
    await h.settle(5000);
    const last = h.patches.at(-1)!.body.status;
    expect(last.observedGeneration).to.equal(2);
    expect((last.conditions as { type: string; status: string }[]).map((c) => `${c.type}=${c.status}`)).to.deep.equal(['Ready=True', 'Stalled=False', 'Reconciling=False']);
  });

  it('a follower writes nothing; once it leads, it writes what differs from the server', async () => {
    let leading = false;
    const h = harness({ leader: () => leading });
    h.load(1);
    h.writer.evaluated(h.id);
    await h.settle(30_000);
    expect(h.patches).to.have.length(0);
    leading = true;
    h.writer.leading();
    await h.settle();
    expect(h.patches).to.have.length(1);
  });

  it('keeps objects failing for good until they succeed, and looks again at a rule waiting for its kind', async () => {
    const h = harness();
    h.setState({ state: 'pending', reason: 'its kind is not served yet' });
    h.load(1);
    await h.settle();
    expect((h.patches[0].body.status.conditions as { type: string; reason: string }[])[2].reason).to.equal('KindNotServed');
    h.setState(active); // served now: no event of the rule says so, the poll finds it
    await h.settle(5000);
    expect((h.patches.at(-1)!.body.status.conditions as { status: string }[])[0].status).to.equal('True');
    const failure = { reason: 'Invalid', message: 'patch of ConfigMap a/b for rule "ClusterRule/r" failed: 422', cause: undefined };
    h.writer.settled(`${h.id}|a/b`, { kind: 'terminal', failure });
    await h.settle(5000);
    const failingStatus = h.patches.at(-1)!.body.status;
    expect((failingStatus.conditions as { type: string; reason: string }[])[1].reason).to.equal('ActionsFailing');
    expect(failingStatus.lastError).to.equal(failure.message);
    h.writer.settled(`${h.id}|a/b`, { kind: 'done' });
    await h.settle(5000);
    expect((h.patches.at(-1)!.body.status.conditions as { type: string; status: string }[])[0].status).to.equal('True');
  });

  it('holds back a first sync that ends within 2 s (Ready is the first write), and says Reconciling of one that lasts', async () => {
    const h = harness();
    h.setState({ state: 'active', synced: false, objects: 0 });
    h.load(1);
    await h.settle(1000);
    expect(h.patches).to.have.length(0);
    h.setState(active);
    await h.settle(400);
    expect(h.patches).to.have.length(1);
    expect((h.patches[0].body.status.conditions as { status: string }[])[0].status).to.equal('True');

    const slow = harness();
    slow.setState({ state: 'active', synced: false, objects: 0 });
    slow.load(1);
    await slow.settle(2500);
    expect(slow.patches).to.have.length(1);
    expect((slow.patches[0].body.status.conditions as { reason: string }[])[2].reason).to.equal('Syncing');
  });

  it('writes Ready as soon as it is told the first sync ended, with no poll or grace to wait out', async () => {
    const h = harness();
    h.setState({ state: 'active', synced: false, objects: 0 });
    h.load(1);
    await h.settle(50);
    expect(h.patches).to.have.length(0);
    h.setState(active);
    h.writer.touch(h.id); // the rule's caches synced
    await h.settle();
    expect(h.patches).to.have.length(1);
    expect((h.patches[0].body.status.conditions as { status: string }[])[0].status).to.equal('True');
  });

  it('writes the first status of a new generation at once, then again at most once per 5 s', async () => {
    const h = harness();
    h.load(1, true);
    await h.settle();
    expect(h.patches).to.have.length(1);
    await h.settle(1000);
    h.load(2); // fixed 1 s after the Stalled write
    await h.settle();
    expect(h.patches).to.have.length(2);
    expect(h.patches[1].body.status.observedGeneration).to.equal(2);
    h.writer.evaluated(h.id);
    await h.settle(4999);
    expect(h.patches).to.have.length(2);
    await h.settle(1);
    expect(h.patches).to.have.length(3);
    expect(h.patches[2].at - h.patches[1].at).to.equal(5000);
  });

  it('a change seen while a write is under way is written after it, within the interval', async () => {
    let release: (() => void) | undefined;
    const h = harness();
    h.load(1);
    await h.settle();
    expect(h.patches).to.have.length(1);
    const writer = h.writer as unknown as { o: { client: { patch: (...a: unknown[]) => Promise<unknown> } } };
    const patch = writer.o.client.patch;
    writer.o.client.patch = async (...a: unknown[]) => {
      await new Promise<void>((r) => (release = r));
      return patch(...a);
    };
    h.writer.evaluated(h.id);
    await h.settle(5000); // the second write starts, and hangs
    h.writer.evaluated(h.id);
    await h.settle(100);
    release!();
    await h.settle();
    writer.o.client.patch = patch;
    expect(h.patches).to.have.length(2);
    await h.settle(4900);
    expect(h.patches).to.have.length(3);
    expect(h.patches[2].body.status.evaluations).to.equal(2);
  });

  it('a failed write is tried again after the interval, not sooner however often the rule changes', async () => {
    let failures = 1;
    let attempts = 0;
    const h = harness({
      fail: () => {
        attempts++;
        return failures-- > 0 ? new KubeApiError({ verb: 'PATCH', resource: 'clusterrules', server: 'https://s' } as never, 503, { reason: 'ServiceUnavailable', message: 'down' } as never) : undefined;
      },
    });
    h.load(1);
    await h.settle();
    expect(h.patches).to.have.length(0);
    expect(attempts).to.equal(1);
    for (let i = 0; i < 49; i++) {
      h.writer.evaluated(h.id);
      await h.settle(100);
    }
    expect(attempts, 'writes tried within the interval').to.equal(1);
    await h.settle(100);
    expect(h.patches).to.have.length(1);
  });
});
