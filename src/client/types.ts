/**
 * The public contract of src/client: what informers, actions, the daemon and the
 * CLI may rely on. Implementations live beside it.
 */
import type { GroupVersionKind, GroupVersionResource, KubeList, KubeObject } from '../core/index.js';
import type { Impersonation } from './config.js';

/** A resource addressed by apiVersion + kind (resolved through discovery), optionally in one namespace. */
export interface ResourceTarget {
  apiVersion: string;
  kind: string;
  /** Namespace for namespaced kinds; omit (or '') for all namespaces on list/watch, and for cluster-scoped kinds. */
  namespace?: string;
}

/** One object: a ResourceTarget plus its name. */
export interface ObjectTarget extends ResourceTarget {
  name: string;
}

/** What discovery knows about one resource. */
export interface ResourceInfo {
  gvk: GroupVersionKind;
  gvr: GroupVersionResource;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  /** Subresources the server offers, e.g. `status`, `scale`. */
  subresources: string[];
}

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the request (and frees its connection). */
  signal?: AbortSignal;
}

export interface ListOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size; with `continue` for the next page. */
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  /** Ask for PartialObjectMetadata (metadata only). */
  metadataOnly?: boolean;
  /**
   * Called once with the list's metadata (`continue`, `resourceVersion`), as soon as it has
   * arrived: the API server writes it before the items, so a pager can ask for the next page
   * while this one is still being read. When the metadata comes after the items, it is
   * called once the whole answer is in.
   */
  onMetadata?: (metadata: KubeList['metadata']) => void;
  /**
   * Applied to each item as soon as it is decoded (apiVersion and kind filled in), before
   * the rest of the list has arrived; the list holds what it returns. An informer drops
   * what it does not cache here, so a large list is never held whole. What it throws
   * fails the list.
   */
  onItem?: (item: KubeObject) => KubeObject;
  /**
   * Objects come without `metadata.managedFields`: their bytes are cut out before decoding, which
   * saves most of it for callers that drop them anyway (see managed-fields.ts). Default false.
   */
  dropManagedFields?: boolean;
}

export interface WatchOptions extends CallOptions {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  allowWatchBookmarks?: boolean;
  /** Server-side timeout of the watch, seconds. */
  timeoutSeconds?: number;
  /** Streaming list (WatchList): initial state as ADDED events, then a BOOKMARK with the initial-events-end annotation. */
  sendInitialEvents?: boolean;
  metadataOnly?: boolean;
  /**
   * Objects come without `metadata.managedFields`: their bytes are cut out before decoding, which
   * saves most of it for callers that drop them anyway (see managed-fields.ts). Default false.
   */
  dropManagedFields?: boolean;
}

/** Options of every write. */
export interface WriteOptions extends CallOptions {
  /** Send with dryRun=All: the server validates and answers but persists nothing. */
  dryRun?: boolean;
  fieldManager?: string;
  /** Write to a subresource, e.g. `status`. */
  subresource?: string;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  /** Default `merge`. `apply` is server-side apply and requires `fieldManager`. */
  type?: PatchType;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteCollectionOptions extends DeleteOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

/** Watch event types, in the API server's own words. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One event of a watch stream. For ERROR, `object` is the Status the server sent. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** A server `Warning` header (deprecations, ignored fields…). */
export interface ServerWarning {
  code: number;
  agent: string;
  text: string;
}

/**
 * KubeClient: REST verbs for any resource the server serves, CRDs included.
 * Every method rejects with a KubeApiError (the server answered with an error
 * Status) or a KubeNetworkError (no answer), both naming the verb, resource and server.
 */
export interface KubeClient {
  /** The server URL, e.g. https://127.0.0.1:6443. */
  readonly server: string;
  /** The default namespace of the configuration (kubeconfig context or in-cluster namespace file). */
  readonly namespace: string;

  /** Resolves apiVersion + kind through discovery; an unknown kind refreshes discovery (rate-limited) once. */
  resolve(apiVersion: string, kind: string, options?: CallOptions): Promise<ResourceInfo>;

  get<T extends KubeObject = KubeObject>(target: ObjectTarget, options?: CallOptions & { subresource?: string }): Promise<T>;
  list<T extends KubeObject = KubeObject>(target: ResourceTarget, options?: ListOptions): Promise<KubeList<T>>;
  /** Watches until the server ends the stream, the signal aborts (the iterable then just ends), or an error. */
  watch<T extends KubeObject = KubeObject>(target: ResourceTarget, options?: WatchOptions): AsyncIterable<WatchEvent<T>>;
  /** POST; the target comes from the object's apiVersion, kind and metadata.namespace. */
  create<T extends KubeObject = KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** PUT; a stale metadata.resourceVersion rejects with a Conflict. */
  update<T extends KubeObject = KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** PATCH; for `apply` the body is the object to apply (an object, serialized as JSON). */
  patch<T extends KubeObject = KubeObject>(target: ObjectTarget, patch: unknown, options?: PatchOptions): Promise<T>;
  /** DELETE; resolves to what the server returned (the object, or a Status). */
  delete(target: ObjectTarget, options?: DeleteOptions): Promise<KubeObject>;
  deleteCollection(target: ResourceTarget, options?: DeleteCollectionOptions): Promise<KubeObject>;

  /** Subscribes to server warnings; returns the unsubscribe function. */
  onWarning(listener: (warning: ServerWarning) => void): () => void;
  /** Closes the connection pools. */
  close(): Promise<void>;
  /**
   * A client sending every request as `identity` (Impersonate-* headers), sharing this one's
   * connections, limiter and discovery. Optional: a caller that needs it must refuse to write
   * without it rather than write as itself.
   */
  impersonate?(identity: Impersonation): KubeClient;
}
