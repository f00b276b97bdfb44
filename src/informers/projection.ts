/**
 * projection: a store transform that keeps only parts of each object — `apiVersion`, `kind`,
 * `metadata` (without managedFields unless asked) and the subtrees at the given paths — so a
 * cache holds what its readers read and no more. Arrays on a path are kept whole in length and
 * order, each object element projected the same way (a path through `spec.containers` keeps
 * every container, with only the fields below it); other values on the way are kept as they are.
 * Kept subtrees are shared with the decoded object, not copied.
 */
import type { KubeObject } from '../core/index.js';
import type { Transform } from './store.js';

/** A tree of kept paths: `true` keeps the whole subtree. */
type Tree = Map<string, Tree | true>;

function treeOf(paths: readonly (readonly string[])[]): Tree {
  const root: Tree = new Map();
  for (const path of paths) {
    let node = root;
    for (let i = 0; i < path.length; i++) {
      const at = node.get(path[i]);
      if (at === true) break;
      if (i === path.length - 1) {
        node.set(path[i], true);
        break;
      }
      let next = at;
      if (!next) node.set(path[i], (next = new Map()));
      node = next;
    }
  }
  return root;
}

function project(value: unknown, tree: Tree, out: Record<string, unknown> = {}): unknown {
  if (Array.isArray(value)) return value.map((v) => project(v, tree));
  if (value === null || typeof value !== 'object') return value;
  const src = value as Record<string, unknown>;
  for (const [key, sub] of tree) {
    if (!Object.prototype.hasOwnProperty.call(src, key)) continue;
    out[key] = sub === true ? src[key] : project(src[key], sub);
  }
  return out;
}

/** The transform keeping `paths` (each a list of field names) besides apiVersion, kind and metadata. */
export function projectionTransform<T extends KubeObject>(paths: readonly (readonly string[])[], options: { keepManagedFields?: boolean } = {}): Transform<T> {
  const tree = treeOf(paths.filter((p) => p.length > 0 && p[0] !== 'apiVersion' && p[0] !== 'kind' && p[0] !== 'metadata'));
  return (obj: T): T => {
    const out: Record<string, unknown> = {};
    if (obj.apiVersion !== undefined) out.apiVersion = obj.apiVersion;
    if (obj.kind !== undefined) out.kind = obj.kind;
    if (obj.metadata !== undefined) {
      if (options.keepManagedFields || obj.metadata.managedFields === undefined) out.metadata = obj.metadata;
      else {
        const { managedFields: _dropped, ...metadata } = obj.metadata;
        out.metadata = metadata;
      }
    }
    return project(obj, tree, out) as T;
  };
}
