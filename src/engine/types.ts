/** The rule model after loading, the planned-action contract, and the ports the engine reads through. */
import type { KubeObject, LabelSelectorSpec } from '../core/index.js';

/** Events a rule sees (`recheck`: the time `recheckAt` gave has come; implied in `on` by recheckAt). */
export type RuleEvent = 'sync' | 'create' | 'update' | 'delete' | 'resync' | 'schedule' | 'dependency' | 'recheck';
export const RULE_EVENTS: readonly RuleEvent[] = ['sync', 'create', 'update', 'delete', 'resync', 'schedule', 'dependency', 'recheck'];

/** Action keys, in the order the docs list them. */
export type ActionKind = 'apply' | 'create' | 'update' | 'patch' | 'delete' | 'event' | 'log' | 'webhook';
export const ACTION_KINDS: readonly ActionKind[] = ['apply', 'create', 'update', 'patch', 'delete', 'event', 'log', 'webhook'];

/** A label selector in structured form (defined in core, shared with the informers). */
export type { LabelSelectorSpec } from '../core/index.js';

/** One watch of a rule document, as written. */
export interface WatchDocument {
  apiVersion: string;
  kind: string;
  namespaces?: string[];
  namespaceSelector?: string | LabelSelectorSpec;
  labelSelector?: string | LabelSelectorSpec;
  fieldSelector?: string;
}

/** A rule document exactly as written (after schema validation). */
export interface RuleDocument {
  apiVersion: 'reflex.dev/v1alpha1';
  kind: 'Rule';
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    description?: string;
    suspend?: boolean;
    /** Show rendered values of a rule that reads Secrets in logs, traces and Event notes. Default false. */
    revealSecretValues?: boolean;
    /** The ServiceAccount of its namespace a namespaced rule acts as (writes impersonated, reads reviewed). */
    serviceAccountName?: string;
    mode?: 'enforce' | 'audit';
    /** One watch, or a list of them (one rule, several kinds). */
    watch: WatchDocument | WatchDocument[];
    on?: RuleEvent[];
    changes?: string;
    resync?: string;
    schedule?: string;
    timezone?: string;
    when?: string | boolean;
    /** JSONata evaluated with `when`: the time (RFC 3339 text or epoch ms) to evaluate the object again. */
    recheckAt?: string;
    limits?: { actionsPerObjectPerMinute?: number; maxActionsPerRun?: number };
    actions?: Record<string, unknown>[];
    /** Desired state: objects kept true for each matching trigger (see generate.ts). */
    generate?: GenerateDocument;
  };
}

/** `spec.generate` as written. */
export interface GenerateDocument {
  /** Default true: applied, restored and pruned; false: created once, never touched again. */
  synchronize?: boolean;
  /** Default false: objects no longer declared are deleted; true: left behind, labels kept. */
  orphan?: boolean;
  /** Object templates; an item may be `{forEach: "{{ expr }}", object: {...}}`. */
  objects: Record<string, unknown>[];
}

/** Reference to an object, as in the planned-action JSON: cluster-scoped objects have no `namespace` key. */
export interface PlannedRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** The object and event that triggered a rule. */
export interface PlannedTrigger extends PlannedRef {
  event: RuleEvent;
}

/**
 * PlannedAction: one action the engine decided on; the dry-run output and the contract between
 * engine and actions. Plain JSON, keys in this order.
 */
export interface PlannedAction {
  rule: string;
  trigger: PlannedTrigger;
  action: ActionKind;
  target: PlannedRef;
  /** The rendered object, patch, event, message or request; null for delete. */
  body: unknown;
  /** The remaining fields of the action as written and rendered (patch `type`, `subresource`, …). */
  options: Record<string, unknown>;
  /** The namespace a tenant rule is confined to: any write elsewhere is refused before it is sent. */
  tenant?: string;
  /** From a rule that reads Secrets: the body is masked wherever it is shown (logs, traces, Event notes). */
  sensitive?: boolean;
}

/** A Plan: the planned actions of one evaluation, in action order (forEach items in their order). */
export type Plan = PlannedAction[];

/**
 * What one evaluation decided: its plan, and when the same (rule, object) asks to be evaluated
 * again (with event `recheck`): the rule's `recheckAt`, when it yields a time after the clock's now.
 */
export interface Evaluation {
  plan: Plan;
  /** Epoch ms, strictly after the evaluation's now; undefined: no re-check (a pending one is dropped). */
  recheckAt?: number;
}

/**
 * ObjectLister: read-only access to cached objects, for `$get`, `$list`, namespaceSelector and
 * `update`'s `$target`. The daemon adapts its informer caches to it; dry-run serves manifests.
 * A result may be a promise (a cache started on first use).
 */
export interface ObjectLister {
  /** The cached object, or undefined. `namespace` is undefined for cluster-scoped kinds. */
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined | Promise<KubeObject | undefined>;
  /** Cached objects of a kind; `namespace` undefined means all namespaces. Label filtering is the engine's job;
   * `labelSelector` (the caller's filter, as written) is passed for listers that record what was read. */
  list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): KubeObject[] | Promise<KubeObject[]>;
}

/** Scope of a kind: used to give a defaulted target the right namespace. */
export type KindScope = 'Namespaced' | 'Cluster';

/** A lister that knows nothing: every get is undefined, every list empty. */
export const emptyLister: ObjectLister = { get: () => undefined, list: () => [] };
