/** rule: a loaded, validated and compiled rule, ready to evaluate. */
import type { Expression } from './expression.js';
import type { FieldSelector, LabelSelector, ServiceAccountRef } from '../core/index.js';
import type { CronSchedule } from './schedule.js';
import type { TemplateNode } from './template.js';
import type { ActionKind, RuleDocument, RuleEvent } from './types.js';

/** Defaults of the rule format (docs/reference.md). */
export const RULE_DEFAULTS = {
  on: ['sync', 'create', 'update', 'resync'] as RuleEvent[],
  onWithSchedule: ['schedule'] as RuleEvent[],
  /** A generate rule reconciles every change of its triggers and of what it read. */
  onGenerate: ['sync', 'create', 'update', 'delete', 'resync', 'dependency'] as RuleEvent[],
  mode: 'enforce' as const,
  timezone: 'UTC',
  actionsPerObjectPerMinute: 10,
  maxActionsPerRun: 100,
};

/** One compiled action of a rule. */
export interface CompiledAction {
  /** Position in `spec.actions`. */
  index: number;
  kind: ActionKind;
  /** `forEach: "{{ expr }}"`: the action repeats for every element, bound to `$item`. */
  forEach?: Expression;
  /** The action's fields, as a template (rendered per evaluation). */
  fields: TemplateNode;
  /** Where this action is, for messages: `actions[2].patch`. */
  where: string;
}

/** One watch of a rule, selectors parsed. */
export interface CompiledWatch {
  apiVersion: string;
  kind: string;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  labelSelector?: LabelSelector;
  fieldSelector?: FieldSelector;
  /** Position in a `spec.watch` list; 0 for a single watch. */
  index: number;
}

/** A rule after loading: defaults filled, selectors parsed, expressions compiled. */
export interface CompiledRule {
  name: string;
  /** Where it came from. */
  source: { file: string; document: number };
  /** The document as written. */
  document: RuleDocument;
  description?: string;
  suspend: boolean;
  mode: 'enforce' | 'audit';
  /** Every watch, in `spec.watch` order (one for a single watch); the rule runs on the objects of each. */
  watches: CompiledWatch[];
  /** The first of `watches`: the only one of a single-watch rule. Code that serves every rule reads `watches`. */
  watch: CompiledWatch;
  /** The events the rule listens to; `recheck` is added when `recheckAt` is set. */
  on: RuleEvent[];
  changes?: Expression;
  /** Resync period in ms. */
  resyncMs?: number;
  schedule?: CronSchedule;
  timezone: string;
  /** Undefined means true. */
  when?: Expression | boolean;
  /** Evaluated with `when`; a time after now asks for a re-evaluation then (event `recheck`). */
  recheckAt?: Expression;
  limits: { actionsPerObjectPerMinute: number; maxActionsPerRun: number };
  /** Empty for a generate rule. */
  actions: CompiledAction[];
  /**
   * Set for a tenant rule (from a ConfigMap outside the daemon's namespace): the one namespace it
   * may watch, read and write (tenant.ts). Undefined for cluster-wide rules.
   */
  tenant?: string;
  /**
   * Set for a tenant rule that acts as a ServiceAccount of its namespace (a namespaced Rule, or a
   * tenant ConfigMap's rule with `spec.serviceAccountName`): its writes are impersonated as it, and
   * its reads checked by SubjectAccessReview (the daemon's access-review.ts).
   */
  runAs?: ServiceAccountRef;
  /** `spec.generate`: the objects this rule keeps true for each matching trigger. */
  generate?: CompiledGenerate;
  /**
   * The rule reads Secrets (watches them, or a `$get`/`$list` whose kind is Secret or computed) and
   * did not set `revealSecretValues`: its rendered values are masked wherever they would be shown.
   */
  sensitive?: boolean;
}

/** `spec.generate` after loading. */
export interface CompiledGenerate {
  synchronize: boolean;
  orphan: boolean;
  objects: CompiledGenerated[];
}

/** One item of `spec.generate.objects`. */
export interface CompiledGenerated {
  /** Position in `spec.generate.objects`. */
  index: number;
  /** `forEach: "{{ expr }}"`: one object per element, bound to `$item`. */
  forEach?: Expression;
  /** The object template. */
  object: TemplateNode;
  /** Where this item is, for messages: `generate.objects[1]`. */
  where: string;
}
