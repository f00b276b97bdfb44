/** hooks: what the controller reports as it works (metrics, traces), as an interface the daemon wires up. */
import type { ReconcileOutcome } from './outcome.js';
import type { DecisionTrace as HubTrace } from './trace-hub.js';

/** A decision trace (see trace-hub.ts), plus why planned actions were skipped, if they were. */
export type ControllerTrace = HubTrace & {
  skipped?: 'loop-guard' | 'max-actions-per-run';
  /** Why nothing was planned before the condition decided, e.g. `changes unchanged`. */
  filtered?: string;
};

/** Callbacks of the controller; every one is optional. */
export interface ControllerHooks {
  evaluated?(rule: string, result: 'match' | 'nomatch' | 'error'): void;
  action?(rule: string, action: string, outcome: string): void;
  ruleError?(rule: string, kind: string): void;
  /** The circuit breaker suspended a rule (true) or its suspension ended (false). */
  ruleSuspended?(rule: string, suspended: boolean): void;
  /** A key's processing failed: how it is handled and the failure's reason (`Invalid`, `NetworkError`…). */
  failure?(rule: string, outcome: 'transient' | 'forbidden' | 'terminal', reason: string): void;
  retriesExhausted?(rule: string): void;
  /** What processing a `rule|object` key came to (a rule's status keeps the keys failing now). */
  settled?(key: string, outcome: ReconcileOutcome): void;
  loopGuard?(rule: string): void;
  ruleActivated?(rule: string): void;
  /** Every cache of an active rule has its first listing (a rule's status turns Ready then). */
  ruleSynced?(rule: string): void;
  /** A generated object was not written: another rule generated it. */
  generateConflict?(rule: string): void;
  /** Generated objects of rules not loaded, found at start-up (rule → count). */
  generatedOrphans?(byRule: Record<string, number>): void;
  trace?(trace: ControllerTrace): void;
  /** Whether anyone consumes traces now; when false, traces are not finished or published. Default: yes. */
  tracing?(): boolean;
}
