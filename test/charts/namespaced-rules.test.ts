/** The chart grants the daemon what namespaced rules need (impersonating their ServiceAccounts, reviewing their reads), unless asked not to. */
import { expect } from 'chai';
import { render, type Manifest } from './render.js';

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
const clusterRules = (m: Manifest[]) => (m.find((x) => x.kind === 'ClusterRole') as unknown as { rules: Rule[] }).rules;
const IMPERSONATE = { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] };
const REVIEW = { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] };

describe('charts/reflex namespaced rules', () => {
  it('grant impersonate on serviceaccounts and create on subjectaccessreviews by default, never on groups or users', () => {
    const rules = clusterRules(render('reflex'));
    expect(rules).to.deep.include.members([IMPERSONATE, REVIEW]);
    expect(rules.filter((r) => r.verbs.includes('impersonate'))).to.deep.equal([IMPERSONATE]);
  });

  it('list the review grant once when traces are exposed too', () => {
    const rules = clusterRules(render('reflex', { traces: { expose: true } }));
    expect(rules.filter((r) => r.resources.includes('subjectaccessreviews'))).to.deep.equal([REVIEW]);
  });

  it('grant neither with rbac.namespacedRules: false', () => {
    const rules = clusterRules(render('reflex', { rbac: { namespacedRules: false } }));
    expect(rules.filter((r) => r.verbs.includes('impersonate') || r.resources.includes('subjectaccessreviews'))).to.deep.equal([]);
  });
});
