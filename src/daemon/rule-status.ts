/**
 * rule-status: writes the status of rule objects (ClusterRule, Rule) through their `/status`
 * subresource: only the leader writes, at most once per `minIntervalMs` (5 s) per rule, and only
 * when the status it would write differs from the one on the server (or last written). The first
 * write of a generation (a new rule, an edited one) is not held back by the previous write: it
 * answers the user's change. A rule loading or syncing is written when that ends (its caches'
 * first listings tell it, `touch`), or once it has lasted `startingGraceMs`. What goes
 * in it is rule-conditions.ts's; this file keeps the books (counters, objects failing) and the
 * timing. Counting is a map lookup and an increment: evaluations stay cheap with many rules.
 */
import { errorMessage, type Clock, type KubeObject, type Logger, type TimerHandle } from '../core/index.js';
import { isNotFound, type KubeClient } from '../client/index.js';
import type { RuleLoadError } from '../engine/index.js';
import { splitKey } from './intake.js';
import type { ReconcileOutcome } from './outcome.js';
import { desiredStatus, invalidRuleMessage, isStarting, isWaiting, sameStatus, type RuleCounters, type RuleObjectStatus } from './rule-conditions.js';
import type { RuleState } from './rule-registry.js';

/** Whether a rule name is a rule object's identity (`ClusterRule/…`, `Rule/…/…`); names of other rules have no slash. */
export const isRuleObject = (rule: string): boolean => rule.startsWith('ClusterRule/') || rule.startsWith('Rule/');

export interface RuleStatusOptions {
  client: KubeClient;
  clock: Clock;
  logger: Logger;
  /** Whether this replica writes (the leader). */
  isLeader(): boolean;
  /** The newest cached state of a rule object, by identity. */
  object(identity: string): KubeObject | undefined;
  /** The rule's state in the registry. */
  ruleState(identity: string): RuleState | undefined;
  /** Least time between two writes of one rule's status, ms. Default 5000. */
  minIntervalMs?: number;
  /** How often a waiting rule (kind not served, first sync) is looked at again, ms. Default 1000. */
  waitingPollMs?: number;
  /** How long loading or a first sync may last before the status says so, ms. Default 2000. */
  startingGraceMs?: number;
  /** Send writes with dryRun=All. */
  dryRun?: boolean;
  /** Never write (client dry-run). */
  readOnly?: boolean;
  /** A status was written (for a metric), or failed to be. */
  written?(identity: string): void;
  writeFailed?(identity: string): void;
}

interface Entry {
  uid: string;
  counters: RuleCounters;
  /** Objects whose last processing failed for good or was forbidden: object key → failure. */
  failing: Map<string, { reason: string; message: string }>;
  newestFailing?: { reason: string; message: string };
  load?: { generation: number; invalid?: string; kept: boolean };
  lastWriteAt: number;
  /** The status this replica last wrote while leading (the cache may not show it yet). */
  lastWritten?: RuleObjectStatus;
  timer?: TimerHandle;
  /** When the timer fires (clock ms). */
  timerDue?: number;
  writing: boolean;
  /** Looked at while a write was under way: looked at again once it ends. */
  again?: boolean;
  /** After a failed write: no write before (clock ms), whatever the generation. */
  retryAt?: number;
  /** Since when its status says only that it is loading or syncing (clock ms). */
  startingSince?: number;
  /** The last write failure reported (each new reason is logged once). */
  reported?: string;
}

/**
 * How often a rule that is loading or syncing is looked at, within its grace: a safety net, the
 * touches that say it is done (activated, caches synced) have it looked at at once.
 */
const STARTING_POLL_MS = 200;

export class RuleStatusWriter {
  private readonly entries = new Map<string, Entry>();
  private readonly interval: number;
  private stopped = false;

  constructor(private readonly o: RuleStatusOptions) {
    this.interval = o.minIntervalMs ?? 5000;
  }

