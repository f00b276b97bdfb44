/**
 * tenant: confinement of tenant rules: namespaced Rules, and the rules of a ConfigMap outside the
 * daemon's own namespace. A tenant rule watches, reads and writes only in its namespace; one that
 * runs as a ServiceAccount (`runAs`) also writes as it and reads only what it may read (the
 * daemon's access-review.ts). What can be decided from the
 * rule as written is a load error (`confineToTenant`); what depends on rendered values is refused
 * when it happens: the lister of its evaluations (`confinedLister`) and, before each write, the
 * actions' check of `PlannedAction.tenant`.
 */
import { groupOf, ReflexError, TENANT_FORBIDDEN_GROUPS, type KubeObject } from '../core/index.js';
import { builtinKind } from './kinds.js';
import { lookupCalls, templateExpressions, type LookupArg } from './lookups.js';
import type { CompiledRule } from './rule.js';
import type { ObjectLister } from './types.js';
import type { LineCol, PositionMap } from './yaml-source.js';

/** A tenant rule tried to read outside its namespace. */
export class TenantConfinementError extends ReflexError {
  constructor(message: string) {
    super(message, { code: 'ERR_TENANT_CONFINED' });
  }
}


const why = (tenant: string) =>
  `a rule of namespace "${tenant}" (a namespaced Rule, or a ConfigMap there) is confined to that namespace (cluster-wide rules are ClusterRules, rule files, or ConfigMaps in the daemon's own namespace)`;

/**
 * A cluster-wide rule that names a ServiceAccount: a load error (through `fail`), since only a rule
 * of a namespace acts as one of its ServiceAccounts. True when the rule may load.
 */
export function checkClusterWide(rule: CompiledRule, pos: PositionMap, fail: (at: LineCol, message: string) => void): boolean {
  if (rule.document.spec.serviceAccountName === undefined) return true;
  fail(pos.at('/spec/serviceAccountName'), 'spec.serviceAccountName: only a namespaced rule (a Rule in a namespace, or a rule from a ConfigMap outside the daemon\'s namespace) acts as a ServiceAccount; a cluster-wide rule acts as the daemon');
  return false;
}

/**
 * Checks a compiled rule of a tenant source and confines it: its watch is limited to `tenant`.
 * Reports every static violation through `fail` (the rule must then be dropped). The rule acts as
 * ServiceAccount `serviceAccountName` (the source's, e.g. a namespaced Rule's, else the rule's
 * spec.serviceAccountName) when one is given.
 */
