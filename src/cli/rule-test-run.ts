/**
 * rule-test-run: runs one RuleTest against compiled rules, offline. The objects are the whole
 * cluster (as in `reflex dry-run`); each step changes it or the clock, presents the events the
 * daemon would see to every rule, and compares the planned actions with the step's expectation.
 */
import { FakeClock, objectKey, ReflexError, type KubeObject } from '../core/index.js';
import { objectIdentity, refOf, RuleEvaluationError, sortPlan, type CompiledRule, type Plan, type PlannedRef, type RuleEvent } from '../engine/index.js';
import { DependencyIndex, type Reads } from '../daemon/index.js';
import { generatedIn, planOffline, planTrigger, watchedObjects } from './dry-run.js';
import { OfflineCluster } from './offline-cluster.js';
import type { Expectation, RuleTest, Step } from './rule-test-format.js';
import { planDifference } from './rule-test-match.js';

/** The outcome of one RuleTest: passed, or the first difference (naming the step). */
export interface RuleTestResult {
  test: RuleTest;
  passed: boolean;
  /** Which step failed (`initial sync`, `step 2 (advance 2h)`) and how. */
  failure?: string;
  /** How many steps ran, the initial sync included. */
  steps: number;
}

/** A step that cannot run (an update of a missing object, a rule without a schedule…). */
export class RuleTestStepError extends ReflexError {
  constructor(message: string) {
    super(message, { code: 'ERR_RULE_TEST_STEP' });
  }
}

/** Most cron firings and re-checks walked through in one `advance`; beyond it the step fails instead of spinning. */
const MAX_FIRINGS_PER_ADVANCE = 100_000;

/** A re-check waiting: the (rule, object) is evaluated again at `at` with event `recheck`. */
interface PendingRecheck {
  rule: CompiledRule;
  /** The object's identity; its state is read from the cluster when the re-check fires. */
  ref: KubeObject;
  at: number;
}

