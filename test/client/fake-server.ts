/**
 * FakeApiServer: a plain HTTP server for unit tests of request shapes. It records
 * every request and answers from per-test handlers; discovery of ConfigMaps,
 * Deployments and a Widget CRD is built in.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectionConfig } from '../../src/client/index.js';

export interface Recorded {
  method: string;
  path: string;
  url: URL;
  headers: IncomingMessage['headers'];
  /** Every header with each of its lines. */
  distinct: IncomingMessage['headersDistinct'];
  body: string;
}

export type Handler = (req: Recorded, res: ServerResponse) => boolean | void | Promise<boolean | void>;

const resource = (resource: string, kind: string, scope: 'Namespaced' | 'Cluster', subresources: string[] = [], shortNames: string[] = []) => ({
  resource,
  responseKind: { group: '', version: '', kind },
  scope,
  singularResource: kind.toLowerCase(),
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  shortNames,
  subresources: subresources.map((s) => ({ subresource: s, verbs: ['get', 'patch', 'update'] })),
});

export const CORE_DISCOVERY = {
  kind: 'APIGroupDiscoveryList',
  apiVersion: 'apidiscovery.k8s.io/v2',
  items: [{ metadata: { name: '' }, versions: [{ version: 'v1', resources: [resource('configmaps', 'ConfigMap', 'Namespaced', [], ['cm']), resource('namespaces', 'Namespace', 'Cluster', ['status'], ['ns'])] }] }],
};

export function groupsDiscovery(extra: { group: string; version: string; res: ReturnType<typeof resource> }[] = []) {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    items: [
      { metadata: { name: 'apps' }, versions: [{ version: 'v1', resources: [resource('deployments', 'Deployment', 'Namespaced', ['status', 'scale'], ['deploy'])] }] },
      ...extra.map((e) => ({ metadata: { name: e.group }, versions: [{ version: e.version, resources: [e.res] }] })),
    ],
  };
}

export { resource as discoveryResource };

export class FakeApiServer {
  readonly requests: Recorded[] = [];
  private handlers: Handler[] = [];
  private server!: Server;
  url = '';
  /** Discovery answers; tests may replace them. */
  discovery: { core: unknown; groups: unknown } = { core: CORE_DISCOVERY, groups: groupsDiscovery() };

  static async start(): Promise<FakeApiServer> {
    const f = new FakeApiServer();
    f.server = createServer((req, res) => void f.handle(req, res));
    await new Promise<void>((r) => f.server.listen(0, '127.0.0.1', () => r()));
    f.url = `http://127.0.0.1:${(f.server.address() as AddressInfo).port}`;
    return f;
  }

  /** Adds a handler; the newest handler that returns non-false answers. */
  on(handler: Handler): void {
    this.handlers.unshift(handler);
  }

  /** Requests other than discovery. */
  calls(): Recorded[] {
    return this.requests.filter((r) => r.path !== '/api' && r.path !== '/apis');
  }

  config(overrides: Partial<ConnectionConfig> = {}): ConnectionConfig {
    return {
      source: 'kubeconfig',
      server: this.url,
      namespace: 'default',
      files: [],
      tls: { caSource: 'test CA', insecureSkipTLSVerify: false },
      auth: { type: 'token', token: 'secret-token' },
      ...overrides,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const c of req) body += (c as Buffer).toString();
    const url = new URL(req.url ?? '/', this.url);
    const rec: Recorded = { method: req.method ?? '', path: url.pathname, url, headers: req.headers, distinct: req.headersDistinct, body };
    this.requests.push(rec);
    for (const h of this.handlers) if ((await h(rec, res)) !== false) return;
    if (url.pathname === '/api' || url.pathname === '/apis') {
      return json(res, 200, url.pathname === '/api' ? this.discovery.core : this.discovery.groups, 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
    }
    json(res, 200, { kind: 'Echo', apiVersion: 'v1', metadata: { name: 'echo' } });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

export function json(res: ServerResponse, status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, ...headers });
  res.end(JSON.stringify(body));
}

export function status(code: number, reason: string, message: string): unknown {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}
