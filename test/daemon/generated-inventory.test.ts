import { expect } from 'chai';
import { nullLogger, type KubeObject } from '../../src/core/index.js';
import type { SharedInformerFactory } from '../../src/informers/index.js';
import { GENERATED_RULE_LABEL } from '../../src/engine/index.js';
import { GeneratedInventory } from '../../src/daemon/generated-inventory.js';

type Handler = { add?(obj: KubeObject, initial?: boolean): void; update?(old: KubeObject, obj: KubeObject): void; delete?(obj: KubeObject): void };

/** A factory whose one informer is driven by the test. */
function fakeFactory() {
  const handlers: Handler[] = [];
  const informer = {
    addHandler: (h: Handler) => {
      handlers.push(h);
      return () => undefined;
    },
    hasSynced: () => true,
    waitForSync: () => Promise.resolve(true),
  };
  const factory = { acquire: () => ({ informer, release: () => undefined }) } as unknown as SharedInformerFactory;
  return { factory, fire: (f: (h: Handler) => void) => handlers.forEach(f) };
}

const secret = (rule: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'regcred', namespace: 'team-a', uid: 'u1', resourceVersion: rv, labels: { [GENERATED_RULE_LABEL]: rule }, annotations: { 'reflex.dev/trigger': 'v1 Namespace team-a' } },
});

describe('GeneratedInventory', () => {
  const setup = () => {
    const f = fakeFactory();
    const drift: string[] = [];
    const takenOver: string[] = [];
    const inventory = new GeneratedInventory({
      factory: f.factory,
      logger: nullLogger,
      onDrift: (obj, old) => drift.push(`${obj.metadata?.labels?.[GENERATED_RULE_LABEL]}@${obj.metadata?.resourceVersion}${old ? ` from ${old.metadata?.labels?.[GENERATED_RULE_LABEL]}` : ''}`),
      onTakenOver: (old) => takenOver.push(String(old.metadata?.labels?.[GENERATED_RULE_LABEL])),
    });
    inventory.setKinds([{ apiVersion: 'v1', kind: 'Secret' }]);
    return { ...f, inventory, drift, takenOver };
  };

  it('the echo of its own write is not drift', () => {
    const t = setup();
    t.inventory.noteWritten(secret('one', '10'));
    t.fire((h) => h.add?.(secret('one', '10'), false));
    expect(t.drift).to.deep.equal([]);
    expect(t.takenOver).to.deep.equal([]);
    t.fire((h) => h.update?.(secret('one', '10'), secret('one', '11')));
    expect(t.drift).to.deep.equal(['one@11 from one']);
  });

  it('its own write taking an object over from another rule tells that rule (two rules racing to declare one object)', () => {
    const t = setup();
    // Rule one wrote first, and its echo came; rule two had planned before it and wrote next.
    t.inventory.noteWritten(secret('one', '10'));
    t.fire((h) => h.add?.(secret('one', '10'), false));
    t.inventory.noteWritten(secret('two', '11'));
    t.fire((h) => h.update?.(secret('one', '10'), secret('two', '11')));
    expect(t.drift).to.deep.equal([]);
    expect(t.takenOver).to.deep.equal(['one']);
    expect(t.inventory.get({ apiVersion: 'v1', kind: 'Secret', namespace: 'team-a', name: 'regcred' })?.metadata?.labels?.[GENERATED_RULE_LABEL]).to.equal('two');
  });

  it('someone else taking it over is drift of both', () => {
    const t = setup();
    t.fire((h) => h.add?.(secret('one', '10'), true));
    t.fire((h) => h.update?.(secret('one', '10'), secret('two', '11')));
    expect(t.drift).to.deep.equal(['two@11 from one']);
    expect(t.takenOver).to.deep.equal([]);
  });
});
