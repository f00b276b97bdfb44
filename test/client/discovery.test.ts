import { expect } from 'chai';
import { FakeClock } from '../../src/core/index.js';
import { createClient, UnknownKindError } from '../../src/client/index.js';
import { discoveryResource, FakeApiServer, groupsDiscovery, json } from './fake-server.js';
import { until } from './helpers.js';

const WIDGET = { group: 'example.com', version: 'v1', res: discoveryResource('widgets', 'Widget', 'Namespaced', ['status'], ['wd']) };

describe('Discovery', () => {
  let server: FakeApiServer;
  beforeEach(async () => {
    server = await FakeApiServer.start();
  });
  afterEach(() => server.close());
  const discoveryCalls = () => server.requests.filter((r) => r.path === '/apis').length;

  it('falls back to legacy /api and /apis and maps subresources and short names', async () => {
    server.on((r, res) => {
      const legacy: Record<string, unknown> = {
        '/api': { kind: 'APIVersions', versions: ['v1'] },
        '/apis': { kind: 'APIGroupList', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }] }] },
        '/api/v1': { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] }, { name: 'pods/status', namespaced: true, kind: 'Pod', verbs: ['get'] }] },
        '/apis/apps/v1': { kind: 'APIResourceList', groupVersion: 'apps/v1', resources: [{ name: 'deployments', namespaced: true, kind: 'Deployment', verbs: ['get'] }, { name: 'deployments/scale', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get'] }] },
      };
      return legacy[r.path] ? json(res, 200, legacy[r.path]) : false;
    });
    const client = await createClient({ config: server.config(), qps: 0 });
    const pod = await client.resolve('v1', 'Pod');
    const dep = await client.resolve('apps/v1', 'Deployment');
    await client.close();
    expect(client.discovery.aggregated).to.equal(false);
    expect(pod).to.deep.equal({ gvk: { group: '', version: 'v1', kind: 'Pod' }, gvr: { group: '', version: 'v1', resource: 'pods' }, namespaced: true, verbs: ['get', 'list'], shortNames: ['po'], subresources: ['status'] });
    expect(dep.subresources).to.deep.equal(['scale']);
  });

  it('resolves a kind installed after start by refreshing once, without a new client', async () => {
    const client = await createClient({ config: server.config(), qps: 0 });
    await client.resolve('v1', 'ConfigMap');
    server.discovery.groups = groupsDiscovery([WIDGET]);
    const info = await client.resolve('example.com/v1', 'Widget');
    await client.close();
    expect(info.gvr.resource).to.equal('widgets');
    expect(discoveryCalls()).to.equal(2);
  });

  it('fails an unknown kind with UnknownKindError, saying what to check', async () => {
    const client = await createClient({ config: server.config(), qps: 0 });
    const err = await client.resolve('example.com/v1', 'Gadget').catch((e: unknown) => e);
    await client.close();
    expect(err).to.be.instanceOf(UnknownKindError);
    expect((err as Error).message).to.equal(`the server ${server.url} does not serve kind Gadget in example.com/v1; check the apiVersion and kind, or install the CRD that defines it`);
  });

  it('refreshes at most once per interval, shared by concurrent lookups of unknown kinds', async () => {
    const clock = new FakeClock(Date.now());
    const client = await createClient({ config: server.config(), qps: 0, clock, discovery: { minRefreshIntervalMs: 10_000 } });
    await client.resolve('v1', 'ConfigMap');
    const lookups = ['A', 'B', 'C'].map((k) => client.resolve('example.com/v1', k).catch((e: unknown) => e));
    await new Promise((r) => setTimeout(r, 50));
    expect(discoveryCalls()).to.equal(1); // waiting for the interval to pass
    clock.advance(10_000);
    const errs = await Promise.all(lookups);
    await until(() => discoveryCalls() === 2);
    await client.close();
    expect(errs.every((e) => e instanceof UnknownKindError)).to.equal(true);
    expect(discoveryCalls()).to.equal(2);
  });
});
