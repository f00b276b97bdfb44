/**
 * PlanRunner: executes a rule's plan for the controller, in order, stopping at the first failure;
 * in client dry-run it only logs. Before each write it checks the loop guard of (rule, target)
 * and refuses writes that would land in the daemon's own namespace; it records each changing
 * write in the loop guard's books and each action in the decision trace, and emits the
 * controller's Warning Events.
 */
import { errorMessage, type Clock, type KubeObject, type Logger } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import { refOf, renderUpdate, type CompiledRule, type Plan, type PlannedAction, type PlannedRef } from '../engine/index.js';
import { type WebhookPolicy, ActionError, ActionErrorCode, executeAction, executePlan, type ActionResult } from '../actions/index.js';
import type { ControllerHooks, ControllerTrace } from './hooks.js';
import { isWrite, type LoopGuard } from './loop-guard.js';
import { redactPlanned, SENSITIVE } from './redact.js';
import type { RuleRegistry } from './rule-registry.js';
import { scrubbingLogger, type SecretValues } from './secret-values.js';

/** What running a plan came to. */
export interface PlanRun {
  /** Results of the actions that ran (a refused or failed one last). */
  results: ActionResult[];
  /** The target whose loop guard held the plan back, when one did (nothing after it ran). */
  tripped?: PlannedRef;
}

export interface PlanRunnerOptions {
  client: KubeClient;
  /** The client of a rule's writes (one impersonating the ServiceAccount it runs as). Default `client`. */
  clientFor?: (rule: CompiledRule) => KubeClient;
  registry: Pick<RuleRegistry, 'scopeOf' | 'lookup'>;
  /** The loop guard's books (the intake's). */
  guard: LoopGuard;
  clock: Clock;
  logger: Logger;
  hooks: ControllerHooks;
  dryRun?: 'none' | 'client' | 'server';
  /** Where webhooks may go. Default: anywhere but link-local and metadata addresses. */
  webhooks?: WebhookPolicy;
  /** Aborts in-flight actions (shutdown past its grace period). */
  signal: AbortSignal;
  /** Looks a target up in caches the registry does not know (generated objects), first. */
  lookup?: (t: PlannedRef) => KubeObject | undefined;
}

export class PlanRunner {
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly hooks: ControllerHooks;

  constructor(private readonly o: PlanRunnerOptions) {
    this.log = o.logger;
    this.clock = o.clock;
    this.hooks = o.hooks;
  }

