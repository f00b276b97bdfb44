/** Test helpers of the actions: a KubeClient that records every request (wrapping a real one), and a scripted one for request-shape unit tests. */
import { KubeApiError, type KubeClient } from '../../src/client/index.js';
import type { KubeObject } from '../../src/core/index.js';

export interface Call {
  verb: 'resolve' | 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deleteCollection';
  target?: unknown;
  body?: unknown;
  options?: Record<string, unknown>;
}

const WRITES = new Set(['create', 'update', 'patch', 'delete', 'deleteCollection']);

/** Wraps a KubeClient and records each request before passing it on. */
export class RecordingClient implements KubeClient {
  readonly calls: Call[] = [];
  constructor(private readonly inner: KubeClient) {}
  get server() {
    return this.inner.server;
  }
  get namespace() {
    return this.inner.namespace;
  }
  /** The write requests sent so far. */
  get writes(): Call[] {
    return this.calls.filter((c) => WRITES.has(c.verb));
  }
  private strip(o: object | undefined): Record<string, unknown> | undefined {
    if (!o) return undefined;
    const { signal: _signal, ...rest } = o as Record<string, unknown>;
    return rest;
  }
  resolve: KubeClient['resolve'] = (a, k, o) => (this.calls.push({ verb: 'resolve', target: { apiVersion: a, kind: k } }), this.inner.resolve(a, k, o));
  get: KubeClient['get'] = (t, o) => (this.calls.push({ verb: 'get', target: t, options: this.strip(o) }), this.inner.get(t, o));
  list: KubeClient['list'] = (t, o) => (this.calls.push({ verb: 'list', target: t, options: this.strip(o) }), this.inner.list(t, o));
  watch: KubeClient['watch'] = (t, o) => (this.calls.push({ verb: 'watch', target: t, options: this.strip(o) }), this.inner.watch(t, o));
  create: KubeClient['create'] = (b, o) => (this.calls.push({ verb: 'create', body: b, options: this.strip(o) }), this.inner.create(b, o));
  update: KubeClient['update'] = (b, o) => (this.calls.push({ verb: 'update', body: b, options: this.strip(o) }), this.inner.update(b, o));
  patch: KubeClient['patch'] = (t, b, o) => (this.calls.push({ verb: 'patch', target: t, body: b, options: this.strip(o) }), this.inner.patch(t, b, o));
  delete: KubeClient['delete'] = (t, o) => (this.calls.push({ verb: 'delete', target: t, options: this.strip(o) }), this.inner.delete(t, o));
  deleteCollection: KubeClient['deleteCollection'] = (t, o) => (this.calls.push({ verb: 'deleteCollection', target: t, options: this.strip(o) }), this.inner.deleteCollection(t, o));
  onWarning: KubeClient['onWarning'] = (l) => this.inner.onWarning(l);
  close = () => this.inner.close();
}

/** An API error as the client would raise it. */
export const apiError = (status: number, reason: string, message = reason) =>
  new KubeApiError({ verb: 'test', resource: 'object', server: 'https://test' }, status, { kind: 'Status', status: 'Failure', reason, code: status, message });

type Handler = (verb: Call['verb'], args: unknown[]) => unknown;

/** A client whose every answer comes from `handler` (throw to answer with an error); for request-shape unit tests only. */
export function scriptedClient(handler: Handler): RecordingClient {
  const h = async (verb: Call['verb'], ...args: unknown[]) => handler(verb, args);
  const inner = {
    server: 'https://test',
    namespace: 'default',
    resolve: (...a: unknown[]) => h('resolve', ...a),
    get: (...a: unknown[]) => h('get', ...a),
    list: (...a: unknown[]) => h('list', ...a),
    watch: () => {
      throw new Error('watch is not scripted');
    },
    create: (...a: unknown[]) => h('create', ...a),
    update: (...a: unknown[]) => h('update', ...a),
    patch: (...a: unknown[]) => h('patch', ...a),
    delete: (...a: unknown[]) => h('delete', ...a),
    deleteCollection: (...a: unknown[]) => h('deleteCollection', ...a),
    onWarning: () => () => undefined,
    close: async () => undefined,
  } as unknown as KubeClient;
  return new RecordingClient(inner);
}

/** Echoes writes back with a resourceVersion, answers gets from `objects`. */
export function echoClient(objects: KubeObject[] = []): RecordingClient {
  return scriptedClient((verb, args) => {
    if (verb === 'get') {
      const t = args[0] as { name: string };
      const found = objects.find((o) => o.metadata?.name === t.name);
      if (!found) throw apiError(404, 'NotFound');
      return structuredClone(found);
    }
    if (verb === 'create' || verb === 'update') return { ...(args[0] as object), metadata: { ...(args[0] as KubeObject).metadata, resourceVersion: '2' } };
    if (verb === 'patch') return { ...(args[1] as object), metadata: { resourceVersion: '2' } };
    return { kind: 'Status', status: 'Success' };
  });
}
