/** ListerWatcher: the two calls an informer makes, bound to one resource and selector. */
import type { KubeList, KubeObject } from '../core/index.js';
import type { KubeClient, WatchEvent } from '../client/index.js';

export interface ListPageOptions {
  limit?: number;
  continue?: string;
  /** "0": any cached state will do (the API server's watch cache); omitted: the latest state. */
  resourceVersion?: string;
  signal?: AbortSignal;
  /** Called once with the page's metadata as soon as it is known (see the client's `ListOptions.onMetadata`). */
  onMetadata?: (metadata: KubeList['metadata']) => void;
  /** Applied to each item as it is decoded (see the client's `ListOptions.onItem`). */
  onItem?: (item: KubeObject) => KubeObject;
  /** Items come without metadata.managedFields (see the client's `ListOptions.dropManagedFields`). */
  dropManagedFields?: boolean;
}

export interface WatchFromOptions {
  /** Where the watch starts; with `sendInitialEvents`, "" is the latest state and "0" any cached state. */
  resourceVersion: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds: number;
  /**
   * A streaming list (WatchList): the state at `resourceVersion` as ADDED events, then a BOOKMARK
   * annotated `k8s.io/initial-events-end`, then the changes. Sent with `resourceVersionMatch=NotOlderThan`.
   */
  sendInitialEvents?: boolean;
  /** Objects come without metadata.managedFields (see the client's `WatchOptions.dropManagedFields`). */
  dropManagedFields?: boolean;
  signal?: AbortSignal;
}

/** ListerWatcher lists and watches one resource (client-go's `cache.ListerWatcher`). */
export interface ListerWatcher<T extends KubeObject = KubeObject> {
  /** Human name for logs and errors, e.g. `v1 ConfigMap in ns1 (app=web)`. */
  readonly description: string;
  /** The apiVersion and kind of listed items (list items omit them). */
  readonly apiVersion: string;
  readonly kind: string;
  /** One page of a list: the latest state, or with resourceVersion "0" whatever the server has cached. */
  list(options: ListPageOptions): Promise<KubeList<T>>;
  /** Watches from `resourceVersion`; the stream ends when the server closes it or the signal aborts. */
  watch(options: WatchFromOptions): AsyncIterable<WatchEvent<T>>;
}

/** What one informer watches: the sharing key of the factory. */
export interface InformerTarget {
  apiVersion: string;
  kind: string;
  /** One namespace; omit or '' for all namespaces (and for cluster-scoped kinds). */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Cache PartialObjectMetadata (metadata only) instead of whole objects. Default false. */
  metadataOnly?: boolean;
  /** Keep `metadata.managedFields` in the cache (for rules that read them). Default false: they are dropped. */
  keepManagedFields?: boolean;
  /**
   * Cache only these paths (field names) of each object, besides apiVersion, kind and metadata
   * (see projection.ts). Default: whole objects.
   */
  keep?: readonly (readonly string[])[];
}

/** Describes a target for logs: `v1 ConfigMap in ns (app=web)`. */
export function describeTarget(t: InformerTarget): string {
  const where = t.namespace ? ` in ${t.namespace}` : '';
  const sel = [t.labelSelector, t.fieldSelector].filter(Boolean).join('; ');
  return `${t.apiVersion} ${t.kind}${t.metadataOnly ? ' (metadata)' : ''}${where}${sel ? ` (${sel})` : ''}`;
}

/** A ListerWatcher over a KubeClient for `target`. */
export function listWatcherFor<T extends KubeObject = KubeObject>(client: KubeClient, target: InformerTarget): ListerWatcher<T> {
  const resource = { apiVersion: target.apiVersion, kind: target.kind, namespace: target.namespace || undefined };
  const selectors = {
    labelSelector: target.labelSelector || undefined,
    fieldSelector: target.fieldSelector || undefined,
    metadataOnly: target.metadataOnly || undefined,
  };
  return {
    description: describeTarget(target),
    apiVersion: target.apiVersion,
    kind: target.kind,
    list: (o) => client.list<T>(resource, { ...selectors, limit: o.limit, continue: o.continue, resourceVersion: o.resourceVersion, signal: o.signal, onMetadata: o.onMetadata, onItem: o.onItem, dropManagedFields: o.dropManagedFields }),
    watch: (o) =>
      client.watch<T>(resource, {
        ...selectors,
        resourceVersion: o.resourceVersion,
        allowWatchBookmarks: o.allowWatchBookmarks,
        timeoutSeconds: o.timeoutSeconds,
        dropManagedFields: o.dropManagedFields,
        ...(o.sendInitialEvents ? { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' as const } : {}),
        signal: o.signal,
      }),
  };
}
