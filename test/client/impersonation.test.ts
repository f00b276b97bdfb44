import { expect } from 'chai';
import { createClient, type DynamicClient } from '../../src/client/index.js';
import { FakeApiServer, json } from './fake-server.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' };
const SA = 'system:serviceaccount:team-a:robot';

describe('DynamicClient.impersonate: request shapes', () => {
  let server: FakeApiServer;
  let client: DynamicClient;

  beforeEach(async () => {
    server = await FakeApiServer.start();
    client = await createClient({ config: server.config(), qps: 0 });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('sends Impersonate-User on every verb of the impersonating client, and nothing on the original', async () => {
    const as = client.impersonate({ user: SA });
    const target = { ...CM, namespace: 'team-a', name: 'a' };
    await as.get(target);
    await as.list({ ...CM, namespace: 'team-a' });
    await as.create({ ...CM, metadata: { name: 'b', namespace: 'team-a' } });
    await as.update({ ...CM, metadata: { name: 'a', namespace: 'team-a', resourceVersion: '1' } });
    await as.patch(target, { data: { x: '1' } });
    await as.patch(target, { ...CM, metadata: { name: 'a' } }, { type: 'apply', fieldManager: 'reflex' });
    await as.delete(target);
    await as.deleteCollection({ ...CM, namespace: 'team-a' });
    const impersonated = server.calls();
    expect(impersonated.map((r) => r.method)).to.deep.equal(['GET', 'GET', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE', 'DELETE']);
    for (const r of impersonated) {
      expect(r.distinct['impersonate-user'], `${r.method} ${r.path}`).to.deep.equal([SA]);
      expect(r.headers['impersonate-group']).to.equal(undefined);
      expect(r.headers.authorization).to.equal('Bearer secret-token');
    }
    await client.get(target);
    const own = server.calls().at(-1)!;
    expect(own.headers['impersonate-user']).to.equal(undefined);
    // Discovery is shared and sent as the client's own identity.
    expect(server.requests.filter((r) => r.path === '/api' || r.path === '/apis').every((r) => r.headers['impersonate-user'] === undefined)).to.equal(true);
  });

  it('sends one Impersonate-Group line per group, and impersonates watches', async () => {
    server.on((r, res) => {
      if (r.url.searchParams.get('watch') !== '1') return false;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ADDED', object: { ...CM, metadata: { name: 'a', namespace: 'team-a' } } })}\n`);
    });
    const as = client.impersonate({ user: SA, groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a'] });
    const events = [];
    for await (const ev of as.watch({ ...CM, namespace: 'team-a' })) events.push(ev);
    expect(events).to.have.length(1);
    const r = server.calls()[0];
    expect(r.distinct['impersonate-user']).to.deep.equal([SA]);
    expect(r.distinct['impersonate-group']).to.deep.equal(['system:serviceaccounts', 'system:serviceaccounts:team-a']);
  });

  it('replaces the configuration\'s own impersonation rather than adding to it', async () => {
    const configured = await createClient({ config: server.config({ impersonate: { user: 'ops-admin', groups: ['system:masters'] } }), qps: 0 });
    try {
      await configured.get({ ...CM, namespace: 'team-a', name: 'a' });
      await configured.impersonate({ user: SA }).get({ ...CM, namespace: 'team-a', name: 'a' });
      const [own, as] = server.calls();
      expect(own.distinct['impersonate-user']).to.deep.equal(['ops-admin']);
      expect(own.distinct['impersonate-group']).to.deep.equal(['system:masters']);
      expect(as.distinct['impersonate-user']).to.deep.equal([SA]);
      expect(as.headers['impersonate-group']).to.equal(undefined);
    } finally {
      await configured.close();
    }
  });

  it('shares the connection pool: closing the impersonating client leaves the original working', async () => {
    server.on((r, res) => (r.method === 'GET' && r.path.startsWith('/api/v1/') ? json(res, 200, { ...CM, metadata: { name: 'a' } }) : false));
    const as = client.impersonate({ user: SA });
    await as.get({ ...CM, namespace: 'team-a', name: 'a' });
    await as.close();
    const got = await client.get({ ...CM, namespace: 'team-a', name: 'a' });
    expect(got.metadata?.name).to.equal('a');
    expect(client.poolStats().requests).to.deep.equal(as.poolStats().requests);
    expect(as.impersonating).to.deep.equal({ user: SA });
    expect(client.impersonating).to.equal(undefined);
  });
});
