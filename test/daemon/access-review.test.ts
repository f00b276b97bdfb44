import { expect } from 'chai';
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import type { KubeClient, ResourceInfo } from '../../src/client/index.js';
import { loadRules, type CompiledRule, type ObjectLister } from '../../src/engine/index.js';
import { AccessDeniedError, AccessReviewer, isAccessDenied, RuleIdentities } from '../../src/daemon/access-review.js';
import { classify } from '../../src/daemon/outcome.js';

const SA = { namespace: 'team-a', name: 'robot' };
const MIN = 60_000;

/** Answers SubjectAccessReviews of team-a/robot from `allowed` (keys `ns|group|resource|verb`; any other user is denied), recording each review; `fail` makes the next one fail. */
class FakeAuthorizer {
  readonly reviews: Record<string, unknown>[] = [];
  allowed = new Set<string>();
  fail: Error | undefined;
  /** Holds answers until released (to test that concurrent checks share one review). */
  hold: Promise<void> | undefined;
  client: Pick<KubeClient, 'create' | 'resolve'> = {
    resolve: async (apiVersion: string, kind: string) => {
      const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
      return { gvr: { group, version: 'v1', resource: `${kind.toLowerCase()}s` } } as ResourceInfo;
    },
    create: async <T extends KubeObject>(body: T): Promise<T> => {
      const spec = (body as unknown as { spec: Record<string, unknown> & { resourceAttributes: Record<string, string> } }).spec;
      this.reviews.push(spec);
      if (this.hold) await this.hold;
      if (this.fail) {
        const err = this.fail;
        this.fail = undefined;
        throw err;
      }
      const a = spec.resourceAttributes;
      const allowed = spec.user === 'system:serviceaccount:team-a:robot' && this.allowed.has(`${a.namespace}|${a.group}|${a.resource}|${a.verb}`);
      return { ...body, status: allowed ? { allowed: true, reason: 'RBAC: allowed by RoleBinding "r/team-a"' } : { allowed: false } } as T;
    },
  };
}

const cm = (verb: 'get' | 'list' | 'watch') => ({ namespace: 'team-a', group: '', resource: 'configmaps', verb });

