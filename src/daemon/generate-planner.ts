/**
 * GeneratePlanner: turns a generate rule's declared set for one trigger into the writes that
 * make the cluster equal to it, from what the inventory holds: applies of objects missing or
 * different (an apply that would change nothing is not planned), prunes (with the generated
 * object's uid as precondition) of objects no longer declared, and conflicts — an object another
 * rule generated is never written, and is reported once until it is resolved.
 */
import type { KubeObject } from '../core/index.js';
import {
  GENERATED_RULE_LABEL,
  generatedBy,
  generatingRule,
  objectIdentity,
  planPrunes,
  refOf,
  ruleLabelValue,
  type CompiledRule,
  type Plan,
  type PlannedAction,
  type RuleEvent,
} from '../engine/index.js';
import { triggerOf, type GeneratedInventory } from './generated-inventory.js';

/** A declared object another rule generated. */
export interface GenerateConflict {
  planned: PlannedAction;
  /** The rule that generated it. */
  owner: string;
}

/** What to do for one (rule, trigger). */
export interface GeneratePlan {
  /** Applies and prunes to run, in that order. */
  plan: Plan;
  /** Declared objects not written because another rule generated them; only the newly found ones are in `reported`. */
  conflicts: GenerateConflict[];
  /** Conflicts seen for the first time (to report). */
  reported: GenerateConflict[];
}

export class GeneratePlanner {
  /** `rule|object identity` of conflicts already reported. */
  private readonly conflicted = new Set<string>();

  constructor(private readonly inventory: Pick<GeneratedInventory, 'ensure' | 'get' | 'of' | 'ofRule'>) {}

  /**
   * The writes that bring what `rule` generated for `trigger` to `declared` (the plan evaluate
   * made; empty when the trigger no longer matches or is gone).
   */
  async complete(rule: CompiledRule, trigger: KubeObject, event: RuleEvent, declared: Plan): Promise<GeneratePlan> {
    for (const p of declared) await this.inventory.ensure(p.target);
    const gen = rule.generate!;
    const plan: Plan = [];
    const conflicts: GenerateConflict[] = [];
    const reported: GenerateConflict[] = [];
    const keep: Plan = [];
    for (const p of declared) {
      const current = this.inventory.get(p.target);
      const id = `${rule.name}|${objectIdentity(p.target)}`;
      if (current && !generatedBy(current, rule.name)) {
        const conflict = { planned: p, owner: generatingRule(current) ?? String(current.metadata?.labels?.[GENERATED_RULE_LABEL]) };
        conflicts.push(conflict);
        if (!this.conflicted.has(id)) reported.push(conflict);
        this.conflicted.add(id);
        keep.push(p); // declared all the same: never pruned for it
        continue;
      }
      this.conflicted.delete(id);
      keep.push(p);
      if (current && (p.action === 'create' || covers(current, asStored(p.body)))) continue; // nothing would change
      plan.push(p);
    }
    const uid = trigger.metadata?.uid;
    if (gen.synchronize && !gen.orphan && uid) {
      const generated = this.inventory.of(ruleLabelValue(rule.name), uid).filter((o) => generatedBy(o, rule.name));
      plan.push(...planPrunes(rule.name, { ...refOf(trigger), event }, keep, generated, rule.tenant));
    }
    return { plan, conflicts, reported };
  }

  /** Prunes of everything `rule` generated (the rule was removed while running). */
  pruneAll(rule: CompiledRule): Plan {
    return this.pruneObjects(rule, this.inventory.ofRule(ruleLabelValue(rule.name)).filter((o) => generatedBy(o, rule.name)));
  }

  /** Prunes of `generated` (objects of `rule`), each under the trigger its annotation names. */
  pruneObjects(rule: CompiledRule, generated: KubeObject[]): Plan {
    return generated.flatMap((obj) => {
      const t = triggerOf(obj);
      const [namespace, name] = t && t.objKey.includes('/') ? t.objKey.split('/') : [undefined, t?.objKey ?? ''];
      const trigger = { apiVersion: t?.apiVersion ?? rule.watch.apiVersion, kind: t?.kind ?? rule.watch.kind, ...(namespace ? { namespace } : {}), name, event: 'delete' as const };
      return planPrunes(rule.name, trigger, [], [obj], rule.tenant);
    });
  }

  /** Forgets the conflicts reported for `rule` (it stopped). */
  forget(rule: string): void {
    for (const id of [...this.conflicted]) if (id.startsWith(`${rule}|`)) this.conflicted.delete(id);
  }
}

/**
 * A declared object as the API server stores it, for comparing with the cache: a Secret's
 * write-only `stringData` is stored base64-encoded in `data`.
 */
export function asStored(body: unknown): unknown {
  const o = body as { apiVersion?: unknown; kind?: unknown; stringData?: unknown; data?: unknown } | null;
  if (o?.apiVersion !== 'v1' || o.kind !== 'Secret' || o.stringData === null || typeof o.stringData !== 'object') return body;
  const encoded = Object.fromEntries(Object.entries(o.stringData as Record<string, unknown>).map(([k, v]) => [k, Buffer.from(String(v)).toString('base64')]));
  const { stringData: _written, ...rest } = o;
  return { ...rest, data: { ...((o.data as Record<string, unknown> | undefined) ?? {}), ...encoded } };
}

/**
 * Whether `current` already holds every field of `desired` with the same value: what a
 * server-side apply of `desired` would leave unchanged (fields others added are theirs to keep).
 */
export function covers(current: unknown, desired: unknown): boolean {
  if (desired === null || typeof desired !== 'object') return current === desired;
  if (Array.isArray(desired)) {
    return Array.isArray(current) && current.length === desired.length && desired.every((d, i) => covers(current[i], d));
  }
  if (current === null || typeof current !== 'object' || Array.isArray(current)) return false;
  const c = current as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => (v === undefined ? true : covers(c[k], v)));
}