const refIdentity = (r: PlannedRef) => `${r.apiVersion}|${r.kind}|${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
const identity = (o: KubeObject) => refIdentity(refOf(o));

/** The simulated cluster and clock of one RuleTest. */
class Simulation {
  private objects: KubeObject[];
  private now: number;
  /** One pending re-check per (rule, object), replaced by each evaluation, as in the daemon. */
  private readonly rechecks = new Map<string, PendingRecheck>();

  constructor(
    private readonly rules: CompiledRule[],
    private readonly start: number,
    objects: KubeObject[],
  ) {
    this.objects = new OfflineCluster(objects).objects;
    this.now = start;
  }

  /**
   * Planned actions are not executed, so what a generate rule generated is modelled: the objects
   * it declared for a trigger the last time it was evaluated (and any such objects in the test's
   * objects). A later evaluation that declares fewer plans their prunes.
   */
  private inventoryHooks() {
    const key = (rule: CompiledRule, trigger: KubeObject) => `${rule.name}|${trigger.apiVersion}|${trigger.kind}|${objectKey(trigger)}`;
    return {
      generated: (rule: CompiledRule, trigger: KubeObject) => {
        const all = [...generatedIn(this.cluster())(rule, trigger), ...(this.inventory.get(key(rule, trigger)) ?? [])];
        const seen = new Set<string>();
        return all.filter((o) => !seen.has(objectIdentity(refOf(o))) && seen.add(objectIdentity(refOf(o))));
      },
      declared: (rule: CompiledRule, trigger: KubeObject, plan: Plan) => {
        if (plan.length === 0) this.inventory.delete(key(rule, trigger));
        else this.inventory.set(key(rule, trigger), plan.map((p) => p.body as KubeObject));
      },
      reads: (rule: CompiledRule, trigger: KubeObject, reads: Reads) => this.dependencies.record(key(rule, trigger), reads),
    };
  }

  private readonly inventory = new Map<string, KubeObject[]>();
  /** What each (rule, trigger) read, so a change of a read object presents it again with `dependency`, as the daemon does. */
  private readonly dependencies = new DependencyIndex();

  /** The evaluations a change of `obj` (from `old`) causes through dependencies: event `dependency` on each trigger that read it. */
  private async dependents(obj: KubeObject, old: KubeObject | undefined): Promise<Plan> {
    const keys = this.dependencies.dependents(String(obj.apiVersion), String(obj.kind), obj, old);
    if (keys.size === 0) return [];
    const cluster = this.cluster();
    const context = { clock: new FakeClock(this.now), lister: cluster, scopeOf: cluster.scopeOf };
    const plan: Plan = [];
    for (const rule of this.rules) {
      if (!rule.on.includes('dependency')) continue;
      for (const trigger of watchedObjects(rule, cluster)) {
        if (!keys.has(`${rule.name}|${trigger.apiVersion}|${trigger.kind}|${objectKey(trigger)}`)) continue;
        const evaluation = await planTrigger(rule, 'dependency', trigger, undefined, context, { cluster, ...this.inventoryHooks() });
        plan.push(...evaluation.plan);
        this.noteRecheck(rule, trigger, evaluation.recheckAt);
      }
    }
    return plan;
  }

  private cluster(): OfflineCluster {
    return new OfflineCluster(this.objects);
  }

  /** An object as the cluster stores it (default namespace filled in for namespaced kinds). */
  private normalize(o: KubeObject): KubeObject {
    return new OfflineCluster([...this.objects, o]).objects.at(-1) as KubeObject;
  }

  private indexOf(o: KubeObject): number {
    return this.objects.findIndex((x) => identity(x) === identity(o));
  }

  /** Records what an evaluation of `rule` on `obj` asked for: a new pending re-check, or none. */
  private noteRecheck(rule: CompiledRule, obj: KubeObject, at: number | undefined): void {
    const key = `${rule.name}|${identity(obj)}`;
    if (at === undefined) this.rechecks.delete(key);
    else this.rechecks.set(key, { rule, ref: obj, at });
  }

  private async sweep(rules: CompiledRule[], event: RuleEvent, at: number): Promise<Plan> {
    const run = await planOffline(rules, this.cluster(), { event, clock: new FakeClock(at), ...this.inventoryHooks() });
    if (run.problems.length > 0) throw new RuleTestStepError(run.problems.join('; '));
    const cluster = this.cluster();
    for (const rule of rules) {
      if (!rule.on.includes(event) || rule.suspend) continue;
      for (const obj of watchedObjects(rule, cluster)) {
        const r = run.rechecks.find((x) => x.rule === rule.name && refIdentity(x.object) === identity(obj));
        this.noteRecheck(rule, obj, r?.at);
      }
    }
    return run.plan;
  }

  /** Presents one event to every rule listening to it (the daemon queues nothing for the others). */
  private async present(event: RuleEvent, obj: KubeObject, old: KubeObject | undefined, rules = this.rules): Promise<Plan> {
    const cluster = this.cluster();
    const context = { clock: new FakeClock(this.now), lister: cluster, scopeOf: cluster.scopeOf };
    const plan: Plan = [];
    for (const rule of rules) {
      if (!rule.on.includes(event)) continue;
      const evaluation = await planTrigger(rule, event, obj, old, context, { cluster, ...this.inventoryHooks() });
      plan.push(...evaluation.plan);
      if (event === 'delete') this.noteRecheck(rule, obj, undefined);
      else this.noteRecheck(rule, obj, evaluation.recheckAt);
    }
    // A re-check changes no object: nothing that read it is presented again.
    if (event !== 'recheck') plan.push(...(await this.dependents(obj, old)));
    return sortPlan(plan);
  }

  /** The initial listing: every object with `sync`. */
  initialSync(): Promise<Plan> {
    return this.sweep(this.rules, 'sync', this.now);
  }

  async step(step: Step): Promise<Plan> {
    switch (step.op) {
      case 'create': {
        const obj = this.normalize(step.object);
        if (this.indexOf(obj) >= 0) throw new RuleTestStepError(`${step.title}: it already exists; use update`);
        this.objects = [...this.objects, obj];
        return this.present('create', obj, undefined);
      }
      case 'update': {
        const obj = this.normalize(step.object);
        const i = this.indexOf(obj);
        if (i < 0) throw new RuleTestStepError(`${step.title}: it does not exist; create it first`);
        const old = this.objects[i];
        this.objects = this.objects.map((x, j) => (j === i ? obj : x));
        return this.present('update', obj, old);
      }
      case 'delete': {
        const probe = this.normalize({ apiVersion: step.ref.apiVersion, kind: step.ref.kind, metadata: { name: step.ref.name, namespace: step.ref.namespace } });
        const i = this.indexOf(probe);
        if (i < 0) throw new RuleTestStepError(`${step.title}: it does not exist`);
        const last = this.objects[i];
        this.objects = this.objects.filter((_, j) => j !== i);
        // The object went: its re-checks go with it, whether or not a rule listens to delete.
        for (const [key, r] of this.rechecks) if (identity(r.ref) === identity(last)) this.rechecks.delete(key);
        return this.present('delete', last, undefined);
      }
      case 'advance':
        return this.advance(step.ms);
      case 'tick': {
        const rules = this.rules.filter((r) => r.schedule && (step.rule === undefined || r.name === step.rule));
        if (step.rule !== undefined && rules.length === 0) throw new RuleTestStepError(`${step.title}: no rule "${step.rule}" with a schedule in this test`);
        return this.sweep(rules, 'schedule', this.now);
      }
    }
  }

  /**
   * Moves the clock by `ms`, walking through what falls due on the way in time order. A pending
   * re-check due on the way fires at its time (with `recheck`, on the object's state then), and
   * the re-check it asks for in turn fires too if due before the end. A rule whose resync period
   * ends on the way (periods count from the test's start) sweeps once with `resync`, at the last
   * such boundary; a rule whose cron fires on the way sweeps once with `schedule`, at the last
   * firing. (The daemon would sweep at each; since planned actions are not executed, the newest
   * sweep is the one that tells.)
   */
  private async advance(ms: number): Promise<Plan> {
    const before = this.now;
    const after = before + ms;
    const sweeps: { at: number; rule: CompiledRule; event: RuleEvent }[] = [];
    for (const rule of this.rules) {
      if (rule.resyncMs) {
        const k = Math.floor((after - this.start) / rule.resyncMs);
        if (k > Math.floor((before - this.start) / rule.resyncMs)) sweeps.push({ at: this.start + k * rule.resyncMs, rule, event: 'resync' });
      }
      if (rule.schedule) {
        let last: number | undefined;
        let next = rule.schedule.next(before);
        for (let n = 0; next <= after; n++) {
          if (n >= MAX_FIRINGS_PER_ADVANCE) throw new RuleTestStepError(`rule "${rule.name}" fires more than ${MAX_FIRINGS_PER_ADVANCE} times in this advance; advance less`);
          last = next;
          next = rule.schedule.next(next);
        }
        if (last !== undefined) sweeps.push({ at: last, rule, event: 'schedule' });
      }
    }
    sweeps.sort((a, b) => a.at - b.at);
    const plan: Plan = [];
    for (let n = 0; ; n++) {
      if (n >= MAX_FIRINGS_PER_ADVANCE) throw new RuleTestStepError(`more than ${MAX_FIRINGS_PER_ADVANCE} re-checks fall due in this advance; advance less`);
      const recheck = this.nextRecheck(after);
      const sweep = sweeps[0];
      if (!recheck && !sweep) break;
      if (sweep && (!recheck || sweep.at <= recheck.at)) {
        sweeps.shift();
        this.now = sweep.at;
        plan.push(...(await this.sweep([sweep.rule], sweep.event, sweep.at)));
        continue;
      }
      const r = recheck!;
      this.now = r.at;
      this.rechecks.delete(`${r.rule.name}|${identity(r.ref)}`);
      const current = this.objects[this.indexOf(r.ref)];
      if (current) plan.push(...(await this.present('recheck', current, undefined, [r.rule])));
    }
    this.now = after;
    return sortPlan(plan);
  }

  /** The earliest pending re-check due by `until`. */
  private nextRecheck(until: number): PendingRecheck | undefined {
    let best: PendingRecheck | undefined;
    for (const r of this.rechecks.values()) if (r.at <= until && (!best || r.at < best.at)) best = r;
    return best;
  }
}

/** Runs `test` with `rules` (already narrowed to `spec.rule` when given); never throws for a failing test. */
export async function runRuleTest(test: RuleTest, rules: CompiledRule[]): Promise<RuleTestResult> {
  const sim = new Simulation(rules, test.startMs, test.objects);
  const check = async (label: string, expect: Expectation | undefined, run: () => Promise<Plan>): Promise<string | undefined> => {
    let plan: Plan;
    try {
      plan = await run();
    } catch (err) {
      if (err instanceof RuleTestStepError || err instanceof RuleEvaluationError) return `${label}: ${err.message}`;
      throw err;
    }
    const diff = expect === undefined ? undefined : planDifference(expect, plan);
    return diff && `${label}: ${diff}`;
  };
  let failure = await check('initial sync', test.expect, () => sim.initialSync());
  let steps = 1;
  for (const [i, step] of test.steps.entries()) {
    if (failure) break;
    steps++;
    failure = await check(`step ${i + 1} (${step.title})`, step.expect, () => sim.step(step));
  }
  return { test, passed: failure === undefined, failure, steps };
}