describe('AccessReviewer: SubjectAccessReviews of a rule\'s ServiceAccount, cached', () => {
  let clock: FakeClock;
  let authz: FakeAuthorizer;
  let changes: { allowed: boolean; verb: string }[];
  let reviewer: AccessReviewer;

  beforeEach(() => {
    clock = new FakeClock(1_000_000);
    authz = new FakeAuthorizer();
    changes = [];
    reviewer = new AccessReviewer({ client: authz.client, clock, onChange: (_sa, a, d) => changes.push({ allowed: d.allowed, verb: a.verb }) });
  });
  afterEach(() => reviewer.stop());

  it('asks as the ServiceAccount with its groups, and answers from the cache while the decision holds', async () => {
    authz.allowed.add('team-a||configmaps|list');
    expect(await reviewer.check(SA, cm('list'))).to.deep.include({ allowed: true });
    expect(authz.reviews[0]).to.deep.equal({
      user: 'system:serviceaccount:team-a:robot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
      resourceAttributes: { namespace: 'team-a', verb: 'list', group: '', resource: 'configmaps' },
    });
    clock.advance(5 * MIN - 1);
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(true);
    expect(authz.reviews).to.have.length(1);
    // Another verb, namespace or ServiceAccount is another question.
    expect((await reviewer.check(SA, cm('get'))).allowed).to.equal(false);
    expect((await reviewer.check({ namespace: 'team-a', name: 'other' }, cm('list'))).allowed).to.equal(false);
    expect(authz.reviews).to.have.length(3);
  });

  it('asks again once an allowed decision is 5 minutes old, and sees a revoked grant then', async () => {
    authz.allowed.add('team-a||configmaps|list');
    await reviewer.check(SA, cm('list'));
    authz.allowed.clear();
    clock.advance(5 * MIN - 1);
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(true);
    clock.advance(1);
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(false);
    expect(authz.reviews).to.have.length(2);
  });

  it('keeps a denied decision for 1 minute only', async () => {
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(false);
    authz.allowed.add('team-a||configmaps|list');
    clock.advance(MIN - 1);
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(false);
    clock.advance(1);
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(true);
    expect(authz.reviews).to.have.length(2);
  });

  it('shares one review between concurrent checks', async () => {
    let release!: () => void;
    authz.hold = new Promise((r) => (release = r));
    authz.allowed.add('team-a||configmaps|get');
    const all = Promise.all([reviewer.check(SA, cm('get')), reviewer.check(SA, cm('get')), reviewer.check(SA, cm('get'))]);
    release();
    expect((await all).map((d) => d.allowed)).to.deep.equal([true, true, true]);
    expect(authz.reviews).to.have.length(1);
  });

  it('never caches a failed review, nor takes it as allowed', async () => {
    authz.allowed.add('team-a||configmaps|list');
    authz.fail = new Error('no answer');
    let err: unknown;
    await reviewer.check(SA, cm('list')).catch((e: unknown) => (err = e));
    expect((err as Error).message).to.equal('no answer');
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(true);
    expect(authz.reviews).to.have.length(2);
  });

  it('re-checks decisions in use before they expire, tells a change, and drops unused ones', async () => {
    reviewer.start();
    await reviewer.check(SA, cm('list')); // denied
    authz.allowed.add('team-a||configmaps|list');
    // The 15 s refresh re-checks the denied decision in the round before it would expire (at 45 s).
    clock.advance(30_000);
    expect(authz.reviews).to.have.length(1);
    clock.advance(15_000);
    await new Promise((r) => setImmediate(r));
    expect(authz.reviews).to.have.length(2);
    expect(changes).to.deep.equal([{ allowed: true, verb: 'list' }]);
    // Served from the refreshed decision, without a review.
    expect((await reviewer.check(SA, cm('list'))).allowed).to.equal(true);
    expect(authz.reviews).to.have.length(2);
    // Unused for more than two allowed periods: forgotten (no more reviews for it).
    const before = authz.reviews.length;
    clock.advance(11 * MIN);
    await new Promise((r) => setImmediate(r));
    expect(reviewer.size()).to.equal(0);
    expect(authz.reviews.length - before).to.be.lessThan(4);
  });

  it('require() names the rule, the ServiceAccount and the fix, and classifies as forbidden', async () => {
    let err: unknown;
    await reviewer.require('team-a/copy', SA, 'get', 'v1', 'Secret', 'team-a').catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(AccessDeniedError);
    expect((err as Error).message).to.equal(
      'rule team-a/copy: get secrets in namespace "team-a" refused: ServiceAccount team-a/robot, which the rule runs as, may not get them (SubjectAccessReview); grant it with a Role and RoleBinding in "team-a"',
    );
    const outcome = classify(err);
    expect(outcome.kind).to.equal('forbidden');
    expect(outcome.failure.reason).to.equal('Forbidden');
    expect(outcome.failure.message).to.include('ServiceAccount team-a/robot');
    // Wrapped (as an expression's failure wraps what $get threw): still forbidden.
    expect(classify(new Error('wrapped', { cause: err })).kind).to.equal('forbidden');
  });

  it('lister() checks $get for get and $list for list before the cache answers', async () => {
    const reads: string[] = [];
    const inner: ObjectLister = {
      get: (_a, kind, ns, name) => (reads.push(`get ${kind} ${ns}/${name}`), { apiVersion: 'v1', kind, metadata: { name } }),
      list: (_a, kind, ns) => (reads.push(`list ${kind} ${ns}`), []),
    };
    authz.allowed.add('team-a||configmaps|get');
    const lister = reviewer.lister('r', SA, inner);
    expect((await lister.get('v1', 'ConfigMap', 'team-a', 'x'))?.metadata?.name).to.equal('x');
    const denied = await Promise.resolve(lister.list('v1', 'ConfigMap', 'team-a')).catch((e: unknown) => e);
    expect(isAccessDenied(denied)).to.equal(true);
    expect(reads).to.deep.equal(['get ConfigMap team-a/x']);
  });
});

