/**
 * RuleBreaker: the circuit breaker of runaway rules. An evaluation that runs out of its time
 * budget, goes past the depth limit or past an evaluation limit (docs/rules.md, "Limits") costs
 * up to a whole budget, and a rule that does it on every object would spend the daemon's time on
 * nothing else (300 objects: 300 budgets). After `threshold` such overruns of one rule within
 * `windowMs`, the breaker opens: the rule is suspended for `cooldownMs` (its keys are dropped
 * without evaluation), which the controller reports once (Warning Event, log, metric). When the
 * cool-down ends the rule is closed again and swept (every cached object evaluated as `sync`),
 * so nothing it skipped is lost; one more run of overruns opens it again, for twice as long (up
 * to an hour). A change of the rule closes it at once.
 */
import type { Clock, TimerHandle } from '../core/index.js';
import { EvalErrorCode, RuleEvaluationError } from '../engine/index.js';

export interface RuleBreakerOptions {
  clock: Clock;
  /** Overruns within `windowMs` that open the breaker. Default 3. */
  threshold?: number;
  /** Default 60 s. */
  windowMs?: number;
  /** First suspension, ms; doubled each time it opens again, up to an hour. Default 5 min. */
  cooldownMs?: number;
  /** A suspension's cool-down ended (the controller sweeps the rule). */
  onClosed?: (rule: string) => void;
}

/** Why a rule was suspended, and until when (clock ms). */
export interface Suspension {
  rule: string;
  until: number;
  /** One line: the overruns and the last one's error. */
  message: string;
}

const OVERRUNS = new Set<string>([EvalErrorCode.timeout, EvalErrorCode.depth, EvalErrorCode.limit]);
const MAX_COOLDOWN_MS = 3_600_000;

/** Whether `err` is an evaluation that ran out of time, went too deep or past a size limit. */
export function isOverrun(err: unknown): err is RuleEvaluationError {
  return err instanceof RuleEvaluationError && OVERRUNS.has(err.code ?? '');
}

export class RuleBreaker {
  private readonly threshold: number;
  private readonly windowMs: number;
  private readonly cooldownMs: number;
  private readonly overruns = new Map<string, number[]>();
  private readonly open = new Map<string, Suspension>();
  /** How many times each rule was suspended since it last changed. */
  private readonly trips = new Map<string, number>();
  private readonly timers = new Map<string, TimerHandle>();

  constructor(private readonly o: RuleBreakerOptions) {
    this.threshold = o.threshold ?? 3;
    this.windowMs = o.windowMs ?? 60_000;
    this.cooldownMs = o.cooldownMs ?? 300_000;
  }

  /** The suspension of `rule` while it lasts. */
  suspended(rule: string): Suspension | undefined {
    return this.open.get(rule);
  }

  /**
   * Records a failed evaluation of `rule`; the new Suspension when this overrun opens the
   * breaker, undefined otherwise (not an overrun, not enough of them, or already open).
   * `scrub` takes out of the error's message what it may not say (values read from Secrets).
   */
  failed(rule: string, err: unknown, scrub: (text: string) => string = (t) => t): Suspension | undefined {
    if (!isOverrun(err) || this.open.has(rule)) return undefined;
    const now = this.o.clock.now();
    const times = (this.overruns.get(rule) ?? []).filter((t) => now - t < this.windowMs);
    times.push(now);
    this.overruns.set(rule, times);
    if (times.length < this.threshold) return undefined;
    const trips = (this.trips.get(rule) ?? 0) + 1;
    this.trips.set(rule, trips);
    const cooldown = Math.min(MAX_COOLDOWN_MS, this.cooldownMs * 2 ** (trips - 1));
    const s: Suspension = {
      rule,
      until: now + cooldown,
      message:
        `rule ${rule} suspended for ${Math.round(cooldown / 1000)} s: ${times.length} evaluations within ${Math.round(this.windowMs / 1000)} s ` +
        `ran out of their budget or past an evaluation limit; the last: ${scrub(err.message)}`,
    };
    this.overruns.delete(rule);
    this.open.set(rule, s);
    this.timers.set(
      rule,
      this.o.clock.setTimer(() => {
        this.timers.delete(rule);
        this.open.delete(rule);
        this.o.onClosed?.(rule);
      }, cooldown),
    );
    return s;
  }

  /** The rule changed or went: its suspension and history go with it. True when it was suspended. */
  forget(rule: string): boolean {
    const timer = this.timers.get(rule);
    if (timer) this.o.clock.clearTimer(timer);
    this.timers.delete(rule);
    this.overruns.delete(rule);
    this.trips.delete(rule);
    return this.open.delete(rule);
  }

  /** Cancels every cool-down timer (shutdown). */
  stop(): void {
    for (const timer of this.timers.values()) this.o.clock.clearTimer(timer);
    this.timers.clear();
  }
}
