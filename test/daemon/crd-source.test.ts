import { expect } from 'chai';
import { FakeClock, nullLogger, type KubeObject } from '../../src/core/index.js';
import { UnknownKindError, type KubeClient } from '../../src/client/index.js';
import type { SharedInformerFactory } from '../../src/informers/index.js';
import { loadRules, ruleLabelValue } from '../../src/engine/index.js';
import { CrdRuleSource, ruleObjectIdentity, ruleObjectSource } from '../../src/daemon/crd-source.js';
import { invalidRuleMessage } from '../../src/daemon/rule-conditions.js';

const spec = { watch: { apiVersion: 'v1', kind: 'ConfigMap' }, actions: [{ log: { message: 'seen' } }] };
const clusterRule = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'reflex.dev/v1alpha1',
  kind: 'ClusterRule',
  metadata: { name, uid: `u-${name}`, generation: 1, resourceVersion: '7', managedFields: [] },
  spec: { ...spec, ...extra },
  status: { observedGeneration: 1 },
});
const rule = (ns: string, name: string, extra: Record<string, unknown> = {}): KubeObject => ({ ...clusterRule(name, extra), kind: 'Rule', metadata: { name, namespace: ns, generation: 1 } });

describe('rule objects as rule sources', () => {
  it('names a rule object by kind, namespace and name, and labels its generated objects with that (dots for slashes)', () => {
    expect(ruleObjectIdentity(clusterRule('a'))).to.equal('ClusterRule/a');
    expect(ruleObjectIdentity(rule('team-a', 'a'))).to.equal('Rule/team-a/a');
    expect(ruleLabelValue('Rule/team-a/a')).to.equal('Rule.team-a.a');
    expect(ruleLabelValue('plain-rule')).to.equal('plain-rule');
    const long = `Rule/${'n'.repeat(60)}/x`;
    expect(ruleLabelValue(long)).to.have.length(63).and.match(/^Rule\.n+-[0-9a-f]{10}$/);
  });

  it('gives the loader what the object says, not its status or server-set metadata; a Rule is its namespace\'s tenant acting as its ServiceAccount', () => {
    const src = ruleObjectSource(clusterRule('a'));
    expect(src).to.include({ file: 'ClusterRule/a', identity: 'ClusterRule/a' });
    expect(src.tenant).to.equal(undefined);
    const doc = JSON.parse(src.text) as Record<string, unknown>;
    expect(doc).to.have.keys('apiVersion', 'kind', 'metadata', 'spec');
    expect(doc.metadata).to.deep.equal({ name: 'a' });
    expect(ruleObjectSource(rule('team-a', 'a'))).to.include({ identity: 'Rule/team-a/a', tenant: 'team-a', serviceAccountName: 'default' });
    expect(ruleObjectSource(rule('team-a', 'a', { serviceAccountName: 'bot' })).serviceAccountName).to.equal('bot');
  });

  it('loads two rule objects of one name apart (identity, not name, must be unique), and positions a syntax error inside its field', () => {
    const { rules, errors } = loadRules([ruleObjectSource(clusterRule('same')), ruleObjectSource(clusterRule('other', { when: 'metadata.name = ' })), { file: 'rules.yaml', text: 'apiVersion: reflex.dev/v1alpha1\nkind: Rule\nmetadata: { name: same }\nspec:\n  watch: { apiVersion: v1, kind: ConfigMap }\n  actions: [{ log: { message: x } }]\n' }]);
    expect(rules.map((r) => r.name).sort()).to.deep.equal(['ClusterRule/same', 'same']);
    expect(errors).to.have.length(1);
    expect(errors[0].location.file).to.equal('ClusterRule/other');
    expect(invalidRuleMessage(errors, ruleObjectSource(clusterRule('other', { when: 'metadata.name = ' })).text)).to.match(/^spec\.when:1:1[56]: JSONata syntax error/);
  });

  it('waits for a kind that is not served, asking discovery again, and watches it once served', async () => {
    const clock = new FakeClock();
    let served = false;
    let asked = 0;
    const handlers: { add?: (o: KubeObject) => void }[] = [];
    const client = {
      resolve: async (_a: string, kind: string) => {
        asked++;
        if (!served) throw new UnknownKindError('reflex.dev/v1alpha1', kind, 'https://s');
        return {} as never;
      },
    } as unknown as KubeClient;
    const factory = { informerFor: () => ({ addHandler: (h: { add?: (o: KubeObject) => void }) => handlers.push(h), waitForSync: async () => true }) } as unknown as SharedInformerFactory;
    let changes = 0;
    const src = new CrdRuleSource({ client, factory, clock, logger: nullLogger, retryMs: 5000, changed: () => changes++ });
    await src.start(new AbortController().signal);
    expect(src.served('ClusterRule')).to.equal(false);
    expect(asked).to.equal(2);
    clock.advance(5000); // asked again after 5 s, then after 10 s (doubling up to a minute)
    await new Promise((r) => setImmediate(r));
    expect(asked).to.equal(4);
    clock.advance(9999);
    await new Promise((r) => setImmediate(r));
    expect(asked).to.equal(4);
    served = true;
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(src.served('ClusterRule')).to.equal(true);
    expect(src.served('Rule')).to.equal(true);
    handlers[0].add?.(clusterRule('a'));
    expect(changes).to.equal(1);
    // A status write changes nothing the loader reads: no reload.
    handlers[0].add?.({ ...clusterRule('a'), status: { observedGeneration: 2 } });
    expect(changes).to.equal(1);
    expect(src.sources().map((s) => s.file)).to.deep.equal(['ClusterRule/a']);
    src.stop();
  });

  it('takes the first look at each kind from the discovery the client has loaded, and resolves on the retries', async () => {
    const clock = new FakeClock();
    const resolved: string[] = [];
    const looked: string[] = [];
    const client = {
      server: 'https://s',
      resolve: async (_a: string, kind: string) => {
        resolved.push(kind);
        return {} as never;
      },
    } as unknown as KubeClient;
    const factory = { informerFor: () => ({ addHandler: () => undefined, waitForSync: async () => true }) } as unknown as SharedInformerFactory;
    const src = new CrdRuleSource({
      client,
      factory,
      clock,
      logger: nullLogger,
      retryMs: 5000,
      changed: () => undefined,
      servedByDiscovery: async (apiVersion, kind) => {
        looked.push(`${apiVersion} ${kind}`);
        return kind === 'ClusterRule';
      },
    });
    await src.start(new AbortController().signal);
    expect(looked).to.deep.equal(['reflex.dev/v1alpha1 ClusterRule', 'reflex.dev/v1alpha1 Rule']);
    // Served there: resolved and watched. Not served there: no resolve (no wait for a discovery refresh) until the retry.
    expect(resolved).to.deep.equal(['ClusterRule']);
    expect(src.served('ClusterRule')).to.equal(true);
    expect(src.served('Rule')).to.equal(false);
    clock.advance(5000);
    await new Promise((r) => setImmediate(r));
    expect(looked).to.have.length(2);
    expect(resolved).to.deep.equal(['ClusterRule', 'Rule']);
    expect(src.served('Rule')).to.equal(true);
    src.stop();
  });
});
