import { expect } from 'chai';
import type { ActionResult } from '../../src/actions/index.js';
import type { PlannedAction } from '../../src/engine/index.js';
import { LOOP_WINDOW_MS, LoopGuard, changedSomething } from '../../src/daemon/loop-guard.js';

const target = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'n', name: 'a' };
const planned = (action: PlannedAction['action']): PlannedAction => ({ rule: 'r', trigger: { ...target, event: 'update' }, action, target, body: null, options: {} });
const done = (action: ActionResult['action'], extra: Partial<ActionResult> = {}): ActionResult => ({ status: 'done', action, target, ...extra });

describe('LoopGuard (actions per object per minute)', () => {
  it('trips when a plan would take a key over its budget within the window, and not after the window', () => {
    const g = new LoopGuard();
    for (let i = 0; i < 3; i++) g.record('k', [done('patch')], 1000 + i);
    expect(g.trips('k', [planned('patch')], 3, 2000)).to.equal(true);
    expect(g.trips('k', [planned('patch')], 4, 2000)).to.equal(false);
    expect(g.trips('k', [planned('patch')], 3, 1000 + LOOP_WINDOW_MS + 3)).to.equal(false);
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
    for (let i = 0; i < 50; i++) g.record('k', [done('log'), done('event')], i);
    expect(g.trips('k', [planned('log')], 1, 100)).to.equal(false);
  });

  it('reports a tripped key once per window', () => {
    const g = new LoopGuard();
    expect(g.shouldReport('k', 0)).to.equal(true);
    expect(g.shouldReport('k', LOOP_WINDOW_MS - 1)).to.equal(false);
    expect(g.shouldReport('k', LOOP_WINDOW_MS)).to.equal(true);
  });

  it('forgets keys whose window is empty, so memory stays bounded by the active keys', () => {
    const g = new LoopGuard();
    for (let i = 0; i < 1000; i++) g.record(`job-${i}`, [done('delete')], 1);
    expect(g.size()).to.equal(1000);
    g.record('later', [done('patch')], 2 * LOOP_WINDOW_MS);
    expect(g.size()).to.equal(1);
  });
});
