/** The rule set of the rule benchmarks: 50 rules on one namespace's ConfigMaps; rule i acts on bucket i. */
import { BUCKETS } from './load.js';

export const RULES = 50;

/** Rule i patches `metadata.annotations.seen` to `data.gen` on objects of bucket i that have not seen their gen yet. */
export function benchRules(namespace: string, count = RULES): string {
  return Array.from(
    { length: count },
    (_, i) => `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: bench-${String(i).padStart(2, '0')} }
spec:
  watch: { apiVersion: v1, kind: ConfigMap, namespaces: [${namespace}] }
  when: 'metadata.labels.bucket = "${i}" and $not(metadata.annotations.seen = data.gen)'
  limits: { actionsPerObjectPerMinute: 100000, maxActionsPerRun: 1000000 }
  actions:
    - patch: { patch: { metadata: { annotations: { seen: "{{ data.gen }}" } } } }
`,
  ).join('---\n');
}

/** Whether ConfigMap i is acted on by one of the rules (its bucket has a rule): 20% of objects. */
export const matches = (i: number): boolean => i % BUCKETS < RULES;
