import { expect } from 'chai';
import { coalesce, type PendingChange } from '../../src/daemon/coalesce.js';

const obj = (rv: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'n', resourceVersion: rv } });
const change = (event: PendingChange['event'], rv: string, extra: Partial<PendingChange> = {}): PendingChange => ({
  event,
  last: obj(rv),
  lane: event === 'sync' || event === 'resync' || event === 'schedule' ? 'sweep' : 'live',
  ...extra,
});

describe('coalesce (pending changes of one object)', () => {
  it('evaluates three updates once, on the newest state, with $old before the first', () => {
    let p = coalesce(undefined, change('update', '2', { old: obj('1') }));
    p = coalesce(p, change('update', '3', { old: obj('2') }));
    p = coalesce(p, change('update', '4', { old: obj('3') }));
    expect(p.event).to.equal('update');
    expect(p.old?.metadata?.resourceVersion).to.equal('1');
    expect(p.last.metadata?.resourceVersion).to.equal('4');
  });

  it('keeps a create a create through later updates, without $old', () => {
    const p = coalesce(change('create', '1'), change('update', '2', { old: obj('1') }));
    expect(p.event).to.equal('create');
    expect(p.old).to.equal(undefined);
    expect(p.last.metadata?.resourceVersion).to.equal('2');
  });

  it('turns anything followed by a delete into a delete of the last state', () => {
    const p = coalesce(change('update', '2', { old: obj('1') }), change('delete', '3'));
    expect(p).to.deep.include({ event: 'delete', lane: 'live' });
    expect(p.last.metadata?.resourceVersion).to.equal('3');
    expect(p.old).to.equal(undefined);
  });

  it('treats a create after a delete as a re-created namesake', () => {
    expect(coalesce(change('delete', '3'), change('create', '5')).event).to.equal('create');
  });

  it('lets a live update replace a pending resync, and moves it to the live lane', () => {
    const p = coalesce(change('resync', '1', { sweep: 'resync' }), change('update', '2', { old: obj('1') }));
    expect(p).to.deep.include({ event: 'update', lane: 'live' });
    expect(p.sweep).to.equal(undefined);
    expect(p.old?.metadata?.resourceVersion).to.equal('1');
  });

  it('keeps an update pending when a resync arrives after it', () => {
    const p = coalesce(change('update', '2', { old: obj('1') }), change('resync', '2', { sweep: 'resync' }));
    expect(p).to.deep.include({ event: 'update', lane: 'live' });
  });

  it('keeps the sweep of a pending sync through updates (it still counts against the run)', () => {
    const p = coalesce(change('sync', '1', { sweep: 'sync' }), change('update', '2', { old: obj('1') }));
    expect(p).to.deep.include({ event: 'sync', sweep: 'sync', lane: 'live' });
  });
});
