/** REST paths and human descriptions of resources, from discovery's ResourceInfo. */
import { parseApiVersion } from '../core/index.js';
import type { ResourceInfo } from './types.js';

const enc = encodeURIComponent;

/** `/api/v1[/namespaces/NS]/configmaps[/NAME[/SUB]]`, or `/apis/GROUP/VERSION/…`. A namespace is used only for namespaced kinds. */
export function resourcePath(info: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  const { group, version, resource } = info.gvr;
  let p = group ? `/apis/${group}/${version}` : `/api/${version}`;
  if (info.namespaced && namespace) p += `/namespaces/${enc(namespace)}`;
  p += `/${resource}`;
  if (name !== undefined) {
    if (!name) throw new TypeError(`a ${info.gvk.kind} needs a name`);
    p += `/${enc(name)}`;
    if (subresource) p += `/${enc(subresource)}`;
  }
  return p;
}

/**
 * The resource a built-in kind is most likely served as, before discovery has said: its name
 * lower-cased and made plural as the API machinery does for most kinds (`ConfigMap` →
 * `configmaps`, `NetworkPolicy` → `networkpolicies`, `Ingress` → `ingresses`), namespaced when
 * a namespace is asked for. Only a guess, to be confirmed by discovery (see DynamicClient.list).
 */
export function guessResource(apiVersion: string, kind: string, namespaced: boolean): ResourceInfo {
  const { group, version } = parseApiVersion(apiVersion);
  const lower = kind.toLowerCase();
  const resource = lower.endsWith('s') ? `${lower}es` : lower.endsWith('y') ? `${lower.slice(0, -1)}ies` : `${lower}s`;
  return { gvk: { group, version, kind }, gvr: { group, version, resource }, namespaced, verbs: [], shortNames: [], subresources: [] };
}

/** Human form for messages: `configmaps "a" in namespace "x"`, `deployments.apps (all namespaces)`, `nodes "n1" (status)`. */
export function describeResource(info: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  const r = info.gvr.group ? `${info.gvr.resource}.${info.gvr.group}` : info.gvr.resource;
  let s = name ? `${r} "${name}"` : r;
  if (subresource) s += ` (${subresource})`;
  if (info.namespaced) s += namespace ? ` in namespace "${namespace}"` : name ? '' : ' (all namespaces)';
  return s;
}
