/**
 * trace-hub: fans decision traces out to whoever listens (the `/traces` WebSocket, tests).
 * Publishing costs one size check when nobody listens; traces are redacted once per publish.
 */
import type { ActionOutcome } from './metrics.js';
import { redact } from './redact.js';

/** The object a decision was about. */
export interface TraceObject {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** One action as it was executed. */
export interface ExecutedAction {
  /** The action's type or name, e.g. `patch`. */
  action: string;
  outcome: ActionOutcome;
  durationMs: number;
  /** The error's message when it failed (redacted). */
  error?: string;
}

/** One decision of one rule about one object: what it saw, decided and did. */
export interface DecisionTrace {
  /** RFC 3339 time of the decision. */
  time: string;
  rule: string;
  object: TraceObject;
  /** The event the rule saw: `create`, `update`, `delete`, `sync`, `resync`, `schedule`. */
  event: string;
  /** The condition's result; `error` when it could not be evaluated. */
  condition: boolean | 'error';
  /** The condition's error message when `condition` is `error`. */
  error?: string;
  /** The planned actions (the engine's plan, as data). */
  planned: unknown[];
  executed: ExecutedAction[];
  /** Evaluation plus execution, ms. */
  durationMs: number;
  /** With sharding: the replica that decided and the bucket of the key. */
  shard?: { replica: string; bucket: number };
}

/**
 * Receives published traces (already redacted) and a function giving their JSON text, built once
 * per trace however many listeners ask. Must not throw; a throw is swallowed.
 */
export type TraceListener = (trace: DecisionTrace, json: () => string) => void;

/** TraceHub: publish/subscribe of decision traces, synchronous and in-process. */
export class TraceHub {
  private readonly listeners = new Set<TraceListener>();

  /** Whether anyone listens; callers may skip building a trace when not. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  /** Hands `trace`, with secrets redacted, to every listener. Does nothing when nobody listens. */
  publish(trace: DecisionTrace): void {
    if (this.listeners.size === 0) return;
    const safe = redact(trace) as DecisionTrace;
    let text: string | undefined;
    const json = () => (text ??= JSON.stringify(safe));
    for (const listener of [...this.listeners]) {
      try {
        listener(safe, json);
      } catch {
        // A listener's failure is its own; the daemon's decisions go on.
      }
    }
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