describe('RuleIdentities: the client and lister of a rule that runs as a ServiceAccount', () => {
  const load = (yaml: string, source: { tenant?: string; serviceAccountName?: string } = {}): CompiledRule => {
    const r = loadRules([{ file: 'r.yaml', text: yaml, ...source }]);
    expect(r.errors.map((e) => e.message)).to.deep.equal([]);
    return r.rules[0];
  };
  const RULE = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: r }
spec:
  watch: { apiVersion: v1, kind: ConfigMap }
  actions: [{ patch: { patch: { metadata: { labels: { a: b } } } } }]
`;

  it('impersonates the ServiceAccount (user only: the server adds its groups), one client per ServiceAccount', () => {
    const asked: unknown[] = [];
    const own = { impersonate: (id: unknown) => (asked.push(id), { own: false }) } as unknown as KubeClient;
    const ids = new RuleIdentities(own, new AccessReviewer({ client: new FakeAuthorizer().client, clock: new FakeClock() }));
    const rule = load(RULE, { tenant: 'team-a', serviceAccountName: 'robot' });
    expect(rule.runAs).to.deep.equal({ namespace: 'team-a', name: 'robot' });
    const a = ids.clientFor(rule);
    expect(ids.clientFor(rule)).to.equal(a);
    expect(asked).to.deep.equal([{ user: 'system:serviceaccount:team-a:robot' }]);
    // A rule without runAs (cluster-wide, or a tenant ConfigMap's rule naming no ServiceAccount) writes as the daemon.
    expect(ids.clientFor(load(RULE))).to.equal(own);
    expect(ids.clientFor(load(RULE, { tenant: 'team-a' }))).to.equal(own);
  });

  it('refuses to hand out a client that cannot impersonate (never writes as the daemon instead)', () => {
    const ids = new RuleIdentities({} as KubeClient, new AccessReviewer({ client: new FakeAuthorizer().client, clock: new FakeClock() }));
    expect(() => ids.clientFor(load(RULE, { tenant: 'team-a', serviceAccountName: 'robot' }))).to.throw(/cannot impersonate system:serviceaccount:team-a:robot/);
  });

  it('admits a trigger only when the ServiceAccount may list its kind in its namespace', async () => {
    const authz = new FakeAuthorizer();
    const ids = new RuleIdentities({} as KubeClient, new AccessReviewer({ client: authz.client, clock: new FakeClock() }));
    const rule = load(RULE.replace('kind: ConfigMap', 'kind: Secret'), { tenant: 'team-a', serviceAccountName: 'robot' });
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'team-a' } };
    const denied = await ids.admitTrigger(rule, secret).catch((e: unknown) => e);
    expect((denied as Error).message).to.match(/list secrets in namespace "team-a" refused: ServiceAccount team-a\/robot/);
    authz.allowed.add('team-a||secrets|list');
    await ids.admitTrigger(load(RULE.replace('kind: ConfigMap', 'kind: Secret'), { tenant: 'team-a', serviceAccountName: 'robot2' }), secret).then(
      () => expect.fail('robot2 is another ServiceAccount: denied'),
      () => undefined,
    );
    await new RuleIdentities({} as KubeClient, new AccessReviewer({ client: authz.client, clock: new FakeClock() })).admitTrigger(rule, secret);
  });
});

describe('classify: confinement refusals', () => {
  it('a read or write outside a tenant rule\'s namespace is terminal, reason Confined', () => {
    for (const code of ['ERR_TENANT_CONFINED', 'ERR_ACTION_CONFINED']) {
      const err = Object.assign(new Error('refused'), { code });
      const outcome = classify(new Error('evaluation failed', { cause: err }));
      expect(outcome.kind).to.equal('terminal');
      expect(outcome.failure.reason).to.equal('Confined');
    }
  });
});