  /** After each reload: what the loader made of each rule object (`texts`: the source it read, by identity). */
  loaded(objects: Iterable<[string, KubeObject]>, errors: RuleLoadError[], kept: string[], texts: ReadonlyMap<string, { text: string; generation: number }>): void {
    const live = new Set<string>();
    for (const [id, obj] of objects) {
      live.add(id);
      const entry = this.entryOf(id, obj);
      const read = texts.get(id);
      if (!read) continue; // came after the reload began: the next one reads it
      const mine = errors.filter((e) => e.location.file === id);
      const invalid = mine.length > 0 ? invalidRuleMessage(mine, read.text) : undefined;
      const load = { generation: read.generation, ...(invalid !== undefined ? { invalid } : {}), kept: kept.includes(id) };
      if (entry.load && entry.load.generation !== load.generation) this.restarted(entry);
      entry.load = load;
      this.touch(id);
    }
    for (const [id, e] of this.entries) {
      if (live.has(id)) continue;
      if (e.timer) this.o.clock.clearTimer(e.timer);
      this.entries.delete(id);
    }
  }

  /** Something of the rule changed (activated, object's metadata): look at its status soon. */
  touch(identity: string): void {
    const e = this.entries.get(identity);
    if (e) this.schedule(identity, e);
  }

  /** This replica started leading: what the previous leader wrote is on the server; every status is looked at. */
  leading(): void {
    for (const [id, e] of this.entries) {
      e.lastWritten = undefined;
      this.schedule(id, e);
    }
  }

  evaluated(rule: string): void {
    const e = this.entries.get(rule);
    if (!e) return;
    e.counters.evaluations++;
    e.counters.lastEvaluationAt = this.o.clock.now();
    this.schedule(rule, e);
  }

  action(rule: string, outcome: string): void {
    const e = this.entries.get(rule);
    if (!e) return;
    if (outcome === 'done') e.counters.actionsSucceeded++;
    else if (outcome === 'failed') e.counters.actionsFailed++;
    else return;
    this.schedule(rule, e);
  }

  /** A key's outcome: failing for good (or forbidden) until it settles otherwise. */
  settled(key: string, outcome: ReconcileOutcome): void {
    const [rule, objKey] = splitKey(key);
    const e = this.entries.get(rule);
    if (!e) return;
    if (outcome.kind === 'transient') return; // retried: said once it fails for good
    if (outcome.kind === 'terminal' || outcome.kind === 'forbidden') {
      e.counters.lastError = outcome.failure.message;
      const f = { reason: outcome.failure.reason, message: outcome.failure.message };
      e.failing.set(objKey, f);
      e.newestFailing = f;
    } else if (e.failing.delete(objKey) && e.failing.size === 0) {
      e.newestFailing = undefined;
    }
    this.schedule(rule, e);
  }

  /** The status this replica would write now (for tests and the bench). */
  desired(identity: string): RuleObjectStatus | undefined {
    const e = this.entries.get(identity);
    const obj = this.o.object(identity);
    if (!e?.load || !obj) return undefined;
    const failing = e.newestFailing && { ...e.newestFailing, objects: e.failing.size };
    const inputs = {
      generation: e.load.generation,
      ...(e.load.invalid !== undefined ? { invalid: e.load.invalid, kept: e.load.kept } : {}),
      rule: this.o.ruleState(identity),
      ...(failing ? { failing } : {}),
      counters: e.counters,
    };
    return desiredStatus(inputs, e.lastWritten ?? (obj as { status?: unknown }).status, this.o.clock.now());
  }

  stop(): void {
    this.stopped = true;
    for (const e of this.entries.values()) if (e.timer) this.o.clock.clearTimer(e.timer);
  }

  private entryOf(id: string, obj: KubeObject): Entry {
    const uid = obj.metadata?.uid ?? '';
    const e = this.entries.get(id);
    if (e && e.uid === uid) return e;
    if (e?.timer) this.o.clock.clearTimer(e.timer);
    const fresh: Entry = { uid, counters: { evaluations: 0, actionsSucceeded: 0, actionsFailed: 0 }, failing: new Map(), lastWriteAt: -Infinity, writing: false };
    this.entries.set(id, fresh);
    return fresh;
  }

