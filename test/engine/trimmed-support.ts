/**
 * Helpers of the trimmed-cache tests: an object trimmed to what a rule set reads (as the daemon's
 * caches keep it), and a check that a rule plans the same on trimmed objects as on whole ones.
 */
import { expect } from 'chai';
import type { KubeObject } from '../../src/core/index.js';
import { applyPatchLocally, deepEqual, type LocalPatchType } from '../../src/actions/index.js';
import { evaluate, keptPaths, kindKey, mergeReads, readsOf, type CompiledRule, type Plan, type RuleEvent, type RuleReads } from '../../src/engine/index.js';
import { projectionTransform } from '../../src/informers/index.js';
import { clock, listerOf } from './helpers.js';

/** `obj` as a cache trimmed for `reads` holds it (whole when its kind must be kept whole). */
export function trimmed(reads: RuleReads, obj: KubeObject): KubeObject {
  const paths = keptPaths(reads, kindKey(String(obj.apiVersion), String(obj.kind)));
  return paths ? projectionTransform(paths)(obj) : obj;
}

/** What one evaluation gave: its plan, or its error message. */
async function outcome(rule: CompiledRule, event: RuleEvent, obj: KubeObject, old: KubeObject | undefined, objects: KubeObject[]): Promise<Plan | string> {
  try {
    return await evaluate(rule, event, obj, old, { clock: clock(), lister: listerOf(objects) });
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Whether applying each planned patch to its target's state changes it (the executor's no-op check). */
function patchChanges(plan: Plan | string, objects: KubeObject[]): string[] {
  if (typeof plan === 'string') return [];
  return plan
    .filter((p) => p.action === 'patch')
    .map((p) => {
      const t = p.target;
      const cur = objects.find((o) => o.apiVersion === t.apiVersion && o.kind === t.kind && o.metadata?.name === t.name && (o.metadata?.namespace ?? undefined) === t.namespace);
      if (!cur) return 'missing';
      try {
        return deepEqual(applyPatchLocally(cur, p.body, (p.options.type as LocalPatchType | undefined) ?? 'merge'), cur) ? 'no-op' : 'changes';
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    });
}

/**
 * Evaluates every rule of `rules` for every event it listens to, on each object of `objects` (and
 * as an update from each `olds` entry of the same key), once with whole objects and once with
 * objects trimmed for the whole rule set; expects equal plans (or equal errors) and equal patch
 * no-op decisions. Returns how many evaluations were compared. `reads` replaces what the rules
 * read, to show that the check fails when a read path is dropped.
 */
export async function expectSameOnTrimmed(rules: CompiledRule[], objects: KubeObject[], olds: KubeObject[] = [], reads = mergeReads(rules.map(readsOf))): Promise<number> {
  const trim = (o: KubeObject) => trimmed(reads, o);
  const trimmedObjects = objects.map(trim);
  const key = (o: KubeObject) => `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
  let compared = 0;
  for (const rule of rules) {
    for (const obj of objects) {
      if (obj.apiVersion !== rule.watch.apiVersion || obj.kind !== rule.watch.kind) continue;
      const previous = [undefined, ...olds.filter((o) => key(o) === key(obj))];
      for (const event of rule.on) {
        for (const old of event === 'update' ? previous : [undefined]) {
          const full = await outcome(rule, event, obj, old, objects);
          const small = await outcome(rule, event, trim(obj), old && trim(old), trimmedObjects);
          const what = `${rule.name} on ${event} of ${key(obj)}${old ? ' (update)' : ''}`;
          expect(small, what).to.deep.equal(full);
          expect(patchChanges(small, trimmedObjects), `${what}: patch no-op decisions`).to.deep.equal(patchChanges(full, objects));
          compared++;
        }
      }
    }
  }
  return compared;
}

/** Adds fields no rule of the tests reads, in spec, status and at the top, so trimming has something to drop. */
export function withNoise(obj: KubeObject): KubeObject {
  const noise = { unread: 'x'.repeat(64), nested: { list: [{ a: 1 }, { b: [1, 2, 3] }], flag: true } };
  const spec = obj.spec && typeof obj.spec === 'object' ? { ...(obj.spec as object), noise } : { noise };
  const status = obj.status && typeof obj.status === 'object' ? { ...(obj.status as object), noise } : obj.status;
  return { ...obj, spec, ...(status !== undefined ? { status } : {}), extra: { noise } } as KubeObject;
}
