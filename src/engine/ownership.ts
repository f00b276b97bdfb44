/** ownership: the label and annotation on every object Reflex creates or applies. */
import type { KubeObject } from '../core/index.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'reflex';
export const RULE_ANNOTATION = 'reflex.dev/rule';

/** A copy of `obj` with the ownership label and the rule annotation. */
export function stampOwnership<T extends KubeObject>(obj: T, rule: string): T {
  const metadata = { ...(obj.metadata ?? {}) };
  metadata.labels = { ...(metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  metadata.annotations = { ...(metadata.annotations ?? {}), [RULE_ANNOTATION]: rule };
  return { ...obj, metadata };
}
