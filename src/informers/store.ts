/** Store: the informer cache, split into a read-only `Store` and the single `Writer` that fills it. */
import { objectKey, type KubeObject } from '../core/index.js';

/** An index function: the values under which an object is filed (none to leave it out). */
export type IndexFunc<T extends KubeObject = KubeObject> = (obj: Readonly<T>) => string[];

/** Transforms an object before it is stored (and before handlers see it). Must not mutate its input. */
export type Transform<T extends KubeObject = KubeObject> = (obj: T) => T;

/** The name of the built-in index of objects by namespace (cluster-scoped objects file under ''). */
export const NAMESPACE_INDEX = 'namespace';

/**
 * Store: read access to a cache. Objects handed out are shared with every other
 * reader and must not be mutated. Reads never block.
 */
export interface Store<T extends KubeObject = KubeObject> {
  /** The object with key `namespace/name` (or `name` when cluster-scoped). */
  get(key: string): Readonly<T> | undefined;
  /** Every object, in no particular order. */
  list(): Readonly<T>[];
  keys(): string[];
  /** Objects filed under `value` in index `indexName` (`namespace` is built in); throws on an unknown index. */
  byIndex(indexName: string, value: string): Readonly<T>[];
  readonly size: number;
  /** The resourceVersion the cache reflects, as of the last list or watch event ('' before the first list). */
  readonly resourceVersion: string;
}

/** A change the writer made, in the vocabulary handlers receive. */
export type StoreChange<T extends KubeObject = KubeObject> =
  | { type: 'add'; object: Readonly<T>; isInitialList: boolean }
  | { type: 'update'; old: Readonly<T>; object: Readonly<T> }
  | { type: 'delete'; object: Readonly<T> };

/** Writer: the one owner allowed to change a store. Each method returns what changed. */
export interface Writer<T extends KubeObject = KubeObject> {
  /** Adds or replaces one object; no change when the stored copy has the same resourceVersion. */
  apply(obj: T): StoreChange<T> | undefined;
  /** Removes one object; the change carries the event's final state. No change when the cache did not hold it. */
  delete(obj: T): StoreChange<T> | undefined;
  /**
   * Transforms one object of a listing as it arrives, so that a large listing is not
   * held untransformed (managedFields and all) until it is complete; hand the result to
   * `replace` with `staged`. Throws what the transform throws; the store is unchanged either way.
   */
  stage(obj: T): T;
  /**
   * Swaps in a complete listing at once: adds new objects, updates the ones whose
   * resourceVersion changed, deletes the ones that vanished, and leaves unchanged
   * objects alone (no delete-and-re-add). Adds carry `isInitialList` on the first listing only.
   * `staged`: every object came from `stage` and is stored as it is; else each is transformed here.
   */
  replace(objs: T[], resourceVersion: string, staged?: boolean): StoreChange<T>[];
  /** Records the resourceVersion of a bookmark or watch event. */
  setResourceVersion(resourceVersion: string): void;
}

export interface StoreOptions<T extends KubeObject = KubeObject> {
  /** Extra indexes by name; `namespace` is always present. Default none. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Applied to every object before it is stored. Default `stripManagedFields`. */
  transform?: Transform<T>;
}

