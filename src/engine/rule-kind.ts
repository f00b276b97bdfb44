/**
 * rule-kind: what a document's kind means. `ClusterRule` is cluster-wide; a namespaced `Rule` (one
 * with `metadata.namespace`) is confined to its namespace like the rules of a tenant ConfigMap and
 * runs as `spec.serviceAccountName` there; `Rule` without a namespace, in a file or a ConfigMap of
 * the daemon's namespace, is the older spelling of `ClusterRule` (deprecated, warned once per source).
 */
import type { LineCol, PositionMap } from './yaml-source.js';

/** The scope one document runs with. */
export interface RuleScope {
  /** The one namespace it is confined to; undefined for a cluster-wide rule. */
  tenant?: string;
  /** The ServiceAccount of `tenant` it runs as, when it names one (a namespaced Rule always does: `default`). */
  serviceAccountName?: string;
  /** `kind: Rule` read as ClusterRule: where its `kind` is. */
  deprecated?: LineCol;
}

/** Where a document comes from: its source's tenant and ServiceAccount, if any. */
export interface ScopeSource {
  tenant?: string;
  serviceAccountName?: string;
}

type Fail = (at: LineCol, message: string) => void;

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/** The scope of one document; what contradicts its kind or source goes to `fail`. */
export function ruleScope(value: unknown, pos: PositionMap, src: ScopeSource, fail: Fail): RuleScope {
  const doc = (value ?? {}) as { kind?: unknown; metadata?: { namespace?: unknown }; spec?: { serviceAccountName?: unknown } };
  const namespace = str(doc.metadata?.namespace);
  const account = str(doc.spec?.serviceAccountName);
  if (doc.kind === 'ClusterRule') {
    if (namespace) fail(pos.keyAt('/metadata/namespace'), `metadata.namespace: a ClusterRule is cluster-wide and has no namespace; remove it, or write kind: Rule for a rule confined to "${namespace}"`);
    if (account) fail(pos.keyAt('/spec/serviceAccountName'), 'spec.serviceAccountName: only a namespaced Rule runs as a ServiceAccount; a ClusterRule acts with the daemon\'s identity');
    return { tenant: src.tenant, serviceAccountName: src.serviceAccountName };
  }
  if (doc.kind !== 'Rule') return { tenant: src.tenant, serviceAccountName: src.serviceAccountName };
  if (namespace) {
    if (src.tenant !== undefined && src.tenant !== namespace) {
      fail(pos.at('/metadata/namespace'), `metadata.namespace: "${namespace}" is not "${src.tenant}"; a rule from namespace "${src.tenant}" is confined to it`);
    }
    return { tenant: namespace, serviceAccountName: account ?? src.serviceAccountName ?? 'default' };
  }
  if (src.tenant !== undefined) return { tenant: src.tenant, serviceAccountName: account ?? src.serviceAccountName };
  if (account) fail(pos.keyAt('/spec/serviceAccountName'), 'spec.serviceAccountName: needs metadata.namespace (the namespace of the ServiceAccount); a Rule without one is read as a ClusterRule');
  return { deprecated: pos.at('/kind') };
}

/** The one-line warning of a source whose rules say `kind: Rule` without a namespace. */
export function deprecatedKindWarning(count: number): string {
  const which = count === 1 ? '' : ` (${count} rules in this source)`;
  return `kind: Rule without metadata.namespace is read as ClusterRule${which}; this form is deprecated, write kind: ClusterRule`;
}
