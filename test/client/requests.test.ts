import { expect } from 'chai';
import { FakeClock, MemoryLogger } from '../../src/core/index.js';
import {
  AGGREGATED_DISCOVERY_ACCEPT,
  createClient,
  type DynamicClient,
  isConflict,
  isNotFound,
  isTooManyRequests,
  KubeApiError,
  PARTIAL_METADATA_ACCEPT,
  PARTIAL_METADATA_LIST_ACCEPT,
} from '../../src/client/index.js';
import { FakeApiServer, json, status } from './fake-server.js';
import { until } from './helpers.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap' };

describe('DynamicClient request shapes', () => {
  let server: FakeApiServer;
  let client: DynamicClient;
  let logger: MemoryLogger;

  beforeEach(async () => {
    server = await FakeApiServer.start();
    logger = new MemoryLogger();
    client = await createClient({ config: server.config(), qps: 0, logger });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('asks for aggregated discovery with the apidiscovery.k8s.io/v2 Accept header', async () => {
    const info = await client.resolve('apps/v1', 'Deployment');
    const disc = server.requests.filter((r) => r.path === '/api' || r.path === '/apis');
    expect(disc.map((r) => r.headers.accept)).to.deep.equal([AGGREGATED_DISCOVERY_ACCEPT, AGGREGATED_DISCOVERY_ACCEPT]);
    expect(info).to.deep.include({ namespaced: true, shortNames: ['deploy'], subresources: ['status', 'scale'] });
    expect(info.gvr).to.deep.equal({ group: 'apps', version: 'v1', resource: 'deployments' });
    expect(client.discovery.aggregated).to.equal(true);
  });

  it('sends the bearer token and a user agent on every request', async () => {
    await client.get({ ...CM, namespace: 'ns1', name: 'a' });
    const r = server.calls()[0];
    expect(r.headers.authorization).to.equal('Bearer secret-token');
    expect(r.headers['user-agent']).to.match(/^reflex\//);
  });

  it('gets a namespaced object by path, defaulting to the configured namespace', async () => {
    await client.get({ ...CM, namespace: 'ns1', name: 'a' });
    await client.get({ ...CM, name: 'b' });
    await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'ns1' }, { subresource: 'status' });
    expect(server.calls().map((r) => r.path)).to.deep.equal([
      '/api/v1/namespaces/ns1/configmaps/a',
      '/api/v1/namespaces/default/configmaps/b',
      '/api/v1/namespaces/ns1/status',
    ]);
  });

  it('lists with pagination, selectors and resourceVersionMatch in the query, across all namespaces when none is given', async () => {
    server.on((r, res) => (r.path.endsWith('/configmaps') && r.method === 'GET' ? json(res, 200, { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { continue: 'next' }, items: [{ metadata: { name: 'x' } }] }) : false));
    const list = await client.list(CM, { limit: 500, continue: 'tok', labelSelector: 'a=b', fieldSelector: 'metadata.name=x', resourceVersion: '10', resourceVersionMatch: 'NotOlderThan' });
    const r = server.calls()[0];
    expect(r.path).to.equal('/api/v1/configmaps');
    expect(Object.fromEntries(r.url.searchParams)).to.deep.equal({ limit: '500', continue: 'tok', labelSelector: 'a=b', fieldSelector: 'metadata.name=x', resourceVersion: '10', resourceVersionMatch: 'NotOlderThan' });
    expect(list.metadata.continue).to.equal('next');
    expect(list.items[0]).to.deep.include({ apiVersion: 'v1', kind: 'ConfigMap' });
  });

  it('asks for PartialObjectMetadataList on a metadata-only list and PartialObjectMetadata on a metadata-only watch', async () => {
    server.on((r, res) => (r.url.searchParams.get('watch') ? (res.writeHead(200), res.end(), true) : false));
    await client.list({ ...CM, namespace: 'n' }, { metadataOnly: true });
    for await (const _ of client.watch({ ...CM, namespace: 'n' }, { metadataOnly: true })) break;
    expect(server.calls().map((r) => r.headers.accept)).to.deep.equal([PARTIAL_METADATA_LIST_ACCEPT, PARTIAL_METADATA_ACCEPT]);
  });

  it('creates by POST to the collection with dryRun=All and fieldManager', async () => {
    await client.create({ ...CM, metadata: { name: 'a', namespace: 'n' }, data: { k: 'v' } }, { dryRun: true, fieldManager: 'reflex' });
    const r = server.calls()[0];
    expect([r.method, r.path, r.url.search]).to.deep.equal(['POST', '/api/v1/namespaces/n/configmaps', '?dryRun=All&fieldManager=reflex']);
    expect(r.headers['content-type']).to.equal('application/json');
    expect(JSON.parse(r.body)).to.deep.include({ data: { k: 'v' } });
  });

  it('updates by PUT to the object, or to its status subresource', async () => {
    const dep = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'n', resourceVersion: '5' } };
    await client.update(dep);
    await client.update(dep, { subresource: 'status' });
    expect(server.calls().map((r) => `${r.method} ${r.path}`)).to.deep.equal(['PUT /apis/apps/v1/namespaces/n/deployments/d', 'PUT /apis/apps/v1/namespaces/n/deployments/d/status']);
  });

  it('sends each patch type with its content type; apply sends JSON with fieldManager and force', async () => {
    const t = { ...CM, namespace: 'n', name: 'a' };
    await client.patch(t, [{ op: 'add', path: '/data/x', value: '1' }], { type: 'json' });
    await client.patch(t, { data: { x: '1' } });
    await client.patch(t, { data: { x: '1' } }, { type: 'strategic' });
    await client.patch(t, { ...CM, metadata: { name: 'a' }, data: { x: '1' } }, { type: 'apply', fieldManager: 'reflex', force: true });
    const calls = server.calls();
    expect(calls.map((r) => r.headers['content-type'])).to.deep.equal([
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
      'application/apply-patch+yaml',
    ]);
    expect(calls[3].url.search).to.equal('?fieldManager=reflex&force=true');
    expect(JSON.parse(calls[3].body)).to.deep.equal({ ...CM, metadata: { name: 'a' }, data: { x: '1' } });
  });

  it('refuses server-side apply without a fieldManager before sending anything', async () => {
    const err = await client.patch({ ...CM, name: 'a' }, {}, { type: 'apply' }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal('server-side apply needs a fieldManager');
    expect(server.calls()).to.have.length(0);
  });

  it('deletes with propagationPolicy, grace period and preconditions in DeleteOptions', async () => {
    await client.delete({ ...CM, namespace: 'n', name: 'a' }, { propagationPolicy: 'Foreground', gracePeriodSeconds: 0, preconditions: { uid: 'u1', resourceVersion: '7' }, dryRun: true });
    const r = server.calls()[0];
    expect([r.method, r.path, r.url.search]).to.deep.equal(['DELETE', '/api/v1/namespaces/n/configmaps/a', '?dryRun=All']);
    expect(JSON.parse(r.body)).to.deep.equal({
      apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Foreground', gracePeriodSeconds: 0,
      preconditions: { uid: 'u1', resourceVersion: '7' }, dryRun: ['All'],
    });
  });

  it('deletes a collection with selectors', async () => {
    await client.deleteCollection({ ...CM, namespace: 'n' }, { labelSelector: 'app=x' });
    const r = server.calls()[0];
    expect([r.method, r.path, r.url.search]).to.deep.equal(['DELETE', '/api/v1/namespaces/n/configmaps', '?labelSelector=app%3Dx']);
  });

  it('rejects with a typed KubeApiError naming verb, resource and server, carrying the Status', async () => {
    server.on((r, res) => (r.path.includes('configmaps') ? json(res, 404, status(404, 'NotFound', 'configmaps "a" not found')) : false));
    const err = (await client.get({ ...CM, namespace: 'n', name: 'a' }).catch((e: unknown) => e)) as KubeApiError;
    expect(err).to.be.instanceOf(KubeApiError);
    expect(isNotFound(err)).to.equal(true);
    expect(err.code).to.equal('ERR_KUBE_API');
    expect(err.body.message).to.equal('configmaps "a" not found');
    expect(err.message).to.equal(`get configmaps "a" in namespace "n" on ${server.url}: NotFound (404): configmaps "a" not found`);
  });

  it('retries a 429 on an idempotent verb, honouring Retry-After', async () => {
    let n = 0;
    server.on((r, res) => (r.path.includes('configmaps') ? (++n < 3 ? json(res, 429, status(429, 'TooManyRequests', 'slow down'), 'application/json', { 'retry-after': '0' }) : json(res, 200, { metadata: {} })) : false));
    await client.get({ ...CM, namespace: 'n', name: 'a' });
    expect(n).to.equal(3);
  });

  it('waits as long as Retry-After says before retrying', async () => {
    const clock = new FakeClock(Date.now());
    const c2 = await createClient({ config: server.config(), qps: 0, clock });
    await c2.resolve('v1', 'ConfigMap');
    let n = 0;
    server.on((r, res) => (r.path.includes('configmaps') ? (++n === 1 ? json(res, 429, status(429, 'TooManyRequests', 'later'), 'application/json', { 'retry-after': '2' }) : json(res, 200, { metadata: {} })) : false));
    const done = c2.get({ ...CM, namespace: 'n', name: 'a' });
    await until(() => n === 1);
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(1999);
    await new Promise((r) => setTimeout(r, 50));
    expect(n).to.equal(1);
    clock.advance(1);
    await done;
    await c2.close();
    expect(n).to.equal(2);
  });

  it('does not retry a 429 on a POST', async () => {
    server.on((r, res) => (r.method === 'POST' ? json(res, 429, status(429, 'TooManyRequests', 'slow down'), 'application/json', { 'retry-after': '0' }) : false));
    const err = await client.create({ ...CM, metadata: { name: 'a', namespace: 'n' } }).catch((e: unknown) => e);
    expect(isTooManyRequests(err)).to.equal(true);
    expect(server.calls()).to.have.length(1);
  });

  it('retries a 5xx only when it carries Retry-After, and gives up when the retry budget is spent', async () => {
    server.on((r, res) => (r.path.endsWith('/a') ? json(res, 503, status(503, 'ServiceUnavailable', 'busy'), 'application/json', { 'retry-after': '0' }) : false));
    server.on((r, res) => (r.path.endsWith('/b') ? json(res, 500, status(500, 'InternalError', 'boom')) : false));
    await client.get({ ...CM, namespace: 'n', name: 'a' }).catch(() => undefined);
    await client.get({ ...CM, namespace: 'n', name: 'b' }).catch(() => undefined);
    const paths = server.calls().map((r) => r.path.split('/').pop());
    expect(paths.filter((p) => p === 'a')).to.have.length(6); // 1 + the default 5 retries
    expect(paths.filter((p) => p === 'b')).to.have.length(1);
  });

  it('gives up at once when Retry-After exceeds the remaining budget', async () => {
    const c2 = await createClient({ config: server.config(), qps: 0, retry: { budgetMs: 1000 } });
    server.on((r, res) => (r.path.includes('configmaps') ? json(res, 429, status(429, 'TooManyRequests', 'later'), 'application/json', { 'retry-after': '5' }) : false));
    const err = (await c2.get({ ...CM, namespace: 'n', name: 'a' }).catch((e: unknown) => e)) as KubeApiError;
    await c2.close();
    expect(err.retryAfterSeconds).to.equal(5);
    expect(server.calls()).to.have.length(1);
  });

  it('surfaces Warning headers to listeners and logs each distinct message once', async () => {
    server.on((r, res) => (r.path.includes('configmaps') ? json(res, 200, { metadata: {} }, 'application/json', { warning: '299 - "v1 ConfigMap is deprecated"' }) : false));
    const seen: string[] = [];
    client.onWarning((w) => seen.push(`${w.code} ${w.text}`));
    await client.get({ ...CM, namespace: 'n', name: 'a' });
    await client.get({ ...CM, namespace: 'n', name: 'a' });
    expect(seen).to.deep.equal(['299 v1 ConfigMap is deprecated', '299 v1 ConfigMap is deprecated']);
    expect(logger.records.filter((r) => r.message.includes('deprecated'))).to.have.length(1);
  });

  it('classifies a stale update as a typed Conflict', async () => {
    server.on((r, res) => (r.method === 'PUT' ? json(res, 409, status(409, 'Conflict', 'the object has been modified')) : false));
    const err = await client.update({ ...CM, metadata: { name: 'a', namespace: 'n', resourceVersion: '1' } }).catch((e: unknown) => e);
    expect(isConflict(err)).to.equal(true);
  });
});
