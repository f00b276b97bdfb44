/** DynamicClient: the KubeClient for any resource the server serves, resolved through discovery. */
import { type Clock, type KubeList, type KubeObject, type Logger, parseApiVersion, ReflexError } from '../core/index.js';
import type { ConnectionConfig, Impersonation } from './config.js';
import type { Discovery } from './discovery.js';
import { ListDecoder } from './list-decoder.js';
import { isProtobuf, loadProtoTypes, PROTO_OR_JSON_ACCEPT, ProtoListDecoder, type ProtoTypes } from './proto/index.js';
import { describeResource, guessResource, resourcePath } from './paths.js';
import type { BodyDecoder, Requester, RequestSpec } from './request.js';
import type { PoolStatsSnapshot, Transport } from './transport.js';
import type * as T from './types.js';
import { decodeWatch } from './watch-decoder.js';
import type { WarningHandler } from './warnings.js';

export const PARTIAL_METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
export const PARTIAL_METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

const PATCH_CONTENT_TYPES: Record<T.PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface ClientParts {
  config: ConnectionConfig;
  requester: Requester;
  discovery: Discovery;
  transport: Transport;
  warnings: WarningHandler;
  clock: Clock;
  logger: Logger;
  /** Ask for lists of built-in kinds in protobuf (see ClientOptions.protobuf). */
  protobuf: boolean;
  /** Lists answered in each encoding (shared by impersonating clients). */
  listEncodings: ListEncodings;
}

/** How many list answers came in protobuf and in JSON. */
export interface ListEncodings {
  protobuf: number;
  json: number;
}

const writeQuery = (o: T.WriteOptions = {}) => ({ dryRun: o.dryRun ? 'All' : undefined, fieldManager: o.fieldManager });

/** The KubeClient, plus its configuration, discovery and pool statistics. */
export class DynamicClient implements T.KubeClient {
  /** `as`: every request of this client is sent as that identity (see `impersonate`). */
  constructor(
    private readonly p: ClientParts,
    private readonly as?: Impersonation,
  ) {}

  /**
   * A client that sends every request as `identity` (Impersonate-User, -Group, -Uid, -Extra
   * headers, in place of the configuration's own impersonation). It shares this client's
   * connection pools, rate limiter, discovery and warnings; closing it closes nothing.
   */
  impersonate(identity: Impersonation): DynamicClient {
    return new DynamicClient(this.p, identity);
  }

  /** The identity this client impersonates, if any. */
  get impersonating(): Impersonation | undefined {
    return this.as;
  }

  get server(): string {
    return this.p.config.server;
  }
  get namespace(): string {
    return this.p.config.namespace;
  }
  /** The resolved configuration (holds credentials: never log it). */
  get config(): ConnectionConfig {
    return this.p.config;
  }
  get discovery(): Discovery {
    return this.p.discovery;
  }
  /** How many list answers came in protobuf and how many in JSON, since the client was made. */
  listEncodings(): ListEncodings {
    return { ...this.p.listEncodings };
  }

  /** Connection counts of the ordinary-request and the watch pools. */
  poolStats(): { requests: PoolStatsSnapshot; watches: PoolStatsSnapshot } {
    return this.p.transport.poolStats();
  }

  resolve(apiVersion: string, kind: string, options: T.CallOptions = {}): Promise<T.ResourceInfo> {
    return this.p.discovery.resolve(apiVersion, kind, options.signal);
  }

  /** The protobuf table when it can decode `apiVersion`'s `listKind` (loaded on first use). */
  private async protoFor(apiVersion: string, listKind: string): Promise<ProtoTypes | undefined> {
    const types = await loadProtoTypes();
    return types.kind(apiVersion, listKind) ? types : undefined;
  }

  private async target(t: T.ResourceTarget, signal: AbortSignal | undefined, objectLevel: boolean) {
    if (!t.apiVersion || !t.kind) throw new ReflexError('a request needs apiVersion and kind', { code: 'ERR_KUBE_TARGET' });
    const info = await this.resolve(t.apiVersion, t.kind, { signal });
    const ns = info.namespaced ? t.namespace || (objectLevel ? this.namespace : undefined) : undefined;
    return { info, ns };
  }

  private call<R>(spec: Omit<RequestSpec, 'resource'> & { resource: string }): Promise<R> {
    return this.p.requester.json<R>({ ...spec, impersonate: this.as });
  }

  async get<R extends KubeObject = KubeObject>(t: T.ObjectTarget, o: T.CallOptions & { subresource?: string } = {}): Promise<R> {
    const { info, ns } = await this.target(t, o.signal, true);
    return this.call<R>({ verb: 'get', resource: describeResource(info, ns, t.name, o.subresource), method: 'GET', path: resourcePath(info, ns, t.name, o.subresource), signal: o.signal });
  }

  async list<R extends KubeObject = KubeObject>(t: T.ResourceTarget, o: T.ListOptions = {}): Promise<KubeList<R>> {
    // A client's first list of a built-in kind need not wait for discovery: see listBeforeDiscovery.
    if (!this.p.discovery.loaded && this.p.protobuf && !o.metadataOnly && (await this.protoFor(t.apiVersion, `${t.kind}List`))) {
      return this.listBeforeDiscovery<R>(t, o);
    }
    const { info, ns } = await this.target(t, o.signal, false);
    return this.listAt<R>(info, ns, t, o);
  }

