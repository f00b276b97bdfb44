/** hooks: what the controller reports as it works (metrics, traces), as an interface the daemon wires up. */
import type { PlannedAction, RuleEvent } from '../engine/index.js';

/** One decision of the controller: rule, object, event, condition, planned and executed actions, duration. */
export interface DecisionTrace {
  time: string;
  rule: string;
  object: { apiVersion: string; kind: string; namespace?: string; name: string };
  event: RuleEvent;
  /** Whether `when` (and the selectors) held; `error` when evaluation failed. */
  condition: boolean | 'error';
  planned: PlannedAction[];
  executed: { action: string; outcome: string; error?: string }[];
  /** Why planned actions did not run, if they did not. */
  skipped?: 'loop-guard' | 'max-actions-per-run';
  error?: string;
  durationMs: number;
}

/** Callbacks of the controller; every one is optional. */
export interface ControllerHooks {
  evaluated?(rule: string, result: 'match' | 'nomatch' | 'error'): void;
  action?(rule: string, action: string, outcome: string): void;
  ruleError?(rule: string, kind: string): void;
  retriesExhausted?(rule: string): void;
  loopGuard?(rule: string): void;
  ruleActivated?(rule: string): void;
  trace?(trace: DecisionTrace): void;
}
