import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { createClient } from '../../src/client/index.js';
import { FakeApiServer } from './fake-server.js';

describe('proxy-url', () => {
  let server: FakeApiServer;
  let proxy: Server;
  const tunnels: string[] = [];

  beforeEach(async () => {
    server = await FakeApiServer.start();
    proxy = createServer();
    proxy.on('connect', (req, socket, head) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = connect(Number(port), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  });
  afterEach(async () => {
    proxy.closeAllConnections();
    await new Promise<void>((r) => proxy.close(() => r()));
    await server.close();
  });

  it('sends requests through the cluster\'s HTTP proxy', async () => {
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const client = await createClient({ config: server.config({ proxyUrl }), qps: 0 });
    await client.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'n', name: 'a' });
    await client.close();
    expect(tunnels.length).to.be.greaterThan(0);
    expect(tunnels.every((t) => t === new URL(server.url).host)).to.equal(true);
    expect(server.calls().map((r) => r.path)).to.deep.equal(['/api/v1/namespaces/n/configmaps/a']);
  });
});
