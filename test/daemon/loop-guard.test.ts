import { expect } from 'chai';
import type { ActionResult } from '../../src/actions/index.js';
import type { PlannedRef } from '../../src/engine/index.js';
import { LOOP_WINDOW_MS, LoopGuard, changedSomething } from '../../src/daemon/loop-guard.js';

const ref = (name: string, namespace = 'n'): PlannedRef => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace, name });
const target = ref('a');
const done = (action: ActionResult['action'], extra: Partial<ActionResult> = {}, t: PlannedRef = target): ActionResult => ({ status: 'done', action, target: t, ...extra });

describe('LoopGuard (changing writes per rule and target per minute)', () => {
  it('trips when one more write would take a (rule, target) over its budget within the window, and not after the window', () => {
    const g = new LoopGuard();
    for (let i = 0; i < 3; i++) g.record('r', done('patch'), 1000 + i);
    expect(g.trips('r', target, 3, 2000)).to.equal(true);
    expect(g.trips('r', target, 4, 2000)).to.equal(false);
    expect(g.trips('r', target, 3, 1000 + LOOP_WINDOW_MS + 3)).to.equal(false);
  });

  it('never counts creates with generateName (no name yet: each makes a new object)', () => {
    const g = new LoopGuard();
    for (let i = 0; i < 50; i++) {
      expect(g.trips('copy', ref(''), 10, 5)).to.equal(false);
      g.record('copy', done('create', {}, ref('')), 5);
    }
    expect(g.size()).to.equal(0);
  });

  it('counts per rule and per target: one change fanned out to 1,000 targets never trips, another rule has its own budget', () => {
    const g = new LoopGuard();
    for (let i = 0; i < 1000; i++) {
      expect(g.trips('fan-out', ref(`t${i}`), 10, 5)).to.equal(false);
      g.record('fan-out', done('apply', {}, ref(`t${i}`)), 5);
    }
    for (let i = 0; i < 10; i++) g.record('a', done('patch'), 10 + i);
    expect(g.trips('a', target, 10, 30)).to.equal(true);
    expect(g.trips('b', target, 10, 30)).to.equal(false);
    expect(g.trips('a', ref('a', 'other'), 10, 30)).to.equal(false);
  });

  it('counts only writes that changed something: not logs, events, webhooks, audits, dry runs or no-op applies', () => {
    expect(changedSomething(done('patch'))).to.equal(true);
    expect(changedSomething(done('delete'))).to.equal(true);
    expect(changedSomething(done('log'))).to.equal(false);
    expect(changedSomething(done('event'))).to.equal(false);
    expect(changedSomething(done('webhook'))).to.equal(false);
    expect(changedSomething(done('patch', { audit: true }))).to.equal(false);
    expect(changedSomething(done('patch', { dryRun: true }))).to.equal(false);
    expect(changedSomething(done('apply', { changed: false }))).to.equal(false);
    expect(changedSomething({ status: 'skipped-noop', action: 'patch', target })).to.equal(false);
    const g = new LoopGuard();
    for (let i = 0; i < 50; i++) {
      g.record('r', done('event'), i);
      g.record('r', done('apply', { changed: false }), i);
      g.record('r', { status: 'skipped-noop', action: 'patch', target }, i);
    }
    expect(g.trips('r', target, 1, 100)).to.equal(false);
  });

  it('reports a tripped (rule, target) once per window', () => {
    const g = new LoopGuard();
    expect(g.shouldReport('r', target, 0)).to.equal(true);
    expect(g.shouldReport('r', target, LOOP_WINDOW_MS - 1)).to.equal(false);
    expect(g.shouldReport('r', ref('b'), 1)).to.equal(true);
    expect(g.shouldReport('r', target, LOOP_WINDOW_MS)).to.equal(true);
  });

  it('forgets pairs whose window is empty, so memory stays bounded by the pairs written lately', () => {
    const g = new LoopGuard();
    for (let i = 0; i < 1000; i++) g.record('r', done('delete', {}, ref(`job-${i}`)), 1);
    expect(g.size()).to.equal(1000);
    g.record('r', done('patch', {}, ref('later')), 2 * LOOP_WINDOW_MS);
    expect(g.size()).to.equal(1);
  });
});
