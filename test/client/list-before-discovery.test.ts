import { expect } from 'chai';
import { createClient, type DynamicClient, isForbidden, UnknownKindError } from '../../src/client/index.js';
import { CORE_DISCOVERY, discoveryResource, FakeApiServer, json, status } from './fake-server.js';
import { until } from './helpers.js';

/** A client's first list of a built-in kind, sent while discovery loads (DynamicClient.listBeforeDiscovery). */
describe('a first list before discovery has answered', () => {
  let server: FakeApiServer;
  let client: DynamicClient;
  let releaseDiscovery: () => void;
  let discoveryHeld: Promise<void>;

  const list = (items: string[]) => ({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: items.map((name) => ({ metadata: { name } })) });
  const listed = () => server.requests.filter((r) => r.path !== '/api' && r.path !== '/apis').map((r) => `${r.method} ${r.path}`);

  beforeEach(async () => {
    server = await FakeApiServer.start();
    discoveryHeld = new Promise<void>((r) => (releaseDiscovery = r));
    // Discovery answers only when the test lets it.
    server.on(async (req) => {
      if (req.path === '/api' || req.path === '/apis') await discoveryHeld;
      return false;
    });
    server.discovery.core = {
      ...CORE_DISCOVERY,
      items: [
        {
          metadata: { name: '' },
          versions: [
            {
              version: 'v1',
              resources: [
                discoveryResource('configmaps', 'ConfigMap', 'Namespaced'),
                discoveryResource('namespaces', 'Namespace', 'Cluster'),
                discoveryResource('endpoints', 'Endpoints', 'Namespaced'),
              ],
            },
          ],
        },
      ],
    };
    client = await createClient({ config: server.config(), qps: 0 });
  });
  afterEach(async () => {
    releaseDiscovery();
    await client.close();
    await server.close();
  });

  it('is sent before discovery answers, and its answer is used once discovery gives the same path', async () => {
    server.on((req, res) => (req.path === '/api/v1/namespaces/ns1/configmaps' ? json(res, 200, list(['a', 'b'])) : false));
    let seen: string[] | undefined;
    const listing = client.list({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns1' }, { onItem: (i) => ((seen ??= []).push(i.metadata!.name!), i) });
    await until(() => listed().length === 1, 5000, 'the list request');
    expect(listed()).to.deep.equal(['GET /api/v1/namespaces/ns1/configmaps']);
    // Nothing of the answer is used until discovery has confirmed the path.
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).to.equal(undefined);
    releaseDiscovery();
    const result = await listing;
    expect(result.items.map((i) => [i.kind, i.metadata?.name])).to.deep.equal([['ConfigMap', 'a'], ['ConfigMap', 'b']]);
    expect(listed()).to.deep.equal(['GET /api/v1/namespaces/ns1/configmaps']);
  });

  it('is dropped and sent again where discovery says when the guess was wrong (an irregular plural)', async () => {
    server.on((req, res) => {
      if (req.path === '/api/v1/endpointses') return json(res, 200, list(['wrong']));
      if (req.path === '/api/v1/endpoints') return json(res, 200, list(['right']));
      return false;
    });
    const listing = client.list({ apiVersion: 'v1', kind: 'Endpoints' });
    await until(() => listed().length === 1, 5000, 'the guessed request');
    releaseDiscovery();
    const result = await listing;
    expect(result.items.map((i) => i.metadata?.name)).to.deep.equal(['right']);
    expect(listed()).to.deep.equal(['GET /api/v1/endpointses', 'GET /api/v1/endpoints']);
  });

  it('is sent again without the namespace for a cluster-scoped kind, even when the guess failed first', async () => {
    server.on((req, res) => {
      if (req.path === '/api/v1/namespaces/x/namespaces') return json(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
      if (req.path === '/api/v1/namespaces') return json(res, 200, list(['default']));
      return false;
    });
    const listing = client.list({ apiVersion: 'v1', kind: 'Namespace', namespace: 'x' });
    await until(() => listed().length === 1, 5000, 'the guessed request');
    releaseDiscovery();
    expect((await listing).items.map((i) => i.metadata?.name)).to.deep.equal(['default']);
    expect(listed()).to.deep.equal(['GET /api/v1/namespaces/x/namespaces', 'GET /api/v1/namespaces']);
  });

  it("a confirmed request's error is the list's error, sent once", async () => {
    server.on((req, res) => (req.path === '/api/v1/configmaps' ? json(res, 403, status(403, 'Forbidden', 'configmaps is forbidden')) : false));
    const listing = client.list({ apiVersion: 'v1', kind: 'ConfigMap' });
    await until(() => listed().length === 1, 5000, 'the list request');
    releaseDiscovery();
    const err = await listing.then(() => undefined, (e: unknown) => e);
    expect(isForbidden(err), String(err)).to.equal(true);
    expect(listed()).to.deep.equal(['GET /api/v1/configmaps']);
  });

  it('a kind discovery does not know fails as unknown, whatever the guessed request answered', async () => {
    server.discovery.core = { ...CORE_DISCOVERY, items: [] };
    releaseDiscovery();
    const err = await client.list({ apiVersion: 'v1', kind: 'ConfigMap' }).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(UnknownKindError);
  });

  /** Lists `kind` with discovery held for 100 ms; answers whether the list request came only after discovery was let go. */
  async function sentAfterDiscovery(c: DynamicClient, apiVersion: string, kind: string, resourcePath: string): Promise<boolean> {
    let released = false;
    let arrivedAfter: boolean | undefined;
    server.on((req, res) => {
      if (req.path !== resourcePath) return false;
      arrivedAfter = released;
      json(res, 200, list(['a']));
    });
    const listing = c.list({ apiVersion, kind });
    setTimeout(() => {
      released = true;
      releaseDiscovery();
    }, 100);
    await listing;
    return arrivedAfter!;
  }

  it('waits for discovery for a kind that is not built in', async () => {
    server.discovery.groups = {
      kind: 'APIGroupDiscoveryList',
      apiVersion: 'apidiscovery.k8s.io/v2',
      items: [{ metadata: { name: 'example.com' }, versions: [{ version: 'v1', resources: [{ ...discoveryResource('widgets', 'Widget', 'Namespaced'), responseKind: { group: 'example.com', version: 'v1', kind: 'Widget' } }] }] }],
    };
    expect(await sentAfterDiscovery(client, 'example.com/v1', 'Widget', '/apis/example.com/v1/widgets')).to.equal(true);
  });

  it('waits for discovery without protobuf (protobuf: false)', async () => {
    const jsonOnly = await createClient({ config: server.config(), qps: 0, protobuf: false });
    try {
      expect(await sentAfterDiscovery(jsonOnly, 'v1', 'ConfigMap', '/api/v1/configmaps')).to.equal(true);
    } finally {
      await jsonOnly.close();
    }
  });

  it('the same check sees a first list of a built-in kind go out before discovery', async () => {
    expect(await sentAfterDiscovery(client, 'v1', 'ConfigMap', '/api/v1/configmaps')).to.equal(false);
  });
});
