/**
 * rule-test-run: runs one RuleTest against compiled rules, offline. The objects are the whole
 * cluster (as in `reflex dry-run`); each step changes it or the clock, presents the events the
 * daemon would see to every rule, and compares the planned actions with the step's expectation.
 */
import { FakeClock, objectKey, ReflexError, type KubeObject } from '../core/index.js';
import { evaluate, RuleEvaluationError, sortPlan, type CompiledRule, type Plan, type RuleEvent } from '../engine/index.js';
import { planOffline } from './dry-run.js';
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

/** Most cron firings walked through in one `advance`; beyond it the step fails instead of spinning. */
const MAX_FIRINGS_PER_ADVANCE = 100_000;

/** The simulated cluster and clock of one RuleTest. */
class Simulation {
  private objects: KubeObject[];
  private now: number;

  constructor(
    private readonly rules: CompiledRule[],
    private readonly start: number,
    objects: KubeObject[],
  ) {
    this.objects = new OfflineCluster(objects).objects;
    this.now = start;
  }

  private cluster(): OfflineCluster {
    return new OfflineCluster(this.objects);
  }

  /** An object as the cluster stores it (default namespace filled in for namespaced kinds). */
  private normalize(o: KubeObject): KubeObject {
    return new OfflineCluster([...this.objects, o]).objects.at(-1) as KubeObject;
  }

  private indexOf(o: KubeObject): number {
    const key = (x: KubeObject) => `${x.apiVersion}|${x.kind}|${objectKey(x)}`;
    return this.objects.findIndex((x) => key(x) === key(o));
  }

  private async sweep(rules: CompiledRule[], event: RuleEvent, at: number): Promise<Plan> {
    const run = await planOffline(rules, this.cluster(), { event, clock: new FakeClock(at) });
    if (run.problems.length > 0) throw new RuleTestStepError(run.problems.join('; '));
    return run.plan;
  }

  private async present(event: RuleEvent, obj: KubeObject, old: KubeObject | undefined): Promise<Plan> {
    const cluster = this.cluster();
    const context = { clock: new FakeClock(this.now), lister: cluster, scopeOf: cluster.scopeOf };
    const plan: Plan = [];
    for (const rule of this.rules) plan.push(...(await evaluate(rule, event, obj, old, context)));
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
   * Moves the clock by `ms`. A rule whose resync period ends on the way (periods count from the
   * test's start) sweeps once with `resync`, at the last such boundary; a rule whose cron fires on
   * the way sweeps once with `schedule`, at the last firing. (The daemon would sweep at each;
   * since planned actions are not executed, the newest sweep is the one that tells.)
   */
  private async advance(ms: number): Promise<Plan> {
    const before = this.now;
    const after = before + ms;
    const plan: Plan = [];
    for (const rule of this.rules) {
      if (rule.resyncMs) {
        const k = Math.floor((after - this.start) / rule.resyncMs);
        if (k > Math.floor((before - this.start) / rule.resyncMs)) plan.push(...(await this.sweep([rule], 'resync', this.start + k * rule.resyncMs)));
      }
      if (rule.schedule) {
        let last: number | undefined;
        let next = rule.schedule.next(before);
        for (let n = 0; next <= after; n++) {
          if (n >= MAX_FIRINGS_PER_ADVANCE) throw new RuleTestStepError(`rule "${rule.name}" fires more than ${MAX_FIRINGS_PER_ADVANCE} times in this advance; advance less`);
          last = next;
          next = rule.schedule.next(next);
        }
        if (last !== undefined) plan.push(...(await this.sweep([rule], 'schedule', last)));
      }
    }
    this.now = after;
    return sortPlan(plan);
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