export function confineToTenant(rule: CompiledRule, tenant: string, pos: PositionMap, fail: (at: LineCol, message: string) => void, serviceAccountName?: string): void {
  const list = Array.isArray(rule.document.spec.watch);
  for (const w of rule.watches) {
    const base = list ? `/spec/watch/${w.index}` : '/spec/watch';
    const name = list ? `spec.watch[${w.index}]` : 'spec.watch';
    (w.namespaces ?? []).forEach((ns, i) => {
      if (ns !== tenant) fail(pos.at(`${base}/namespaces/${i}`), `${name}.namespaces: "${ns}" is outside "${tenant}"; ${why(tenant)}`);
    });
    if (w.namespaceSelector) fail(pos.keyAt(`${base}/namespaceSelector`), `${name}.namespaceSelector: selects other namespaces; ${why(tenant)}`);
    if (builtinKind(w.apiVersion, w.kind)?.scope === 'Cluster') fail(pos.at(`${base}/kind`), `${name}.kind: ${w.kind} is cluster-scoped; ${why(tenant)}`);
  }
  rule.tenant = tenant;
  const sa = serviceAccountName ?? rule.document.spec.serviceAccountName;
  if (sa !== undefined) rule.runAs = { namespace: tenant, name: sa };
  rule.watches = rule.watches.map((w) => ({ ...w, namespaces: [tenant] }));
  rule.watch = rule.watches[0];

  const spec = rule.document.spec as unknown as { actions?: Record<string, unknown>[]; when?: unknown; changes?: unknown; recheckAt?: unknown };
  rule.actions.forEach((action) => {
    const raw = (spec.actions?.[action.index]?.[action.kind] ?? {}) as Record<string, unknown>;
    const base = `/spec/actions/${action.index}/${action.kind}`;
    const where = `spec.actions[${action.index}].${action.kind}`;
    const target = raw.target as Record<string, unknown> | undefined;
    if (target && typeof target === 'object') checkRef(target, `${base}/target`, `${where}.target`, 'namespace');
    const object = raw.object as { apiVersion?: unknown; kind?: unknown; metadata?: Record<string, unknown> } | undefined;
    if ((action.kind === 'apply' || action.kind === 'create') && object && typeof object === 'object') {
      checkRef({ apiVersion: object.apiVersion, kind: object.kind, namespace: object.metadata?.namespace }, `${base}/object`, `${where}.object`, 'metadata.namespace');
      if (object.metadata && typeof object.metadata === 'object' && object.metadata.namespace === undefined) {
        fail(pos.at(`${base}/object/metadata`), `${where}.object.metadata.namespace: not set; a tenant rule writes only in "${tenant}", set it to "${tenant}"`);
      }
    }
    const exprs = [...(action.forEach ? [action.forEach] : []), ...templateExpressions(action.fields)];
    for (const e of exprs) checkLookups(e.source, () => pos.at(`/spec/actions/${action.index}`), where);
  });
  if (typeof spec.when === 'string') checkLookups(spec.when, (index) => pos.inScalar('/spec/when', index), 'spec.when');
  if (typeof spec.changes === 'string') checkLookups(spec.changes, (index) => pos.inScalar('/spec/changes', index), 'spec.changes');
  if (typeof spec.recheckAt === 'string') checkLookups(spec.recheckAt, (index) => pos.inScalar('/spec/recheckAt', index), 'spec.recheckAt');

  function checkRef(ref: Record<string, unknown>, pointer: string, where: string, nsField: string): void {
    const lit = (v: unknown) => (typeof v === 'string' && !v.includes('{{') ? v : undefined);
    const ns = lit(ref.namespace);
    if (ns !== undefined && ns !== tenant) fail(pos.at(`${pointer}/${nsField.replace('.', '/')}`), `${where}.${nsField}: "${ns}" is outside "${tenant}"; ${why(tenant)}`);
    const apiVersion = lit(ref.apiVersion);
    const kind = lit(ref.kind);
    if (apiVersion !== undefined && TENANT_FORBIDDEN_GROUPS.includes(groupOf(apiVersion))) {
      fail(pos.at(`${pointer}/apiVersion`), `${where}.apiVersion: a tenant rule never writes ${groupOf(apiVersion)} objects`);
    } else if (apiVersion !== undefined && kind !== undefined && builtinKind(apiVersion, kind)?.scope === 'Cluster') {
      fail(pos.at(`${pointer}/kind`), `${where}.kind: ${kind} is cluster-scoped; ${why(tenant)}`);
    }
  }

  function checkLookups(source: string, at: (index: number) => LineCol, where: string): void {
    for (const call of lookupCalls(source)) {
      const ns = literal(call.namespace);
      const kind = literal(call.kind);
      const apiVersion = literal(call.apiVersion);
      const cluster = typeof apiVersion === 'string' && typeof kind === 'string' && builtinKind(apiVersion, kind)?.scope === 'Cluster';
      if (cluster) fail(at(call.index), `${where}: $${call.fn} of ${kind}, which is cluster-scoped; ${why(tenant)}`);
      else if (call.namespace === 'missing' || ns === null || ns === '') {
        fail(at(call.index), `${where}: $${call.fn} without a namespace reads outside "${tenant}"; pass "${tenant}" (${why(tenant)})`);
      } else if (typeof ns === 'string' && ns !== tenant) {
        fail(at(call.index), `${where}: $${call.fn} in namespace "${ns}", outside "${tenant}"; ${why(tenant)}`);
      }
    }
  }
}

function literal(a: LookupArg): string | null | undefined {
  return typeof a === 'object' ? a.literal : undefined;
}

/** A lister that serves only `tenant`'s objects and refuses every other read (a cluster-scoped kind, all namespaces, another namespace). */
export function confinedLister(lister: ObjectLister, tenant: string, rule: string): ObjectLister {
  const refuse = (fn: string, kind: string, ns: string | undefined): never => {
    throw new TenantConfinementError(
      `rule "${rule}": $${fn} of ${kind} ${ns ? `in namespace "${ns}"` : 'outside any namespace'} refused: a rule of namespace "${tenant}" reads only that namespace`,
    );
  };
  return {
    get(apiVersion, kind, namespace, name): KubeObject | undefined | Promise<KubeObject | undefined> {
      if (namespace !== tenant) refuse('get', kind, namespace);
      return lister.get(apiVersion, kind, namespace, name);
    },
    list(apiVersion, kind, namespace) {
      if (namespace !== tenant) refuse('list', kind, namespace);
      return lister.list(apiVersion, kind, namespace);
    },
  };
}
