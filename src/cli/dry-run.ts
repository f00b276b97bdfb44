/**
 * `reflex dry-run --rules PATH… --manifests PATH… [--now RFC3339] [--event E] [--output text|json|yaml]`:
 * plans the rules' actions against manifests, with no cluster (design.md §2, "Offline").
 */
import { dump } from 'js-yaml';
import { parseArgs } from 'node:util';
import { applyPatchLocally, type LocalPatchType } from '../actions/index.js';
import { FakeClock, realClock, type Clock } from '../core/index.js';
import { readSourceFiles } from '../daemon/index.js';
import {
  evaluate,
  loadRules,
  RULE_EVENTS,
  RuleEvaluationError,
  sortPlan,
  type CompiledRule,
  type Plan,
  type PlannedAction,
  type RuleEvent,
} from '../engine/index.js';
import type { CommandIO } from './commands.js';
import { OfflineCluster, parseManifests } from './offline-cluster.js';
import { lineDiff } from './text-diff.js';

const USAGE = 'Usage: reflex dry-run --rules PATH… --manifests PATH… [--now RFC3339] [--event E] [--output text|json|yaml]';

/** What one offline run produced. */
export interface OfflineRun {
  plan: Plan;
  /** Rule evaluation errors and sweeps stopped by maxActionsPerRun. */
  problems: string[];
}

/** Options of `planOffline`. */
export interface OfflineOptions {
  /** `--event`: present every selected object with this event instead of sync/schedule. */
  event?: RuleEvent;
  clock?: Clock;
}

/**
 * Presents every object each rule selects: with `sync` when the rule listens to it, and with
 * `schedule` (a tick at the clock's now) when it has a schedule; or with `event` only. A sweep
 * stops at the rule's maxActionsPerRun and says so. Returns the sorted plan.
 */
export async function planOffline(rules: CompiledRule[], cluster: OfflineCluster, options: OfflineOptions = {}): Promise<OfflineRun> {
  const plan: Plan = [];
  const problems: string[] = [];
  const context = { clock: options.clock ?? realClock, lister: cluster, scopeOf: cluster.scopeOf };
  for (const rule of [...rules].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const events: RuleEvent[] = options.event ? [options.event] : [];
    if (!options.event) {
      if (rule.on.includes('sync')) events.push('sync');
      if (rule.schedule) events.push('schedule');
    }
    for (const event of events) {
      let count = 0;
      for (const obj of cluster.sorted(rule.watch.apiVersion, rule.watch.kind)) {
        let planned: Plan;
        try {
          planned = await evaluate(rule, event, obj, undefined, context);
        } catch (err) {
          if (!(err instanceof RuleEvaluationError)) throw err;
          problems.push(`${err.message} (object ${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}, event ${event})`);
          continue;
        }
        if (count + planned.length > rule.limits.maxActionsPerRun) {
          problems.push(`rule "${rule.name}": the ${event} sweep stopped at maxActionsPerRun (${rule.limits.maxActionsPerRun}); later objects were not planned`);
          break;
        }
        count += planned.length;
        plan.push(...planned);
      }
    }
  }
  return { plan: sortPlan(plan), problems };
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    options: {
      rules: { type: 'string', multiple: true },
      manifests: { type: 'string', multiple: true },
      now: { type: 'string' },
      event: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'text' },
    },
  }).values;
}

/** Runs the command; 0 when every rule loaded and evaluated, 1 when any problem was reported, 2 on usage errors. */
export async function runDryRun(args: string[], io: CommandIO): Promise<number> {
  let v;
  try {
    v = parse(args);
  } catch (err) {
    io.err(`reflex dry-run: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const usage = (msg: string) => {
    io.err(`reflex dry-run: ${msg}\n${USAGE}`);
    return 2;
  };
  if (!v.rules?.length) return usage('--rules is required');
  if (!v.manifests?.length) return usage('--manifests is required');
  if (!['text', 'json', 'yaml'].includes(String(v.output))) return usage(`--output must be text, json or yaml; got "${v.output}"`);
  if (v.event !== undefined && !(RULE_EVENTS as string[]).includes(v.event)) return usage(`--event must be one of ${RULE_EVENTS.join(', ')}; got "${v.event}"`);
  let clock: Clock = realClock;
  if (v.now !== undefined) {
    const t = Date.parse(v.now);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v.now) || Number.isNaN(t)) return usage(`--now must be an RFC 3339 time such as 2026-01-01T00:00:00Z; got "${v.now}"`);
    clock = new FakeClock(t);
  }
  let ruleSources, manifestSources;
  try {
    ruleSources = await readSourceFiles(v.rules);
    manifestSources = await readSourceFiles(v.manifests);
  } catch (err) {
    io.err(`reflex dry-run: ${(err as Error).message}`);
    return 1;
  }
  const loaded = loadRules(ruleSources);
  for (const e of loaded.errors) io.err(`${e.location.file}:${e.location.line}:${e.location.column}: ${e.reason}`);
  const manifests = parseManifests(manifestSources);
  for (const p of manifests.problems) io.err(`${p.file}:${p.line}:${p.column}: ${p.message}`);
  const cluster = new OfflineCluster(manifests.objects);
  const run = await planOffline(loaded.rules, cluster, { event: v.event as RuleEvent | undefined, clock });
  for (const p of run.problems) io.err(p);
  if (v.output === 'json') io.out(JSON.stringify(run.plan, null, 2));
  else if (v.output === 'yaml') io.out(dump(run.plan, { noRefs: true }));
  else io.out(formatText(run.plan, cluster));
  return loaded.errors.length + manifests.problems.length + run.problems.length > 0 ? 1 : 0;
}

const refText = (r: { kind: string; namespace?: string; name: string }) => `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;

function detail(p: PlannedAction): string {
  const opts = Object.entries(p.options).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (p.action === 'log' || p.action === 'event') opts.unshift(JSON.stringify(p.action === 'log' ? p.body : (p.body as { message?: unknown }).message));
  if (p.action === 'webhook') opts.unshift(`${(p.body as { method?: string }).method} ${(p.body as { url?: string }).url}`);
  return opts.join(' ');
}

/** A table of the planned actions, and a before/after diff for patches and updates of objects in the manifests. */
export function formatText(plan: Plan, cluster: OfflineCluster): string {
  if (plan.length === 0) return 'No actions planned.';
  const rows = plan.map((p) => [p.rule, `${p.trigger.event} ${refText(p.trigger)}`, p.action, refText(p.target), detail(p)]);
  const head = ['RULE', 'TRIGGER', 'ACTION', 'TARGET', 'DETAIL'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(head), ...rows.map(line)];
  for (const p of plan) {
    if (p.action !== 'patch' && p.action !== 'update') continue;
    const before = cluster.get(p.target.apiVersion, p.target.kind, p.target.namespace, p.target.name);
    if (!before) continue;
    let after: unknown;
    try {
      after = p.action === 'update' ? p.body : applyPatchLocally(before, p.body, (p.options.type as LocalPatchType | undefined) ?? 'merge');
    } catch (err) {
      out.push('', `${p.rule}: ${p.action} ${refText(p.target)}: cannot apply locally: ${(err as Error).message}`);
      continue;
    }
    const diff = lineDiff(dump(before, { sortKeys: true }), dump(after, { sortKeys: true }));
    out.push('', `--- ${refText(p.target)} (before)`, `+++ ${refText(p.target)} (after ${p.action} by ${p.rule})`);
    out.push(diff.some((l) => !l.startsWith('  ')) ? diff.join('\n') : '  (no change: the patch would not be sent)');
  }
  return out.join('\n');
}
