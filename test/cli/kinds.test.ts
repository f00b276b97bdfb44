import { expect } from 'chai';
import { OFFLINE_KINDS, resolveKind } from '../../src/cli/kinds.js';

const resolve = (text: string) => {
  const k = resolveKind(text, OFFLINE_KINDS);
  return `${k.apiVersion} ${k.kind}`;
};

describe('cli/kinds (kubectl names, offline table)', () => {
  it('resolves a kind by short name, plural, singular, Kind and kind.group like kubectl', () => {
    for (const name of ['deploy', 'deployments', 'deployment', 'Deployment', 'deployment.apps', 'deployments.v1.apps', 'DEPLOY']) {
      expect(resolve(name), name).to.equal('apps/v1 Deployment');
    }
    expect(resolve('po')).to.equal('v1 Pod');
    expect(resolve('netpol')).to.equal('networking.k8s.io/v1 NetworkPolicy');
    expect(resolve('cj')).to.equal('batch/v1 CronJob');
  });

  it('prefers the core group for a name two groups share, and takes the group when given', () => {
    expect(resolve('events')).to.equal('v1 Event');
    expect(resolve('events.events.k8s.io')).to.equal('events.k8s.io/v1 Event');
  });

  it('rejects an unknown name with the kinds it may have meant', () => {
    expect(() => resolveKind('deplyo', OFFLINE_KINDS)).to.throw('unknown kind "deplyo"; did you mean Deployment?');
    expect(() => resolveKind('deployment.batch', OFFLINE_KINDS)).to.throw('unknown kind "deployment.batch"');
  });
});
