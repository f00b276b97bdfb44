/**
 * RuleFanout: the one handler a shared informer has for every rule that watches through it.
 * A rule whose `when` needs `path = literal` (the engine's `prefilterOf`) is indexed by that
 * path and value, so with 50 rules keyed on a label, one lookup finds the rule whose value the
 * object carries; the others are handed the event as decided false on this object, which spares
 * evaluating their conditions (the intake still merges the event into a change pending for the key).
 */
import { objectKey, type KubeObject } from '../core/index.js';
import { BAIL, prefilterOf, valueAt } from '../engine/index.js';
import type { SharedInformer } from '../informers/index.js';
import type { ActiveRule } from './active-rule.js';
import type { PendingChange } from './coalesce.js';

/**
 * Where the fan-out hands each (rule, change): the intake, which decides whether to queue it;
 * `decidedFalse`: the rule's condition is known to be false on `obj`.
 */
export type Offer = (rule: ActiveRule, obj: KubeObject, change: PendingChange, objKey: string, decidedFalse: boolean) => void;

/** Rules indexed on one path: by the value their `when` needs there. */
interface PathGroup {
  path: string[];
  byValue: Map<unknown, Set<ActiveRule>>;
  rules: ActiveRule[];
}

const EMPTY: ReadonlySet<ActiveRule> = new Set();

export class RuleFanout {
  private readonly rules = new Set<ActiveRule>();
  private unindexed: ActiveRule[] = [];
  private groups: PathGroup[] = [];
  private readonly detach: () => void;

  constructor(
    private readonly informer: SharedInformer,
    private readonly offer: Offer,
  ) {
    this.detach = informer.addHandler({
      add: (obj, initial) => this.dispatch(obj, initial ? { event: 'sync', last: obj, lane: 'sweep', sweep: 'sync' } : { event: 'create', last: obj, lane: 'live' }),
      update: (old, obj) => {
        if (old !== obj) this.dispatch(obj, { event: 'update', old, last: obj, lane: 'live' });
      },
      delete: (obj) => this.dispatch(obj, { event: 'delete', last: obj, lane: 'live' }),
    });
  }

  get size(): number {
    return this.rules.size;
  }

  /** Adds a rule (the objects already cached are the caller's to sweep). */
  add(rule: ActiveRule): void {
    this.rules.add(rule);
    this.reindex();
  }

  /** Removes a rule; returns true when none is left (the handler is then removed from the informer). */
  remove(rule: ActiveRule): boolean {
    this.rules.delete(rule);
    this.reindex();
    if (this.rules.size > 0) return false;
    this.detach();
    return true;
  }

  private dispatch(obj: KubeObject, change: PendingChange): void {
    const objKey = objectKey(obj);
    const offer = this.offer;
    for (const rule of this.unindexed) offer(rule, obj, change, rule.keyOf(obj, objKey), false);
    for (const g of this.groups) {
      const v = valueAt(obj, g.path);
      // An array on the path leaves every rule of the group undecided (JSONata would map over it).
      const hit = v === BAIL ? undefined : v !== null && typeof v === 'object' ? EMPTY : (g.byValue.get(v) ?? EMPTY);
      for (const rule of g.rules) offer(rule, obj, change, rule.keyOf(obj, objKey), hit !== undefined && !hit.has(rule));
    }
  }

  private reindex(): void {
    const unindexed: ActiveRule[] = [];
    const groups = new Map<string, PathGroup>();
    for (const rule of this.rules) {
      const eq = prefilterOf(rule.rule);
      if (!eq) {
        unindexed.push(rule);
        continue;
      }
      const id = JSON.stringify(eq.path);
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { path: eq.path, byValue: new Map(), rules: [] }));
      g.rules.push(rule);
      let set = g.byValue.get(eq.value);
      if (!set) g.byValue.set(eq.value, (set = new Set()));
      set.add(rule);
    }
    this.unindexed = unindexed;
    this.groups = [...groups.values()];
  }
}
