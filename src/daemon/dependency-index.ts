/**
 * Dependencies: what each (rule, trigger) evaluation read through `$get` and `$list` (and the
 * namespaceSelector's Namespace lookup), so a change of a read object re-queues exactly the
 * keys that read it (event `dependency`).
 *
 * Memory is bounded by what the latest evaluations read: `record` replaces a key's reads, `drop`
 * forgets them when the key goes. A `$get` is one entry (kind, namespace, name); a `$list` one
 * entry (kind, namespace or all, selector as written), whatever it returned.
 */
import { parseLabelSelector, type KubeObject, type LabelSelector } from '../core/index.js';
import type { ObjectLister } from '../engine/index.js';

/** The reads of one evaluation: entry ids, see `getId` and `listId`. */
export type Reads = ReadonlySet<string>;

const SEP = '\u0000';
/** `$get(apiVersion, kind, namespace, name)`. */
const getId = (apiVersion: string, kind: string, namespace: string | undefined, name: string) => `g${SEP}${apiVersion}${SEP}${kind}${SEP}${namespace ?? ''}${SEP}${name}`;
/** `$list(apiVersion, kind, namespace?, selector?)`; an empty namespace means all namespaces. */
const listId = (apiVersion: string, kind: string, namespace: string | undefined, selector: string | undefined) =>
  `l${SEP}${apiVersion}${SEP}${kind}${SEP}${namespace ?? ''}${SEP}${selector ?? ''}`;

/**
 * RecordingLister: an ObjectLister that passes every lookup on to `inner` and remembers it.
 * One per evaluation.
 */
export class RecordingLister implements ObjectLister {
  private readonly seen = new Set<string>();

  constructor(private readonly inner: ObjectLister) {}

  get(apiVersion: string, kind: string, namespace: string | undefined, name: string) {
    this.seen.add(getId(apiVersion, kind, namespace, name));
    return this.inner.get(apiVersion, kind, namespace, name);
  }

  list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string) {
    this.seen.add(listId(apiVersion, kind, namespace, labelSelector));
    return this.inner.list(apiVersion, kind, namespace, labelSelector);
  }

  /** What was read so far. */
  reads(): Reads {
    return this.seen;
  }
}

/** A kind as `$get`/`$list` name it. */
export interface ReadKind {
  apiVersion: string;
  kind: string;
}

interface ListEntry {
  selector: LabelSelector | undefined;
  keys: Set<string>;
}

/** Per kind: exact lookups by `namespace/name`, lists by namespace ('' = all) then selector text. */
interface KindIndex {
  gets: Map<string, Set<string>>;
  lists: Map<string, Map<string, ListEntry>>;
}

/**
 * DependencyIndex: keys by the entries they read, and back. Not thread-safe by design: the
 * daemon calls it from one event loop.
 */
export class DependencyIndex {
  private readonly byKey = new Map<string, Reads>();
  private readonly byKind = new Map<string, KindIndex>();
  private entries = 0;

  /** Replaces what `key` depends on with `reads` (an empty set forgets the key). */
  record(key: string, reads: Reads): void {
    const before = this.byKey.get(key);
    if (before) {
      for (const id of before) if (!reads.has(id)) this.unlink(key, id);
    }
    if (reads.size === 0) {
      this.byKey.delete(key);
      return;
    }
    for (const id of reads) if (!before?.has(id)) this.link(key, id);
    this.byKey.set(key, new Set(reads));
  }

  /** Forgets `key` (its rule stopped, its trigger went). */
  drop(key: string): void {
    this.record(key, new Set());
  }

  /** Forgets every key for which `belongs` is true (a rule that stopped). */
  dropWhere(belongs: (key: string) => boolean): void {
    for (const key of [...this.byKey.keys()]) if (belongs(key)) this.drop(key);
  }

  /** The kinds some key depends on. */
  kinds(): ReadKind[] {
    return [...this.byKind.keys()].map((k) => {
      const [apiVersion, kind] = k.split(SEP);
      return { apiVersion, kind };
    });
  }

  /**
   * The keys that read `obj` (a new, changed or deleted object of kind `apiVersion/kind`), or
   * would now: a `$get` of its name, a `$list` of its namespace or of all namespaces whose
   * selector matches its labels now or before (`old`).
   */
  dependents(apiVersion: string, kind: string, obj: KubeObject, old?: KubeObject): Set<string> {
    const out = new Set<string>();
    const index = this.byKind.get(`${apiVersion}${SEP}${kind}`);
    if (!index) return out;
    const ns = obj.metadata?.namespace ?? '';
    for (const k of index.gets.get(`${ns}/${obj.metadata?.name ?? ''}`) ?? []) out.add(k);
    const scopes = ns === '' ? [''] : [ns, ''];
    for (const scope of scopes) {
      for (const entry of index.lists.get(scope)?.values() ?? []) {
        const hit = !entry.selector || entry.selector.matches(obj.metadata?.labels) || (old !== undefined && entry.selector.matches(old.metadata?.labels));
        if (hit) for (const k of entry.keys) out.add(k);
      }
    }
    return out;
  }

  /** Sizes, for metrics and the benchmark. */
  stats(): { keys: number; entries: number } {
    return { keys: this.byKey.size, entries: this.entries };
  }

  private kindIndex(apiVersion: string, kind: string, create: boolean): KindIndex | undefined {
    const k = `${apiVersion}${SEP}${kind}`;
    let index = this.byKind.get(k);
    if (!index && create) this.byKind.set(k, (index = { gets: new Map(), lists: new Map() }));
    return index;
  }

  private link(key: string, id: string): void {
    const [type, apiVersion, kind, namespace, rest] = id.split(SEP);
    const index = this.kindIndex(apiVersion, kind, true)!;
    this.entries++;
    if (type === 'g') {
      const at = `${namespace}/${rest}`;
      let keys = index.gets.get(at);
      if (!keys) index.gets.set(at, (keys = new Set()));
      keys.add(key);
      return;
    }
    let bySelector = index.lists.get(namespace);
    if (!bySelector) index.lists.set(namespace, (bySelector = new Map()));
    let entry = bySelector.get(rest);
    if (!entry) bySelector.set(rest, (entry = { selector: parseSelector(rest), keys: new Set() }));
    entry.keys.add(key);
  }

  private unlink(key: string, id: string): void {
    const [type, apiVersion, kind, namespace, rest] = id.split(SEP);
    const index = this.kindIndex(apiVersion, kind, false);
    if (!index) return;
    this.entries--;
    if (type === 'g') {
      const at = `${namespace}/${rest}`;
      const keys = index.gets.get(at);
      keys?.delete(key);
      if (keys?.size === 0) index.gets.delete(at);
    } else {
      const bySelector = index.lists.get(namespace);
      const entry = bySelector?.get(rest);
      entry?.keys.delete(key);
      if (entry?.keys.size === 0) bySelector!.delete(rest);
      if (bySelector?.size === 0) index.lists.delete(namespace);
    }
    if (index.gets.size === 0 && index.lists.size === 0) this.byKind.delete(`${apiVersion}${SEP}${kind}`);
  }
}

/** A selector as `$list` was given it; one that does not parse matched nothing there, so it depends on every object. */
function parseSelector(text: string): LabelSelector | undefined {
  if (text === '') return undefined;
  try {
    return parseLabelSelector(text);
  } catch {
    return undefined;
  }
}