  /** A new version of the rule runs: its failures so far were the old version's. */
  private restarted(e: Entry): void {
    e.failing.clear();
    e.newestFailing = undefined;
    e.startingSince = undefined;
  }

  /**
   * Arms the rule's one timer: at once, or when its interval since the last write has passed (not
   * for a generation the status does not show yet: its first write goes at once). An armed timer
   * is moved earlier when this asks for sooner.
   */
  private schedule(id: string, e: Entry, atLeastMs = 0): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const limited = this.showsGeneration(id, e) ? e.lastWriteAt + this.interval - now : 0;
    const at = Math.max(now + Math.max(atLeastMs, limited, 0), e.retryAt ?? -Infinity);
    if (e.timer) {
      if (e.timerDue !== undefined && e.timerDue <= at) return;
      this.o.clock.clearTimer(e.timer);
    }
    e.timerDue = at;
    e.timer = this.o.clock.setTimer(() => {
      e.timer = undefined;
      e.timerDue = undefined;
      void this.flush(id, e);
    }, at - now);
  }

  /** Whether the status on the server (or last written) is of the generation loaded. */
  private showsGeneration(id: string, e: Entry): boolean {
    if (!e.load) return true;
    const shown = e.lastWritten ?? (this.o.object(id) as { status?: { observedGeneration?: unknown } } | undefined)?.status;
    return shown?.observedGeneration === e.load.generation;
  }

  private async flush(id: string, e: Entry): Promise<void> {
    if (this.stopped || this.entries.get(id) !== e || !this.o.isLeader() || this.o.readOnly) return;
    if (e.writing) {
      e.again = true;
      return;
    }
    const obj = this.o.object(id);
    const want = this.desired(id);
    if (!obj || !want) return;
    // Loading and a first sync are usually over in a moment: said only when they last, so the
    // next write (5 s later at the earliest) is not what makes a new rule show Ready late.
    const now = this.o.clock.now();
    if (isStarting(want)) e.startingSince ??= now;
    else e.startingSince = undefined;
    if (e.startingSince !== undefined && now - e.startingSince < (this.o.startingGraceMs ?? 2000)) return this.schedule(id, e, STARTING_POLL_MS);
    try {
      await this.write(id, e, obj, want);
    } finally {
      // A wait (kind not served, first sync) ends without an event of the rule: look again.
      if (isWaiting(want)) this.schedule(id, e, this.o.waitingPollMs ?? 1000);
    }
  }

  private async write(id: string, e: Entry, obj: KubeObject, want: RuleObjectStatus): Promise<void> {
    if (sameStatus(want, e.lastWritten ?? (obj as { status?: unknown }).status)) return;
    e.writing = true;
    e.lastWriteAt = this.o.clock.now();
    try {
      const target = { apiVersion: String(obj.apiVersion), kind: String(obj.kind), name: obj.metadata?.name ?? '', ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}) };
      // The uid makes the write fail on a namesake created since (its own status is written next).
      await this.o.client.patch(target, { metadata: { uid: e.uid }, status: want }, { type: 'merge', subresource: 'status', fieldManager: 'reflex', dryRun: this.o.dryRun ?? false });
      e.lastWritten = want;
      e.reported = undefined;
      e.retryAt = undefined;
      this.o.written?.(id);
    } catch (err) {
      e.lastWritten = undefined;
      if (isNotFound(err)) return;
      this.o.writeFailed?.(id);
      const why = errorMessage(err);
      if (e.reported !== why) this.o.logger.warn('could not write the status of a rule; will try again', { rule: id, error: why });
      e.reported = why;
      e.retryAt = this.o.clock.now() + this.interval;
      this.schedule(id, e);
    } finally {
      e.writing = false;
      if (e.again) {
        e.again = false;
        this.schedule(id, e);
      }
    }
  }
}
