/**
 * FailureBook: what is failing now, so every failing key is visible: the keys in retry per rule
 * (a gauge), the last error per rule (for a rule's status), and which (key, reason) pairs were
 * already reported (one Warning Event each, until the key recovers). Memory is bounded by the
 * keys failing now plus one entry per rule.
 */
import { splitKey } from './intake.js';
import type { Failure } from './outcome.js';

/** The last error of a rule. */
export interface LastError {
  reason: string;
  message: string;
  /** Clock ms. */
  at: number;
}

export class FailureBook {
  /** Keys waiting for a retry, by rule, with the reason of their last failure. */
  private readonly retrying = new Map<string, Map<string, string>>();
  private readonly last = new Map<string, LastError>();
  /** `key|reason` pairs already reported. */
  private readonly reported = new Set<string>();
  /** Reported pairs per key, to clear them together. */
  private readonly reportedOf = new Map<string, Set<string>>();

  /**
   * Records a failure of `key`; `retry`: the key will be tried again (it counts in the gauge).
   * Returns true when the key was not failing for this reason before (worth a log line).
   */
  failed(key: string, failure: Failure, now: number, retry: boolean): boolean {
    const [rule, objKey] = splitKey(key);
    this.last.set(rule, { reason: failure.reason, message: failure.message, at: now });
    const forRule = this.retrying.get(rule);
    const before = forRule?.get(objKey);
    if (retry) {
      if (forRule) forRule.set(objKey, failure.reason);
      else this.retrying.set(rule, new Map([[objKey, failure.reason]]));
    } else {
      this.dropRetry(rule, objKey);
    }
    return before !== failure.reason;
  }

  /** The key succeeded (or no longer applies): out of the gauge, and its reports may be made again. */
  recovered(key: string): void {
    const [rule, objKey] = splitKey(key);
    this.dropRetry(rule, objKey);
    const pairs = this.reportedOf.get(key);
    if (!pairs) return;
    for (const p of pairs) this.reported.delete(p);
    this.reportedOf.delete(key);
  }

  /** True the first time `reason` is reported for `key` since it last recovered. */
  reportOnce(key: string, reason: string): boolean {
    const pair = `${key}|${reason}`;
    if (this.reported.has(pair)) return false;
    this.reported.add(pair);
    const pairs = this.reportedOf.get(key);
    if (pairs) pairs.add(pair);
    else this.reportedOf.set(key, new Set([pair]));
    return true;
  }

  /** Whether the key waits for a retry. */
  isRetrying(key: string): boolean {
    const [rule, objKey] = splitKey(key);
    return this.retrying.get(rule)?.has(objKey) === true;
  }

  /** Keys waiting for a retry, per rule (rules with none are left out). */
  inRetry(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [rule, keys] of this.retrying) out[rule] = keys.size;
    return out;
  }

  /** The rule's last error, if it ever failed since it started. */
  lastError(rule: string): LastError | undefined {
    return this.last.get(rule);
  }

  /** Forgets a rule that stopped (removed, or restarting as a new version). */
  forgetRule(rule: string): void {
    this.retrying.delete(rule);
    this.last.delete(rule);
    const prefix = `${rule}|`;
    for (const [key, pairs] of this.reportedOf) {
      if (!key.startsWith(prefix)) continue;
      for (const p of pairs) this.reported.delete(p);
      this.reportedOf.delete(key);
    }
  }

  private dropRetry(rule: string, objKey: string): void {
    const forRule = this.retrying.get(rule);
    if (!forRule?.delete(objKey)) return;
    if (forRule.size === 0) this.retrying.delete(rule);
  }
}
