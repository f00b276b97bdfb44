import { expect } from 'chai';
import { evaluate, loadRules } from '../../src/engine/index.js';
import { CacheNotSyncedError, isCacheNotSynced } from '../../src/daemon/cache-lister.js';

describe('CacheLister errors', () => {
  it('lets the controller tell a cache that is still starting from a broken rule, through the engine\'s error', async () => {
    const { rules } = loadRules([
      {
        file: 'r.yaml',
        text: `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: lookup }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  when: "$exists($get('v1', 'Secret', 'ns', 'x'))"
  actions:
    - log: { message: hi }
`,
      },
    ]);
    const lister = {
      get: () => Promise.reject(new CacheNotSyncedError('the cache of v1 Secret did not sync within 10 s')),
      list: () => [],
    };
    const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' } };
    const err = await evaluate(rules[0], 'sync', obj, undefined, { lister }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(Error);
    expect(isCacheNotSynced(err)).to.equal(true);
    expect(isCacheNotSynced(new Error('boom'))).to.equal(false);
  });
});