/** The default transform: drops `metadata.managedFields`, which is large and rarely read. */
export function stripManagedFields<T extends KubeObject>(obj: T): T {
  if (!obj.metadata || obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

/** An object ready to be stored: transformed, with its key and index values. */
interface Prepared<T extends KubeObject> {
  obj: T;
  key: string;
  indexed: Array<[string, string[]]>;
}

class IndexedCache<T extends KubeObject> implements Store<T>, Writer<T> {
  private readonly items = new Map<string, T>();
  /** The custom index values each key was filed under, so removal never calls user code again. */
  private readonly filed = new Map<string, Array<[string, string[]]>>();
  /**
   * The built-in namespace index is kept without a `filed` entry per object (an object's
   * namespace is part of its key and never changes); null when a custom indexer replaces it.
   */
  private readonly byNamespace: Map<string, Set<string>> | null;
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly indexers: Record<string, IndexFunc<T>>;
  private readonly transform: Transform<T>;
  private rv = '';
  private listed = false;

  constructor(options: StoreOptions<T>) {
    this.indexers = { ...options.indexers };
    this.transform = options.transform ?? stripManagedFields;
    for (const name of Object.keys(this.indexers)) this.indices.set(name, new Map());
    this.byNamespace = this.indexers[NAMESPACE_INDEX] ? null : new Map();
    if (this.byNamespace) this.indices.set(NAMESPACE_INDEX, this.byNamespace);
  }

  get size(): number {
    return this.items.size;
  }

  get resourceVersion(): string {
    return this.rv;
  }

  get(key: string): Readonly<T> | undefined {
    return this.items.get(key);
  }

  list(): Readonly<T>[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  byIndex(indexName: string, value: string): Readonly<T>[] {
    const index = this.indices.get(indexName);
    if (!index) throw new RangeError(`no index named ${JSON.stringify(indexName)} (have: ${[...this.indices.keys()].join(', ')})`);
    const out: T[] = [];
    for (const key of index.get(value) ?? []) {
      const obj = this.items.get(key);
      if (obj) out.push(obj);
    }
    return out;
  }

  apply(raw: T): StoreChange<T> | undefined {
    const { obj, key, indexed } = this.prepare(raw);
    const old = this.items.get(key);
    this.trackRv(obj);
    if (old && sameVersion(old, obj)) return undefined;
    this.put(key, obj, indexed, old);
    return old ? { type: 'update', old, object: obj } : { type: 'add', object: obj, isInitialList: false };
  }

  delete(raw: T): StoreChange<T> | undefined {
    const obj = this.transform(raw);
    const key = objectKey(obj);
    const old = this.items.get(key);
    this.trackRv(obj);
    if (!old) return undefined;
    this.remove(key);
    return { type: 'delete', object: obj };
  }

  replace(raws: T[], resourceVersion: string, staged = false): StoreChange<T>[] {
    // Transform and index everything first: if a user function throws, the store is untouched.
    const prepared = raws.map((raw) => this.compute(staged ? raw : this.transform(raw)));
    const initial = !this.listed;
    this.listed = true;
    const changes: StoreChange<T>[] = [];
    // Into an empty cache (the first listing, usually) everything is an add and nothing vanishes.
    const empty = this.items.size === 0;
    const seen = empty ? undefined : new Set<string>();
    for (const { obj, key, indexed } of prepared) {
      seen?.add(key);
      const old = this.items.get(key);
      if (old && sameVersion(old, obj)) continue;
      this.put(key, obj, indexed, old);
      changes.push(old ? { type: 'update', old, object: obj } : { type: 'add', object: obj, isInitialList: initial });
    }
    if (seen) {
      for (const [key, old] of [...this.items]) {
        if (seen.has(key)) continue;
        this.remove(key);
        changes.push({ type: 'delete', object: old });
      }
    }
    this.rv = resourceVersion;
    return changes;
  }

  setResourceVersion(resourceVersion: string): void {
    if (resourceVersion) this.rv = resourceVersion;
  }

  private trackRv(obj: T): void {
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.rv = rv;
  }

  stage(raw: T): T {
    return this.transform(raw);
  }

  /** Transforms an object and computes its key and index values, changing nothing (user functions may throw). */
  private prepare(raw: T): Prepared<T> {
    return this.compute(this.transform(raw));
  }

  /** The key and index values of a transformed object. */
  private compute(obj: T): Prepared<T> {
    const indexed: Array<[string, string[]]> = [];
    for (const name in this.indexers) indexed.push([name, this.indexers[name](obj)]);
    return { obj, key: objectKey(obj), indexed };
  }

  private put(key: string, obj: T, indexed: Array<[string, string[]]>, old: T | undefined): void {
    if (old) this.unindex(key);
    this.items.set(key, obj);
    if (this.byNamespace) file(this.byNamespace, obj.metadata?.namespace ?? '', key);
    if (indexed.length === 0) return;
    this.filed.set(key, indexed);
    for (const [name, values] of indexed) {
      const index = this.indices.get(name)!;
      for (const value of values) file(index, value, key);
    }
  }

  private remove(key: string): void {
    this.unindex(key);
    this.items.delete(key);
  }

  private unindex(key: string): void {
    if (this.byNamespace) unfile(this.byNamespace, this.items.get(key)?.metadata?.namespace ?? '', key);
    for (const [name, values] of this.filed.get(key) ?? []) {
      const index = this.indices.get(name)!;
      for (const value of values) unfile(index, value, key);
    }
    this.filed.delete(key);
  }
}

/** Files `key` under `value` in an index. */
function file(index: Map<string, Set<string>>, value: string, key: string): void {
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

/** Takes `key` out from under `value` in an index, dropping the value when nothing is left under it. */
function unfile(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  keys?.delete(key);
  if (keys?.size === 0) index.delete(value);
}

function sameVersion(a: KubeObject, b: KubeObject): boolean {
  const rv = a.metadata?.resourceVersion;
  return rv !== undefined && rv !== '' && rv === b.metadata?.resourceVersion;
}

/** Creates an empty cache: the read-only store for everyone, and its single writer for the reflector. */
export function createStore<T extends KubeObject = KubeObject>(options: StoreOptions<T> = {}): [Store<T>, Writer<T>] {
  const cache = new IndexedCache<T>(options);
  const store: Store<T> = {
    get: (key) => cache.get(key),
    list: () => cache.list(),
    keys: () => cache.keys(),
    byIndex: (name, value) => cache.byIndex(name, value),
    get size() {
      return cache.size;
    },
    get resourceVersion() {
      return cache.resourceVersion;
    },
  };
  return [store, cache];
}
