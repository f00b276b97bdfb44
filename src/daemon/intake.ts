/**
 * Intake: the one owner of what stands between the informers and the queue. It holds the rule
 * index of each informer (RuleFanout), decides whether a change is worth queueing, keeps the
 * change pending per (rule, object) key (coalesced, with `$old`), runs sweeps and their
 * maxActionsPerRun budgets, schedules re-checks, and keeps the loop guard's books. The
 * controller only drains the queue and applies outcomes.
 *
 * Every method is synchronous and cheap (handlers call it on the informer's dispatch path).
 * What is queued never depends on whether anyone watches decision traces.
 */
import { type Clock, type KubeObject } from '../core/index.js';
import type { SharedInformer } from '../informers/index.js';
import type { RateLimitingQueue } from '../queue/index.js';
import { rejects, type RuleEvent } from '../engine/index.js';
import type { ActiveRule } from './active-rule.js';
import { coalesce, type PendingChange } from './coalesce.js';
import { LoopGuard } from './loop-guard.js';
import { RuleFanout } from './rule-fanout.js';

/** One sweep (sync, resync or schedule run) of a rule: counted against maxActionsPerRun. */
export interface SweepRun {
  event: RuleEvent;
  actions: number;
  stopped: boolean;
}

/** What a sweep's budget says of an evaluation planning `n` actions. */
export type SweepCharge = 'ok' | 'stopped' | 'limit-reached';

export interface IntakeOptions {
  queue: Pick<RateLimitingQueue, 'add' | 'addAfter' | 'cancelAfter'>;
  clock: Clock;
  /** Whether this replica keeps a key's changes (sharding: it holds the key's bucket or is to take it). Default: every key. */
  wants?: (key: string) => boolean;
}

/** A queue key of (rule, object): `rule|namespace/name`. */
export function queueKey(rule: string, objKey: string): string {
  return `${rule}|${objKey}`;
}

/** A queue key as its rule name and object key. */
export function splitKey(key: string): [rule: string, objKey: string] {
  const bar = key.indexOf('|');
  return [key.slice(0, bar), key.slice(bar + 1)];
}

export class Intake {
  /** The loop guard's books: changing writes per (rule, target) in the last minute. */
  readonly guard = new LoopGuard();
  /** Changes not yet processed, by queue key. */
  private readonly pending = new Map<string, PendingChange>();
  /** Re-checks asked for, by queue key: when, and the state they were asked on. */
  private readonly rechecks = new Map<string, { at: number; last: KubeObject }>();
  /** The current run of each kind of sweep, per rule; a new sweep of a kind replaces its run (and budget). */
  private readonly sweeps = new Map<string, Map<RuleEvent, SweepRun>>();
  /** One handler per informer, for all the rules watching through it. */
  private readonly fanouts = new Map<SharedInformer, RuleFanout>();

  constructor(private readonly o: IntakeOptions) {}

  /** Routes the events of the rule's informers to it (through each informer's rule index); returns the undo. */
  attach(active: ActiveRule): () => void {
    const undo: (() => void)[] = [];
    for (const inf of active.informers) {
      let fanout = this.fanouts.get(inf);
      if (!fanout) this.fanouts.set(inf, (fanout = new RuleFanout(inf, (r, obj, change, objKey, decidedFalse) => this.offer(r, obj, change, objKey, decidedFalse))));
      fanout.add(active);
      const joined = fanout;
      undo.push(() => {
        if (joined.remove(active)) this.fanouts.delete(inf);
      });
    }
    return () => {
      for (const u of undo) u();
      this.sweeps.delete(active.rule.name);
    };
  }

  /**
   * Records a change of `obj` for a rule and queues its key, unless the rule does not listen to
   * the event, or its condition is decided false on this (newest) state and no change of the key
   * is pending: the worker would read that same state and plan nothing. (A change skipped this
   * way counts as processed: a later update's `$old` is the state it left.)
   */
  offer(active: ActiveRule, obj: KubeObject, change: PendingChange, objKey = active.keyOf(obj), decidedFalse = false): void {
    const rule = active.rule;
    if (!rule.on.includes(change.event) && change.event !== 'delete') return;
    const key = queueKey(rule.name, objKey);
    if (this.o.wants && !this.o.wants(key)) return; // another replica's bucket
    const pending = this.pending.get(key);
    // A generate rule is always evaluated: a condition turned false means pruning what it generated.
    if (!pending && !rule.generate && (decidedFalse || rejects(rule, obj))) return;
    const merged = coalesce(pending, change);
    this.pending.set(key, merged);
    this.o.queue.add(key, { lane: merged.lane });
  }

