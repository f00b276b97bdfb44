/** ownership (shared by the engine's plans and the actions' writes): every object Reflex creates or applies carries the managed-by label and the rule annotation. */
import type { KubeObject } from './object.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'reflex';
export const RULE_ANNOTATION = 'reflex.dev/rule';

/** A copy of `obj` with the ownership label and the rule annotation for `rule` (idempotent). */
export function stampOwnership<T extends KubeObject>(obj: T, rule: string): T {
  const metadata = { ...(obj.metadata ?? {}) };
  metadata.labels = { ...(metadata.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  metadata.annotations = { ...(metadata.annotations ?? {}), [RULE_ANNOTATION]: rule };
  return { ...obj, metadata };
}

/** The field manager of a rule's writes. */
export const fieldManagerFor = (rule: string): string => `reflex/${rule}`.slice(0, 128);