  /**
   * A list sent at once to where a built-in kind is served (guessResource), while discovery
   * loads: typed clients know their paths, and this spares a new client's first list the wait
   * for discovery. Its answer is used only if discovery then gives the same path, and only after
   * it has (nothing of it is decoded before); otherwise it is dropped and the list sent again to
   * the path discovery gives. An error of a confirmed request is the list's error.
   */
  private async listBeforeDiscovery<R extends KubeObject>(t: T.ResourceTarget, o: T.ListOptions): Promise<KubeList<R>> {
    const ns = t.namespace || undefined;
    const guess = guessResource(t.apiVersion, t.kind, ns !== undefined);
    const resolving = this.resolve(t.apiVersion, t.kind, { signal: o.signal });
    const confirmed = resolving.then(
      (info) => resourcePath(info, info.namespaced ? ns : undefined) === resourcePath(guess, ns),
      () => false,
    );
    const miss = new Error('the guessed path was not the one discovery gives');
    try {
      return await this.listAt<R>(guess, ns, t, o, async () => {
        if (!(await confirmed)) throw miss;
      });
    } catch (err) {
      if (err !== miss && (o.signal?.aborted || (await confirmed))) throw err;
    }
    const info = await resolving;
    return this.listAt<R>(info, info.namespaced ? ns : undefined, t, o);
  }

  private async listAt<R extends KubeObject>(info: T.ResourceInfo, ns: string | undefined, t: T.ResourceTarget, o: T.ListOptions, confirm?: () => Promise<void>): Promise<KubeList<R>> {
    // Items of a list carry no apiVersion/kind on the wire; fill them in as client-go's unstructured decoder does.
    const apiVersion = o.metadataOnly ? 'meta.k8s.io/v1' : t.apiVersion;
    const kind = o.metadataOnly ? 'PartialObjectMetadata' : info.gvk.kind;
    const onItem = o.onItem;
    const fill = (item: R): R => {
      item.apiVersion ??= apiVersion;
      item.kind ??= kind;
      return onItem ? (onItem(item) as R) : item;
    };
    // Built-in kinds may come in protobuf, which the API server encodes faster than JSON.
    const proto = !o.metadataOnly && this.p.protobuf ? await this.protoFor(t.apiVersion, `${info.gvk.kind}List`) : undefined;
    // Items are decoded one by one as they stream in: a large list is never held as one text.
    const options = { dropManagedFields: o.dropManagedFields };
    const decoder = new ListBody<R>(
      this.p.listEncodings,
      () => new ListDecoder<R>(o.onMetadata, fill, options),
      proto && (() => new ProtoListDecoder<R>(proto, o.onMetadata, fill, options)),
    );
    const list = await this.p.requester.json<KubeList<R>>({
      verb: 'list',
      resource: describeResource(info, ns),
      method: 'GET',
      path: resourcePath(info, ns),
      accept: o.metadataOnly ? PARTIAL_METADATA_LIST_ACCEPT : proto ? PROTO_OR_JSON_ACCEPT : undefined,
      query: {
        labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, limit: o.limit, continue: o.continue,
        resourceVersion: o.resourceVersion, resourceVersionMatch: o.resourceVersionMatch,
      },
      signal: o.signal,
      impersonate: this.as,
      confirm,
    }, decoder);
    list.items ??= [];
    return list;
  }

  async *watch<R extends KubeObject = KubeObject>(t: T.ResourceTarget, o: T.WatchOptions = {}): AsyncIterable<T.WatchEvent<R>> {
    if (o.signal?.aborted) return;
    const { info, ns } = await this.target(t, o.signal, false);
    const spec: RequestSpec = {
      verb: 'watch',
      resource: describeResource(info, ns),
      method: 'GET',
      path: resourcePath(info, ns),
      accept: o.metadataOnly ? PARTIAL_METADATA_ACCEPT : undefined,
      query: {
        watch: 1, labelSelector: o.labelSelector, fieldSelector: o.fieldSelector, resourceVersion: o.resourceVersion,
        resourceVersionMatch: o.resourceVersionMatch, allowWatchBookmarks: o.allowWatchBookmarks || undefined,
        timeoutSeconds: o.timeoutSeconds, sendInitialEvents: o.sendInitialEvents,
      },
      impersonate: this.as,
    };
    const ctx = this.p.requester.ctx(spec);
    // Silent streams are the informers' watchdog's to find (src/informers/watchdog.ts): the client sets no idle limit.
    let res: Awaited<ReturnType<Requester['open']>> | undefined;
    try {
      try {
        res = await this.p.requester.open({ ...spec, signal: o.signal });
      } catch (err) {
        if (o.signal?.aborted) return;
        throw err;
      }
      try {
        for await (const ev of decodeWatch(res.body, ctx, { dropManagedFields: o.dropManagedFields })) yield ev as T.WatchEvent<R>;
      } catch (err) {
        if (o.signal?.aborted) return;
        throw this.p.requester.networkError(err, ctx, undefined);
      }
    } finally {
      res?.destroy();
    }
  }

