/** The chart keeps /traces inside the Pod unless asked, and exposes it authenticated when asked. */
import { expect } from 'chai';
import { render, type Manifest } from './render.js';

type Shape = { data: Record<string, string>; spec: { ports: { name: string }[] }; rules: unknown[] };
const find = (m: Manifest[], kind: string, suffix = '') => m.find((x) => x.kind === kind && String(x.metadata?.name ?? '').endsWith(suffix)) as unknown as Shape;

describe('charts/reflex traces', () => {
  it('listen on 127.0.0.1 inside the Pod by default, with no port on the Service', () => {
    const m = render('reflex');
    expect(find(m, 'ConfigMap', '-config').data['reflex.yaml']).to.match(/traces:\n\s+address: 127\.0\.0\.1:9091/);
    expect(find(m, 'Service').spec.ports.map((p) => p.name)).to.deep.equal(['metrics']);
  });

  it('when exposed, listen on all interfaces behind the Service, with the rights to review tokens', () => {
    const m = render('reflex', { traces: { expose: true } });
    expect(find(m, 'ConfigMap', '-config').data['reflex.yaml']).to.match(/traces:\n\s+address: :9091/);
    expect(find(m, 'Service').spec.ports.map((p) => p.name)).to.deep.equal(['metrics', 'traces']);
    expect(find(m, 'ClusterRole').rules).to.deep.include.members([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
    ]);
  });
});
