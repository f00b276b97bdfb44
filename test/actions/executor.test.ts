import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActionErrorCode, eventName, executeAction, executePlan } from '../../src/actions/index.js';
import { FakeClock, MemoryLogger, type KubeObject } from '../../src/core/index.js';
import type { PlannedAction } from '../../src/engine/index.js';
import { apiError, echoClient, scriptedClient } from './recording-client.js';

const ref = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name });
const planned = (action: PlannedAction['action'], body: unknown, options: Record<string, unknown> = {}, name = 'cm'): PlannedAction => ({
  rule: 'r',
  trigger: { ...ref('cm'), event: 'sync' },
  action,
  target: ref(name),
  body,
  options,
});
const cm = (name = 'cm', extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', uid: 'u-1', resourceVersion: '1' }, ...extra });
const stamps = { labels: { 'app.kubernetes.io/managed-by': 'reflex' }, annotations: { 'reflex.dev/rule': 'r' } };

describe('actions/executor: request shapes', () => {
  it('apply sends a server-side apply with field manager reflex/<rule>, force and the ownership stamps', async () => {
    const client = echoClient();
    const r = await executeAction(planned('apply', cm(), { force: true }), { client, dryRun: true });
    expect(r.status).to.equal('done');
    expect(r.dryRun).to.equal(true);
    expect(client.calls).to.deep.equal([
      {
        verb: 'patch',
        target: { ...ref('cm') },
        body: { ...cm(), metadata: { ...cm().metadata, ...stamps } },
        options: { dryRun: true, type: 'apply', fieldManager: 'reflex/r', force: true },
      },
    ]);
  });

  it('create honours ifExists: skip (default) and fail', async () => {
    const exists = () => scriptedClient(() => {
      throw apiError(409, 'AlreadyExists');
    });
    expect((await executeAction(planned('create', cm()), { client: exists() })).status).to.equal('skipped-noop');
    const failed = await executeAction(planned('create', cm(), { ifExists: 'fail' }), { client: exists() });
    expect(failed.status).to.equal('failed');
    expect(failed.cause?.code).to.equal(ActionErrorCode.exists);
    const client = echoClient();
    await executeAction(planned('create', cm()), { client });
    expect(client.calls[0].body).to.deep.equal({ ...cm(), metadata: { ...cm().metadata, ...stamps } });
  });

  it('update gets, renders against the fresh object, puts; retries a conflict', async () => {
    let puts = 0;
    const client = scriptedClient((verb, args) => {
      if (verb === 'get') return cm('cm', { data: { v: String(puts) } });
      if (++puts < 3) throw apiError(409, 'Conflict');
      return { ...(args[0] as object), metadata: { ...cm().metadata, resourceVersion: '5' } };
    });
    const renderUpdate = async (_p: PlannedAction, current: KubeObject) => ({ ...current, data: { v: 'new' } });
    const r = await executeAction(planned('update', null), { client, renderUpdate });
    expect(r.status).to.equal('done');
    expect(client.calls.map((c) => c.verb)).to.deep.equal(['get', 'update', 'get', 'update', 'get', 'update']);
    expect(client.calls[5].body).to.deep.equal({ ...cm(), data: { v: 'new' } });
  });

  it('update gives up after its attempts with a conflict cause, skips a missing target and a no-op', async () => {
    const always = scriptedClient((verb) => {
      if (verb === 'get') return cm();
      throw apiError(409, 'Conflict');
    });
    const renderUpdate = async (_p: PlannedAction, c: KubeObject) => ({ ...c, data: { x: '1' } });
    const r = await executeAction(planned('update', null), { client: always, renderUpdate, updateAttempts: 3 });
    expect(r.status).to.equal('failed');
    expect(r.cause?.code).to.equal(ActionErrorCode.conflict);
    expect(always.writes).to.have.length(3);
    const missing = scriptedClient(() => {
      throw apiError(404, 'NotFound');
    });
    expect((await executeAction(planned('update', null), { client: missing, renderUpdate })).status).to.equal('skipped-missing');
    const same = echoClient([cm()]);
    expect((await executeAction(planned('update', null), { client: same, renderUpdate: async (_p, c) => c })).status).to.equal('skipped-noop');
    expect(same.writes).to.deep.equal([]);
  });

  it('patch is not sent when it would change nothing in the cached object', async () => {
    const client = echoClient();
    const current = cm('cm', { data: { a: '1' } });
    const r = await executeAction(planned('patch', { data: { a: '1' } }), { client, current });
    expect(r.status).to.equal('skipped-noop');
    expect(client.calls).to.deep.equal([]);
    const changed = await executeAction(planned('patch', [{ op: 'add', path: '/data/b', value: '2' }], { type: 'json', subresource: 'status' }), { client, current });
    expect(changed.status).to.equal('done');
    expect(client.calls[0].options).to.deep.equal({ type: 'json', subresource: 'status', fieldManager: 'reflex/r' });
  });

  it('patch of a missing target fails unless ignoreMissing', async () => {
    const missing = () => scriptedClient(() => {
      throw apiError(404, 'NotFound');
    });
    const r = await executeAction(planned('patch', { data: {} }), { client: missing() });
    expect([r.status, r.cause?.code]).to.deep.equal(['failed', ActionErrorCode.missing]);
    expect((await executeAction(planned('patch', { data: {} }, { ignoreMissing: true }), { client: missing() })).status).to.equal('skipped-missing');
  });

  it('delete carries the uid precondition only when the target is the trigger', async () => {
    const client = echoClient();
    await executeAction(planned('delete', null, { propagationPolicy: 'Background', gracePeriodSeconds: 5 }), { client, trigger: cm() });
    await executeAction(planned('delete', null, {}, 'other'), { client, trigger: cm() });
    expect(client.calls.map((c) => c.options)).to.deep.equal([
      { propagationPolicy: 'Background', gracePeriodSeconds: 5, preconditions: { uid: 'u-1' } },
      {},
    ]);
  });

  it('delete of a gone or replaced target is skipped-missing (ignoreMissing defaults to true)', async () => {
    const conflict = scriptedClient(() => {
      throw apiError(409, 'Conflict', 'Precondition failed: UID in precondition: u-1, UID in object meta: u-2');
    });
    expect((await executeAction(planned('delete', null), { client: conflict, trigger: cm() })).status).to.equal('skipped-missing');
    const gone = scriptedClient(() => {
      throw apiError(404, 'NotFound');
    });
    expect((await executeAction(planned('delete', null), { client: gone })).status).to.equal('skipped-missing');
    const strict = await executeAction(planned('delete', null, { ignoreMissing: false }), { client: gone });
    expect([strict.status, strict.cause?.code]).to.deep.equal(['failed', ActionErrorCode.missing]);
  });

  it('event creates an events.k8s.io/v1 Event, and counts a repeat in series', async () => {
    const clock = new FakeClock(Date.parse('2026-03-10T12:00:00Z'));
    const p = planned('event', { type: 'Warning', reason: 'Odd', message: 'look' });
    const first = echoClient();
    await executeAction(p, { client: first, clock, trigger: cm() });
    expect(first.calls[0].body).to.deep.equal({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: eventName(p), namespace: 'ns' },
      eventTime: '2026-03-10T12:00:00.000000Z',
      reportingController: 'reflex.dev/reflex',
      reportingInstance: 'reflex',
      action: 'r',
      reason: 'Odd',
      note: 'look',
      type: 'Warning',
      regarding: { ...ref('cm'), uid: 'u-1' },
    });
    const repeat = scriptedClient((verb) => {
      if (verb === 'create') throw apiError(409, 'AlreadyExists');
      if (verb === 'get') return { series: { count: 2 } };
      return {};
    });
    const r = await executeAction(p, { client: repeat, clock });
    expect(r.status).to.equal('done');
    expect(repeat.calls.map((c) => c.verb)).to.deep.equal(['create', 'get', 'patch']);
    expect(repeat.calls[2].body).to.deep.equal({ series: { count: 3, lastObservedTime: '2026-03-10T12:00:00.000000Z' } });
  });

  it('log writes one structured line at the given level', async () => {
    const logger = new MemoryLogger();
    const r = await executeAction(planned('log', 'hello', { level: 'warn' }), { client: echoClient(), logger });
    expect(r.status).to.equal('done');
    expect(logger.records).to.deep.equal([{ level: 'warn', message: 'hello', fields: { rule: 'r', trigger: { ...ref('cm'), event: 'sync' }, target: ref('cm') } }]);
  });

  it('audit mode sends no request for any action, still logs, and never logs a body', async () => {
    const client = echoClient([cm()]);
    const logger = new MemoryLogger();
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'ns' }, data: { token: 'c2VjcmV0' } };
    for (const a of ['apply', 'create', 'update', 'patch', 'delete', 'event', 'webhook'] as const) {
      const r = await executeAction(planned(a, a === 'webhook' ? { url: 'http://127.0.0.1:1/' } : secret), { client, mode: 'audit', logger });
      expect(r).to.deep.include({ status: 'done', audit: true });
    }
    await executeAction(planned('log', 'x'), { client, mode: 'audit', logger });
    expect(client.calls).to.deep.equal([]);
    expect(logger.records.map((l) => l.message)).to.deep.equal([
      'audit: would apply ConfigMap ns/cm',
      'audit: would create ConfigMap ns/cm',
      'audit: would update ConfigMap ns/cm',
      'audit: would patch ConfigMap ns/cm',
      'audit: would delete ConfigMap ns/cm',
      'audit: would event ConfigMap ns/cm',
      'audit: would webhook ConfigMap ns/cm',
      'x',
    ]);
    expect(JSON.stringify(logger.records)).to.not.include('c2VjcmV0');
  });

  it('fails an option of the wrong type in a plan made elsewhere as terminal, sending nothing (never dropped or defaulted)', async () => {
    const cases: [PlannedAction, string][] = [
      [planned('delete', null, { gracePeriodSeconds: 'soon' }), 'option gracePeriodSeconds: expected an integer >= 0; got "soon"'],
      [planned('delete', null, { ignoreMissing: 'false' }), 'option ignoreMissing: expected a boolean; got "false"'],
      [planned('apply', cm(), { force: 'yes' }), 'option force: expected a boolean; got "yes"'],
      [planned('patch', { a: 1 }, { type: 'merge', ignoreMissing: 1 }), 'option ignoreMissing: expected a boolean; got 1'],
    ];
    for (const [p, message] of cases) {
      const client = echoClient();
      const r = await executeAction(p, { client });
      expect(r.status, message).to.equal('failed');
      expect(r.cause?.code).to.equal(ActionErrorCode.invalid);
      expect(r.cause?.terminal).to.equal(true);
      expect(r.cause?.message).to.contain(message).and.contain('nothing was sent');
      expect(client.calls).to.deep.equal([]);
    }
    const ok = echoClient();
    expect((await executeAction(planned('delete', null, { gracePeriodSeconds: 0, ignoreMissing: false }), { client: ok })).status).to.equal('done');
    expect(ok.calls[0].options).to.include({ gracePeriodSeconds: 0 });
  });

  it('executePlan stops at the first failure', async () => {
    const client = scriptedClient((verb) => {
      if (verb === 'delete') throw apiError(403, 'Forbidden');
      return {};
    });
    const results = await executePlan([planned('log', 'a'), planned('delete', null), planned('log', 'b')], { client });
    expect(results.map((r) => r.status)).to.deep.equal(['done', 'failed']);
    expect(results[1].cause?.code).to.equal(ActionErrorCode.api);
    expect(results[1].cause?.message).to.match(/^delete of ConfigMap ns\/cm for rule "r" failed: DELETE: test object on https:\/\/test: Forbidden \(403\)/);
  });

  it('executePlan lets a precheck decide an action without running it, and reports every result with its duration', async () => {
    const calls: string[] = [];
    const client = scriptedClient((verb) => {
      calls.push(verb);
      return {};
    });
    const clock = new FakeClock(0);
    const seen: [string, string, number][] = [];
    const refused = { status: 'failed' as const, action: 'delete' as const, target: planned('delete', null).target };
    const results = await executePlan([planned('log', 'a'), planned('delete', null), planned('log', 'b')], { client, clock }, {
      precheck: async (p) => (p.action === 'delete' ? refused : undefined),
      onResult: (p, r, ms) => void seen.push([p.action, r.status, ms]),
    });
    expect(calls, 'the refused delete was never sent').to.deep.equal([]);
    expect(results.map((r) => r.status)).to.deep.equal(['done', 'failed']);
    expect(seen).to.deep.equal([['log', 'done', 0], ['delete', 'failed', 0]]);
  });
});