  async create<R extends KubeObject = KubeObject>(object: R, o: T.WriteOptions = {}): Promise<R> {
    const { info, ns } = await this.target(this.of(object), o.signal, true);
    const path = o.subresource ? resourcePath(info, ns, object.metadata?.name, o.subresource) : resourcePath(info, ns);
    const name = object.metadata?.name ?? object.metadata?.generateName;
    return this.call<R>({ verb: 'create', resource: describeResource(info, ns, name, o.subresource), method: 'POST', path, body: object, query: writeQuery(o), signal: o.signal });
  }

  async update<R extends KubeObject = KubeObject>(object: R, o: T.WriteOptions = {}): Promise<R> {
    const t = this.of(object);
    const { info, ns } = await this.target(t, o.signal, true);
    const name = object.metadata?.name ?? '';
    return this.call<R>({ verb: 'update', resource: describeResource(info, ns, name, o.subresource), method: 'PUT', path: resourcePath(info, ns, name, o.subresource), body: object, query: writeQuery(o), signal: o.signal });
  }

  async patch<R extends KubeObject = KubeObject>(t: T.ObjectTarget, patch: unknown, o: T.PatchOptions = {}): Promise<R> {
    const type = o.type ?? 'merge';
    if (type === 'apply' && !o.fieldManager) throw new ReflexError('server-side apply needs a fieldManager', { code: 'ERR_KUBE_TARGET' });
    if (o.force && type !== 'apply') throw new ReflexError('force applies only to server-side apply (type: apply)', { code: 'ERR_KUBE_TARGET' });
    const { info, ns } = await this.target(t, o.signal, true);
    return this.call<R>({
      verb: 'patch',
      resource: describeResource(info, ns, t.name, o.subresource),
      method: 'PATCH',
      path: resourcePath(info, ns, t.name, o.subresource),
      contentType: PATCH_CONTENT_TYPES[type],
      body: patch,
      query: { ...writeQuery(o), force: type === 'apply' && o.force ? true : undefined },
      signal: o.signal,
    });
  }

  async delete(t: T.ObjectTarget, o: T.DeleteOptions = {}): Promise<KubeObject> {
    const { info, ns } = await this.target(t, o.signal, true);
    return this.call({ verb: 'delete', resource: describeResource(info, ns, t.name), method: 'DELETE', path: resourcePath(info, ns, t.name), body: deleteBody(o), query: writeQuery(o), signal: o.signal });
  }

  async deleteCollection(t: T.ResourceTarget, o: T.DeleteCollectionOptions = {}): Promise<KubeObject> {
    const { info, ns } = await this.target(t, o.signal, true);
    return this.call({
      verb: 'deletecollection',
      resource: describeResource(info, ns),
      method: 'DELETE',
      path: resourcePath(info, ns),
      body: deleteBody(o),
      query: { ...writeQuery(o), labelSelector: o.labelSelector, fieldSelector: o.fieldSelector },
      signal: o.signal,
    });
  }

  onWarning(listener: (warning: T.ServerWarning) => void): () => void {
    return this.p.warnings.on(listener);
  }

  async close(): Promise<void> {
    if (this.as) return; // the pools belong to the client it came from
    await this.p.transport.close();
  }

  private of(object: KubeObject): T.ResourceTarget {
    if (!object.apiVersion || !object.kind) throw new ReflexError('the object needs apiVersion and kind', { code: 'ERR_KUBE_TARGET' });
    parseApiVersion(object.apiVersion);
    return { apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata?.namespace };
  }
}

/** The DeleteOptions body of a delete or deletecollection. */
function deleteBody(o: T.DeleteOptions): KubeObject | undefined {
  const body: KubeObject = { apiVersion: 'v1', kind: 'DeleteOptions' };
  if (o.propagationPolicy) body.propagationPolicy = o.propagationPolicy;
  if (o.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = o.gracePeriodSeconds;
  if (o.preconditions) body.preconditions = o.preconditions;
  if (o.dryRun) body.dryRun = ['All'];
  return Object.keys(body).length > 2 ? body : undefined;
}

/** A list's answer in the encoding the server chose: protobuf when it was offered and sent, else JSON. */
class ListBody<R extends KubeObject> implements BodyDecoder<KubeList<R>> {
  private d?: BodyDecoder<KubeList<R>>;

  constructor(
    private readonly counts: ListEncodings,
    private readonly json: () => BodyDecoder<KubeList<R>>,
    private readonly proto?: () => BodyDecoder<KubeList<R>>,
  ) {}

  start(contentType: string | undefined): void {
    const proto = this.proto !== undefined && isProtobuf(contentType);
    this.d = proto ? this.proto!() : this.json();
    this.counts[proto ? 'protobuf' : 'json']++;
  }

  write(chunk: Uint8Array): void {
    (this.d ??= this.json()).write(chunk);
  }

  end(): KubeList<R> {
    return (this.d ??= this.json()).end();
  }
}
