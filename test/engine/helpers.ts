/** Helpers of the engine tests: load rules from text, and build objects. */
import { FakeClock, type KubeObject } from '../../src/core/index.js';
import { loadRules, type CompiledRule, type ObjectLister } from '../../src/engine/index.js';

/** Loads one rule from YAML text; throws with every problem when it does not load. */
export function ruleFrom(text: string): CompiledRule {
  const { rules, errors } = loadRules([{ file: 'rule.yaml', text }]);
  if (errors.length > 0 || rules.length !== 1) throw new Error(`rule did not load: ${errors.map(String).join('\n')}`);
  return rules[0];
}

/** A rule document around `spec` (YAML indented by 2 under `spec:`). */
export function ruleText(name: string, spec: string): string {
  return `apiVersion: reflex.dev/v1alpha1\nkind: ClusterRule\nmetadata:\n  name: ${name}\nspec:\n${spec.replace(/^\n/, '').replace(/^/gm, '  ')}\n`;
}

/** The load errors of `text` as `file:line:col: message` strings. */
export function problems(text: string, file = 'rule.yaml'): string[] {
  return loadRules([{ file, text }]).errors.map((e) => `${e.location.file}:${e.location.line}:${e.location.column}: ${e.reason}`);
}

export const T0 = Date.parse('2026-03-10T12:00:00Z');
export const clock = () => new FakeClock(T0);

/** A lister over a fixed set of objects. */
export function listerOf(objects: KubeObject[]): ObjectLister {
  return {
    get: (apiVersion, kind, namespace, name) =>
      objects.find((o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata?.name === name && o.metadata?.namespace === namespace),
    list: (apiVersion, kind, namespace) =>
      objects.filter((o) => o.apiVersion === apiVersion && o.kind === kind && (namespace === undefined || o.metadata?.namespace === namespace)),
  };
}

export const pod = (name: string, extra: Partial<KubeObject> & { labels?: Record<string, string>; namespace?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: extra.namespace ?? 'default', uid: `uid-${name}`, labels: extra.labels ?? {} },
  ...(extra.spec ? { spec: extra.spec } : {}),
  ...(extra.status ? { status: extra.status } : {}),
});

/** Nine levels of nine aliases inside an action: 9^9 strings once expanded, under a kilobyte of YAML. */
export function aliasBomb(name = 'bomb'): string {
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  return ruleText(name, `watch: { apiVersion: v1, kind: ConfigMap }\nactions:\n  - patch:\n      patch:\n        data:\n${levels.map((l) => `          ${l}`).join('\n')}`);
}
