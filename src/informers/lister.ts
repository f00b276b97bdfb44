/** Lister: read-only lookups by namespace, name and label selector over an informer's store. */
import { parseLabelSelector, type KubeObject, type LabelSelector } from '../core/index.js';
import { NAMESPACE_INDEX, type Store } from './store.js';

/**
 * Lister: what rule expressions (`$get`, `$list`) read. Never calls the API server;
 * objects returned are shared and must not be mutated.
 */
export interface Lister<T extends KubeObject = KubeObject> {
  /** The object `namespace/name`; for cluster-scoped kinds pass '' or null (or undefined) as namespace. */
  get(namespace: string | null | undefined, name: string): Readonly<T> | undefined;
  /**
   * Objects in `namespace` ('' , null or undefined: all namespaces, and cluster-scoped
   * objects), filtered by a label selector (`app=web,tier in (a,b)`; throws
   * SelectorSyntaxError when malformed). Sorted by namespace, then name.
   */
  list(namespace?: string | null, labelSelector?: string): Readonly<T>[];
}

/** A Lister over `store`. Parsed selectors are cached (bounded), since rules repeat them. */
export function createLister<T extends KubeObject>(store: Store<T>): Lister<T> {
  const selectors = new Map<string, LabelSelector>();
  const selectorFor = (text: string): LabelSelector => {
    let s = selectors.get(text);
    if (!s) {
      s = parseLabelSelector(text);
      if (selectors.size >= 256) selectors.clear();
      selectors.set(text, s);
    }
    return s;
  };
  return {
    get(namespace, name) {
      return store.get(namespace ? `${namespace}/${name}` : name);
    },
    list(namespace, labelSelector) {
      const objs = namespace ? store.byIndex(NAMESPACE_INDEX, namespace) : store.list();
      const selector = labelSelector ? selectorFor(labelSelector) : undefined;
      const out = selector ? objs.filter((o) => selector.matches(o.metadata?.labels)) : objs;
      return out.sort(byNamespaceThenName);
    },
  };
}

function byNamespaceThenName(a: KubeObject, b: KubeObject): number {
  const an = a.metadata?.namespace ?? '';
  const bn = b.metadata?.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  const a2 = a.metadata?.name ?? '';
  const b2 = b.metadata?.name ?? '';
  return a2 < b2 ? -1 : a2 > b2 ? 1 : 0;
}