describe('actions/executor: webhook against a local HTTP server', () => {
  let server: Server;
  let url: string;
  const seen: { method?: string; url?: string; headers: IncomingMessage['headers']; body: string }[] = [];
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (req.url === '/slow') return setTimeout(() => res.end('late'), 2000).unref();
        res.statusCode = req.url === '/fail' ? 500 : 204;
        res.end(req.url === '/fail' ? 'boom' : undefined);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('sends the method, headers and JSON body; 2xx is done', async () => {
    const r = await executeAction(planned('webhook', { method: 'PUT', url: `${url}/ok`, headers: { 'x-token': 't' }, body: { a: 1 } }), { client: echoClient() });
    expect(r.status).to.equal('done');
    const last = seen[seen.length - 1];
    expect([last.method, last.url, last.headers['x-token'], last.headers['content-type'], last.body]).to.deep.equal(['PUT', '/ok', 't', 'application/json', '{"a":1}']);
  });

  it('a non-2xx answer is a failure carrying the status', async () => {
    const r = await executeAction(planned('webhook', { method: 'POST', url: `${url}/fail` }), { client: echoClient() });
    expect(r.status).to.equal('failed');
    expect(r.cause?.code).to.equal(ActionErrorCode.webhookStatus);
    expect(r.cause?.status).to.equal(500);
    expect(r.cause?.message).to.equal(`webhook POST ${url.slice(7)} for rule "r" answered 500; expected 2xx`);
  });

  it('a webhook slower than its timeout fails', async () => {
    const r = await executeAction(planned('webhook', { method: 'POST', url: `${url}/slow` }, { timeout: '200ms' }), { client: echoClient() });
    expect(r.status).to.equal('failed');
    expect(r.cause?.code).to.equal(ActionErrorCode.webhookNetwork);
    expect(r.cause?.message).to.match(/timed out after 200 ms$/);
  });
});