  /**
   * Runs a plan in order (the first failure stops the rest), or only logs it in client dry-run
   * mode. A write that would take its (rule, target) over `actionsPerObjectPerMinute` changing
   * writes is not sent, and stops the plan (`tripped`). With `secrets`, the Secrets the actions
   * look up are recorded in it, and the errors in the trace say none of its values.
   */
  async run(rule: CompiledRule, plan: Plan, trigger: KubeObject, trace: ControllerTrace, secrets?: SecretValues): Promise<PlanRun> {
    const log = secrets ? scrubbingLogger(this.log, secrets.scrubber) : this.log;
    if (this.o.dryRun === 'client') {
      for (const p of plan) {
        const safe = redactPlanned(p);
        // One short line per action at info; the body and options at debug.
        const where = `${p.target.kind} ${p.target.namespace ? `${p.target.namespace}/` : ''}${p.target.name}`;
        log.info(`dry-run: planned ${p.action} ${where} by ${rule.name}`, { rule: rule.name, action: p.action, target: p.target });
        log.debug('dry-run: planned action detail', { rule: rule.name, action: p.action, target: p.target, body: safe.body, options: p.options });
        this.hooks.action?.(rule.name, p.action, 'planned');
      }
      return { results: [] };
    }
    let held: ActionResult | undefined;
    const options = {
      client: this.o.clientFor?.(rule) ?? this.o.client,
      mode: rule.mode,
      dryRun: this.o.dryRun === 'server',
      trigger,
      renderUpdate,
      logger: log.child({ rule: rule.name }),
      clock: this.clock,
      lookup: (t: PlannedRef) => {
        const found = this.o.lookup?.(t) ?? this.o.registry.lookup(t);
        secrets?.add(found);
        return found;
      },
      signal: this.o.signal,
      webhooks: this.o.webhooks,
    };
    const guard = this.o.guard;
    const budget = rule.limits.actionsPerObjectPerMinute;
    const results = await executePlan(plan, options, {
      precheck: async (p) => {
        if (isWrite(p.action) && guard.trips(rule.name, p.target, budget, this.clock.now())) {
          held = { status: 'failed', action: p.action, target: p.target, cause: new ActionError(`the loop guard of ${p.target.kind} ${p.target.name} held the ${p.action} back`, p.action, p.target, { code: 'ERR_LOOP_GUARD', terminal: true }) };
          return held;
        }
        return this.unplaced(p);
      },
      onResult: (p, r, durationMs) => {
        if (r === held) return;
        guard.record(rule.name, r, this.clock.now());
        trace.executed.push({ action: r.action, outcome: r.status, durationMs, ...(r.cause ? { error: secrets ? secrets.scrub(errorMessage(r.cause)) : errorMessage(r.cause) } : {}) });
        this.hooks.action?.(rule.name, r.action, r.status);
        if (this.o.dryRun === 'server' && r.status !== 'failed') {
          log.info('dry-run (server): the API server accepted', { rule: rule.name, action: r.action, target: r.target, status: r.status, object: p.sensitive ? SENSITIVE : r.object });
        }
      },
    });
    if (!held) return { results };
    return { results: results.filter((r) => r !== held), tripped: held.target };
  }

  /**
   * A write to a namespaced kind without a namespace would land in the daemon's own namespace
   * (the client's default): refuse it, naming the fix, instead of writing somewhere unexpected.
   */
  private async unplaced(p: PlannedAction): Promise<ActionResult | undefined> {
    if (p.target.namespace || p.action === 'log' || p.action === 'webhook' || p.action === 'event') return undefined;
    let scope;
    try {
      scope = await this.o.registry.scopeOf(p.target.apiVersion, p.target.kind);
    } catch (err) {
      // Discovery did not answer: a transient failure of this action, never "not namespaced".
      const cause = new ActionError(`${p.action} of ${p.target.kind} ${p.target.name} for rule "${p.rule}": discovery failed: ${errorMessage(err)}`, p.action, p.target, { code: ActionErrorCode.api, cause: err });
      return { status: 'failed', action: p.action, target: p.target, cause };
    }
    if (scope !== 'Namespaced') return undefined;
    const where = p.action === 'apply' || p.action === 'create' ? 'object.metadata.namespace' : 'target.namespace';
    const cause = new ActionError(
      `rule ${p.rule}: ${p.action} of ${p.target.kind} ${p.target.name}: the kind is namespaced but the action names no namespace (and the trigger has none to inherit); set ${where}`,
      p.action,
      p.target,
      { code: ActionErrorCode.invalid, terminal: true },
    );
    return { status: 'failed', action: p.action, target: p.target, cause };
  }

  /** Emits a Warning Event about `obj` (best effort: a failure is logged, not retried). */
  async warn(rule: string, obj: KubeObject, reason: string, message: string): Promise<void> {
    if (this.o.dryRun === 'client') return;
    const target = refOf(obj);
    const planned: PlannedAction = { rule, trigger: { ...target, event: 'sync' }, action: 'event', target, body: { type: 'Warning', reason, message }, options: {} };
    const r = await executeAction(planned, { client: this.o.client, clock: this.clock, dryRun: this.o.dryRun === 'server', signal: this.o.signal }).catch((err: unknown) => ({ status: 'failed' as const, cause: err }));
    if (r.status === 'failed') this.log.warn('could not emit a Warning Event', { rule, reason, error: errorMessage(r.cause) });
  }
}
