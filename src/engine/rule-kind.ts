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

/**
 * The scope of one document; what contradicts its kind or source goes to `fail`. Every rule of a
 * tenant source is that namespace's, whatever its kind. `spec.serviceAccountName` on a cluster-wide
 * rule is refused by the tenant checks (checkClusterWide).
 */
export function ruleScope(value: unknown, pos: PositionMap, src: ScopeSource, fail: Fail): RuleScope {
  const doc = (value ?? {}) as { kind?: unknown; metadata?: { namespace?: unknown }; spec?: { serviceAccountName?: unknown } };
  const namespace = str(doc.metadata?.namespace);
  const account = str(doc.spec?.serviceAccountName);
  const namespaced = doc.kind === 'Rule' && namespace !== undefined;
  if (src.tenant !== undefined) {
    if (namespace !== undefined && namespace !== src.tenant) {
      fail(pos.at('/metadata/namespace'), `metadata.namespace: "${namespace}" is not "${src.tenant}"; a rule from namespace "${src.tenant}" is confined to it`);
    }
    return { tenant: src.tenant, serviceAccountName: account ?? src.serviceAccountName ?? (namespaced ? 'default' : undefined) };
  }
  if (doc.kind === 'ClusterRule' && namespace !== undefined) {
    fail(pos.keyAt('/metadata/namespace'), `metadata.namespace: a ClusterRule is cluster-wide and has no namespace; remove it, or write kind: Rule for a rule confined to "${namespace}"`);
  }
  if (namespaced) return { tenant: namespace, serviceAccountName: account ?? 'default' };
  return { deprecated: doc.kind === 'Rule' ? pos.at('/kind') : undefined };
}

/** The one-line warning of a source whose rules say `kind: Rule` without a namespace. */
export function deprecatedKindWarning(count: number): string {
  const which = count === 1 ? '' : ` (${count} rules in this source)`;
  return `kind: Rule without metadata.namespace is read as ClusterRule${which}; this form is deprecated, write kind: ClusterRule`;
}
