import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Undici from 'undici';
import { Agent, dispatch, proxyAgent, requestUrl, socks5ProxyAgent } from '../../src/client/undici.js';
import { FakeApiServer, json } from './fake-server.js';

const require = createRequire(import.meta.url);

describe('undici, loaded by parts', () => {
  it('each part is what the package entry exports', () => {
    const entry = require('undici') as typeof Undici;
    expect(Agent).to.equal(entry.Agent);
    expect(proxyAgent()).to.equal(entry.ProxyAgent);
    expect(socks5ProxyAgent()).to.equal(entry.Socks5ProxyAgent);
    // The entry adds `request` to every dispatcher's prototype; `dispatch` calls that same function.
    expect((Agent.prototype as unknown as { request: unknown }).request).to.equal(require('undici/lib/api/api-request.js'));
  });

  it('the client and the daemon load none of undici besides those parts', () => {
    // In a fresh process: which of undici's files did importing the CLI (and with it the daemon and the client) load?
    const modules = ['../../src/cli/main.js', '../../src/daemon/index.js'].map((m) => fileURLToPath(new URL(m, import.meta.url)));
    const script = `Promise.all(${JSON.stringify(modules)}.map((m) => import(m))).then(() => {
      const loaded = Object.keys(require('node:module')._cache).filter((k) => k.includes('/node_modules/undici/'));
      process.stdout.write(JSON.stringify(loaded));
    })`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
    const rel = loaded.map((k) => k.slice(k.indexOf('/node_modules/undici/') + '/node_modules/undici/'.length));
    expect(rel).to.include('lib/dispatcher/agent.js');
    expect(rel).to.include('lib/api/api-request.js');
    expect(rel).not.to.include('index.js');
    expect(rel.filter((f) => /^lib\/(web|mock|cache)\//.test(f) || f.includes('proxy-agent'))).to.deep.equal([]);
  });

  it('requests go through a dispatcher, and by URL through the shared agent', async () => {
    const server = await FakeApiServer.start();
    try {
      server.on((req, res) => (req.path === '/hello' ? json(res, 200, { ok: true }) : false));
      const agent = new Agent();
      const res = await dispatch(agent, { origin: server.url, path: '/hello', method: 'GET' });
      expect(res.statusCode).to.equal(200);
      expect(await res.body.json()).to.deep.equal({ ok: true });
      await agent.close();
      const byUrl = await requestUrl(`${server.url}/hello?x=1`, { method: 'GET' });
      expect(byUrl.statusCode).to.equal(200);
      await byUrl.body.dump();
      expect(server.requests.map((r) => `${r.url.pathname}${r.url.search}`)).to.deep.equal(['/hello', '/hello?x=1']);
    } finally {
      await server.close();
    }
  });
});
