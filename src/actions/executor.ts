/** executor: runs one planned action through the client and says what happened; never throws for an action's own failure. */
import { realClock } from '../core/index.js';
import type { PlannedAction } from '../engine/index.js';
import { confine } from './confine.js';
import { wrongOption } from './options.js';
import { runEvent, runLog, runWebhook } from './notify.js';
import { ActionError, ActionErrorCode, type ActionResult, type ExecuteOptions } from './types.js';
import { runApply, runCreate, runDelete, runPatch, runUpdate } from './writes.js';

/**
 * Executes `planned`. A tenant rule's write outside its namespace is refused first (confine.ts). In audit mode nothing is written and no webhook is called: the action is
 * logged as what would be done and reported `done` with `audit: true` (log actions still log).
 * Resolves to the outcome; an action's failure is a `failed` result carrying a typed ActionError.
 */
export async function executeAction(planned: PlannedAction, options: ExecuteOptions): Promise<ActionResult> {
  const invalid = invalidOptions(planned);
  if (invalid) return invalid;
  const refused = await confine(planned, options);
  if (refused) return refused;
  if (options.mode === 'audit' && planned.action !== 'log') {
    options.logger?.info(`audit: would ${planned.action} ${planned.target.kind} ${planned.target.namespace ? `${planned.target.namespace}/` : ''}${planned.target.name}`, {
      // Never the body: it may hold Secret data.
      rule: planned.rule,
      trigger: planned.trigger,
      target: planned.target,
      options: planned.options,
    });
    return { status: 'done', action: planned.action, target: planned.target, audit: true };
  }
  switch (planned.action) {
    case 'apply':
      return runApply(planned, options);
    case 'create':
      return runCreate(planned, options);
    case 'update':
      return runUpdate(planned, options);
    case 'patch':
      return runPatch(planned, options);
    case 'delete':
      return runDelete(planned, options);
    case 'event':
      return runEvent(planned, options);
    case 'log':
      return runLog(planned, options);
    case 'webhook':
      return runWebhook(planned, options);
    default: {
      const p = planned as PlannedAction;
      const cause = new ActionError(`unknown action "${String(p.action)}"`, p.action, p.target, { code: ActionErrorCode.invalid, terminal: true });
      return { status: 'failed', action: p.action, target: p.target, cause };
    }
  }
}

/**
 * A plan made elsewhere than by the engine (which checks every rendered field) may still carry an
 * option of the wrong type: a terminal failure, never an option silently dropped or defaulted.
 */
function invalidOptions(p: PlannedAction): ActionResult | undefined {
  const problem = wrongOption(p);
  if (!problem) return undefined;
  const got = JSON.stringify(problem.got) ?? 'nothing';
  const message = `${p.action} for rule "${p.rule}": option ${problem.option}: expected ${problem.expected}; got ${p.sensitive ? 'a hidden value' : got.slice(0, 80)}; nothing was sent`;
  return { status: 'failed', action: p.action, target: p.target, cause: new ActionError(message, p.action, p.target, { code: ActionErrorCode.invalid, terminal: true }) };
}

/** What a caller of executePlan may add around each action. */
export interface PlanHooks {
  /** Decides an action's result without running it (e.g. refuses it); undefined runs it. */
  precheck?(planned: PlannedAction): Promise<ActionResult | undefined>;
  /** Told of each result and how long it took, ms on `options.clock`. */
  onResult?(planned: PlannedAction, result: ActionResult, durationMs: number): void;
}

/**
 * Executes a rule's planned actions in order; the first failure stops the rest (the
 * whole rule is retried). `options.current` is ignored (use `lookup`). Resolves to the results of the actions that ran.
 */
export async function executePlan(plan: PlannedAction[], options: ExecuteOptions, hooks: PlanHooks = {}): Promise<ActionResult[]> {
  const clock = options.clock ?? realClock;
  const results: ActionResult[] = [];
  for (const p of plan) {
    const started = clock.now();
    const r = (await hooks.precheck?.(p)) ?? (await executeAction(p, { ...options, current: undefined }));
    results.push(r);
    hooks.onResult?.(p, r, clock.now() - started);
    if (r.status === 'failed') break;
  }
  return results;
}
