import { expect } from 'chai';
import { FakeClock, nullLogger } from '../../src/core/index.js';
import { KubeNetworkError, UnknownKindError, type KubeClient } from '../../src/client/index.js';
import type { SharedInformerFactory } from '../../src/informers/index.js';
import { RateLimitingWorkQueue } from '../../src/queue/index.js';
import { Intake } from '../../src/daemon/intake.js';
import { RuleRegistry } from '../../src/daemon/rule-registry.js';

/** A registry whose client's discovery answers with `resolve`. */
function registry(resolve: KubeClient['resolve']): RuleRegistry {
  const clock = new FakeClock();
  return new RuleRegistry({
    client: { resolve } as KubeClient,
    factory: {} as SharedInformerFactory,
    clock,
    logger: nullLogger,
    pendingRetryMs: 1000,
    intake: new Intake({ queue: new RateLimitingWorkQueue({ clock }), clock }),
  });
}

describe('RuleRegistry.scopeOf (kind scopes from discovery)', () => {
  it('knows built-in kinds without asking, and caches what discovery says', async () => {
    let asked = 0;
    const r = registry(async () => {
      asked++;
      return { namespaced: true } as Awaited<ReturnType<KubeClient['resolve']>>;
    });
    expect(await r.scopeOf('v1', 'ConfigMap')).to.equal('Namespaced');
    expect(await r.scopeOf('example.com/v1', 'Widget')).to.equal('Namespaced');
    expect(await r.scopeOf('example.com/v1', 'Widget')).to.equal('Namespaced');
    expect(asked).to.equal(1);
  });

  it('says "not served" only when discovery does not know the kind after its refresh', async () => {
    const r = registry(async () => {
      throw new UnknownKindError('example.com/v1', 'Widget', 'https://s');
    });
    expect(await r.scopeOf('example.com/v1', 'Widget')).to.equal(undefined);
  });

  it('rejects when discovery itself fails, so a network blip is retried rather than read as "not served"', async () => {
    const blip = new KubeNetworkError('get discovery on https://s: connection reset', 'reset', 'https://s');
    const r = registry(async () => {
      throw blip;
    });
    let caught: unknown;
    await r.scopeOf('example.com/v1', 'Widget').catch((err: unknown) => (caught = err));
    expect(caught).to.equal(blip);
  });
});