  /**
   * The event path of changes that do not come from the rule's own informers (`dependency`: an
   * object its evaluation read changed): queues the key on the newest cached state of the object.
   */
  notify(active: ActiveRule, objKey: string, event: RuleEvent): void {
    const obj = active.current(objKey);
    if (obj) this.offer(active, obj, { event, last: obj, lane: 'live' }, objKey);
  }

  /** Every cached object of the rule is offered again with `event`, as a new sweep with a fresh budget. */
  sweep(active: ActiveRule, event: RuleEvent, namespace?: string, keys?: (key: string) => boolean): void {
    if (!active.rule.on.includes(event)) return;
    let runs = this.sweeps.get(active.rule.name);
    if (!runs) this.sweeps.set(active.rule.name, (runs = new Map()));
    runs.set(event, { event, actions: 0, stopped: false });
    for (const inf of active.informers) {
      for (const obj of inf.store.list()) {
        if (namespace !== undefined && obj.metadata?.namespace !== namespace) continue;
        const objKey = active.keyOf(obj);
        if (keys && !keys(queueKey(active.rule.name, objKey))) continue;
        this.offer(active, obj, { event, last: obj, lane: 'sweep', sweep: event }, objKey);
      }
    }
  }

  /**
   * Charges `n` planned actions to the rule's current `sweep` run: `ok`; `limit-reached` when they
   * would go over `limit` (the run stops now); `stopped` when the run had already stopped.
   */
  chargeSweep(rule: string, sweep: RuleEvent, n: number, limit: number): SweepCharge {
    const run = this.sweeps.get(rule)?.get(sweep);
    if (!run) return 'ok';
    if (run.stopped) return 'stopped';
    if (run.actions + n > limit) {
      run.stopped = true;
      return 'limit-reached';
    }
    run.actions += n;
    return 'ok';
  }

  /** Whether the rule's current `sweep` run has stopped (the rest of it is skipped). */
  sweepStopped(rule: string, sweep: RuleEvent): boolean {
    return this.sweeps.get(rule)?.get(sweep)?.stopped === true;
  }

  /**
   * Takes (removes and returns) the change pending for a key; when none is and the key's re-check
   * is due, a `recheck` change on the state it was asked on.
   */
  take(key: string): PendingChange | undefined {
    if (this.o.wants && !this.o.wants(key)) {
      // Its bucket moved away: the new owner sweeps it.
      this.pending.delete(key);
      this.rechecks.delete(key);
      return undefined;
    }
    const change = this.pending.get(key);
    if (change !== undefined) {
      this.pending.delete(key);
      return change;
    }
    const recheck = this.rechecks.get(key);
    if (recheck && recheck.at <= this.o.clock.now()) {
      this.rechecks.delete(key);
      return { event: 'recheck', last: recheck.last, lane: 'live' };
    }
    return undefined;
  }

  /** Queues again every key with a pending change that `keys` selects (a bucket just taken). */
  requeuePending(keys: (key: string) => boolean): void {
    for (const [key, change] of this.pending) if (keys(key)) this.o.queue.add(key, { lane: change.lane });
  }

  /** Puts a change back for a retry, merged under anything newer that arrived meanwhile. */
  putBack(key: string, change: PendingChange): void {
    const newer = this.pending.get(key);
    this.pending.set(key, newer ? coalesce(change, newer) : change);
  }

  /**
   * Schedules the one re-check of a key at `at` (clock ms), replacing any earlier request; the
   * key is added to the queue then, and evaluated with event `recheck`.
   */
  recheck(key: string, at: number, last: KubeObject, lane: PendingChange['lane'] = 'live'): void {
    this.rechecks.set(key, { at, last });
    this.o.queue.addAfter(key, at - this.o.clock.now(), { lane, replace: true });
  }

  /** Cancels the key's re-check (a newer evaluation replaced it). */
  cancelRecheck(key: string): void {
    if (this.rechecks.delete(key)) this.o.queue.cancelAfter(key);
  }

  /** When the key's re-check is due, if one is scheduled. */
  recheckAt(key: string): number | undefined {
    return this.rechecks.get(key)?.at;
  }

  /** How many re-checks are scheduled, per rule. */
  rechecksPerRule(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const key of this.rechecks.keys()) {
      const rule = splitKey(key)[0];
      out[rule] = (out[rule] ?? 0) + 1;
    }
    return out;
  }

  /** Whether a change of the key is pending. */
  hasPending(key: string): boolean {
    return this.pending.has(key);
  }

  /** The change pending for a key, without taking it (for tests and traces). */
  peek(key: string): PendingChange | undefined {
    return this.pending.get(key);
  }
}
