import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { createClient, type DynamicClient, WatchDecodeError, type WatchEvent } from '../../src/client/index.js';
import { decodeWatch } from '../../src/client/watch-decoder.js';
import { FakeApiServer } from './fake-server.js';
import { until } from './helpers.js';

const CM = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'n' };
const line = (type: string, name: string) => `${JSON.stringify({ type, object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, resourceVersion: '1' } } })}\n`;

describe('DynamicClient watch', () => {
  let server: FakeApiServer;
  let client: DynamicClient;
  let open: ServerResponse[];

  beforeEach(async () => {
    server = await FakeApiServer.start();
    client = await createClient({ config: server.config(), qps: 0 });
    open = [];
  });
  afterEach(async () => {
    for (const r of open) r.destroy();
    await client.close();
    await server.close();
  });

  /** Answers watches with a chunked stream the test writes to. */
  function streaming(): void {
    server.on((r, res) => {
      if (!r.url.searchParams.get('watch')) return false;
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      open.push(res);
    });
  }

  it('sends the watch options in the query', async () => {
    server.on((r, res) => (r.url.searchParams.get('watch') ? (res.writeHead(200), res.end(), true) : false));
    for await (const _ of client.watch(CM, { resourceVersion: '42', allowWatchBookmarks: true, timeoutSeconds: 30, labelSelector: 'a=b', sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' })) break;
    const q = Object.fromEntries(server.calls()[0].url.searchParams);
    expect(q).to.deep.equal({ watch: '1', resourceVersion: '42', allowWatchBookmarks: 'true', timeoutSeconds: '30', labelSelector: 'a=b', sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan' });
  });

  it('yields events split across chunks in order, and ends when the server ends the stream', async () => {
    streaming();
    const events: WatchEvent[] = [];
    const done = (async () => {
      for await (const ev of client.watch(CM)) events.push(ev);
    })();
    await until(() => open.length === 1);
    const text = line('ADDED', 'a') + line('MODIFIED', 'a') + line('BOOKMARK', 'b') + line('DELETED', 'a');
    open[0].write(text.slice(0, 50));
    open[0].write(text.slice(50, 130));
    open[0].end(text.slice(130));
    await done;
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).to.deep.equal(['ADDED a', 'MODIFIED a', 'BOOKMARK b', 'DELETED a']);
  });

  it('turns a malformed line into a WatchDecodeError instead of skipping it', async () => {
    streaming();
    const events: string[] = [];
    const done = (async () => {
      for await (const ev of client.watch(CM)) events.push(ev.type);
    })().catch((e: unknown) => e);
    await until(() => open.length === 1);
    open[0].write(line('ADDED', 'a') + '{"type":"ADDED","object":{"data":"sec\n' + line('ADDED', 'b'));
    const err = (await done) as WatchDecodeError;
    expect(err).to.be.instanceOf(WatchDecodeError);
    expect(err.message).to.match(/^watch configmaps in namespace "n" on http:\/\/127\.0\.0\.1:\d+: malformed watch event: event 2 \(\d+ bytes\) is not JSON/);
    expect(err.message).not.to.include('sec');
    expect(events).to.deep.equal(['ADDED']);
  });

  it('rejects an event of an unknown type', async () => {
    streaming();
    const done = (async () => {
      for await (const _ of client.watch(CM));
    })().catch((e: unknown) => e);
    await until(() => open.length === 1);
    open[0].write('{"type":"CHANGED","object":{}}\n');
    expect(((await done) as Error).message).to.include('has type "CHANGED", not one of ADDED, MODIFIED, DELETED, BOOKMARK, ERROR');
  });

  it('ends quietly when its AbortSignal aborts, and closes the connection', async () => {
    streaming();
    const ac = new AbortController();
    const events: string[] = [];
    const done = (async () => {
      for await (const ev of client.watch(CM, { signal: ac.signal })) events.push(ev.type);
    })();
    await until(() => open.length === 1);
    open[0].write(line('ADDED', 'a'));
    await until(() => events.length === 1);
    expect(client.poolStats().watches.connected).to.equal(1);
    ac.abort();
    await done;
    await until(() => {
      const w = client.poolStats().watches;
      return w.connected === 0 && w.running === 0 && w.size === 0;
    }, 2000, 'the watch connection to close');
  });

  it('runs watches on their own pool, so ordinary requests still flow with many watches open', async () => {
    const c2 = await createClient({ config: server.config(), qps: 0, transport: { connections: 2 } });
    streaming();
    const ac = new AbortController();
    const watches = [1, 2, 3, 4].map(() => (async () => {
      for await (const _ of c2.watch(CM, { signal: ac.signal }));
    })());
    await until(() => open.length === 4);
    await c2.get({ ...CM, name: 'x' });
    expect(c2.poolStats().watches.connected).to.equal(4);
    expect(c2.poolStats().requests.connected).to.be.at.most(2);
    ac.abort();
    await Promise.all(watches);
    await c2.close();
  });
});

describe('decodeWatch', () => {
  const ctx = { verb: 'watch', resource: 'configmaps', server: 'https://example' };
  async function* chunks(bytes: Buffer, size: number): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < bytes.length; at += size) yield new Uint8Array(bytes.subarray(at, at + size));
  }

  it('keeps multi-byte characters whole however the lines are cut into chunks', async () => {
    const objects = ['ü🚀✓', 'plain', '日本語\\n'].map((name, i) => ({ type: 'ADDED', object: { metadata: { name, resourceVersion: String(i) } } }));
    const bytes = Buffer.from(`${objects.map((o) => JSON.stringify(o)).join('\n')}\n`, 'utf8');
    for (const size of [1, 2, 3, 5, 7, 64]) {
      const got: unknown[] = [];
      for await (const ev of decodeWatch(chunks(bytes, size), ctx)) got.push(ev);
      expect(got, `chunks of ${size}`).to.deep.equal(objects);
    }
  });

  it('decodes a last line that has no newline, and fails on a truncated one', async () => {
    const one = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } });
    const got: unknown[] = [];
    for await (const ev of decodeWatch(chunks(Buffer.from(one), 4), ctx)) got.push(ev);
    expect(got).to.have.length(1);
    const truncated = (async () => {
      for await (const _ of decodeWatch(chunks(Buffer.from(one.slice(0, 20)), 4), ctx)) void _;
    })();
    await truncated.then(
      () => expect.fail('a truncated line must fail'),
      (err: Error) => expect(err).to.be.instanceOf(WatchDecodeError),
    );
  });
});
