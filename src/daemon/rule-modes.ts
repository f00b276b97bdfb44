/**
 * rule-modes: the configuration's `rules.audit` (rule names run in audit mode whatever their
 * documents say), applied to the rules before the controller gets them. A rule's audited copy is
 * made once per compiled rule, so an unchanged rule stays the same object across reloads (the
 * controller tells changed rules by identity).
 */
import type { CompiledRule } from '../engine/index.js';

/** Maps loaded rules to the rules to run: those named in `audit` with mode `audit`. */
export function auditOverride(audit: readonly string[]): (rules: Map<string, CompiledRule>) => Map<string, CompiledRule> {
  if (audit.length === 0) return (rules) => rules;
  const names = new Set(audit);
  const copies = new WeakMap<CompiledRule, CompiledRule>();
  const audited = (rule: CompiledRule): CompiledRule => {
    if (rule.mode === 'audit') return rule;
    let copy = copies.get(rule);
    if (!copy) copies.set(rule, (copy = { ...rule, mode: 'audit' }));
    return copy;
  };
  return (rules) => new Map([...rules].map(([name, rule]) => [name, names.has(name) ? audited(rule) : rule]));
}
