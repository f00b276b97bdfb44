/**
 * `reflex explain --rules PATH… [--rule NAME] (--object KIND/[NS/]NAME [--kubeconfig F] [--context C] | --manifests PATH… [--object …])
 * [--event E] [--now RFC3339] [--output text|json]`: evaluates one rule against one object, live or
 * offline, and shows each step (explain-steps.ts). Exit 0 when it could explain (whether or not the
 * rule acts), 1 when the rule or object cannot be found or loaded, 2 on usage errors.
 */
import { parseArgs } from 'node:util';
import { createClient, isNotFound, type KubeClient } from '../client/index.js';
import { FakeClock, realClock, ReflexError, type Clock, type KubeObject } from '../core/index.js';
import { readSourceFiles } from '../daemon/index.js';
import { RULE_EVENTS, type CompiledRule, type ObjectLister, type RuleEvent } from '../engine/index.js';
import type { CommandIO } from './commands.js';
import { defaultEvent, explain, type ExplainContext } from './explain-steps.js';
import { formatExplanation } from './explain-format.js';
import { OfflineCluster, parseManifests } from './offline-cluster.js';
import { loadRuleFiles, reportLoadErrors } from './rule-sources.js';

const USAGE =
  'Usage: reflex explain --rules PATH… [--rule NAME] (--object KIND/[NS/]NAME [--kubeconfig FILE] [--context NAME] | --manifests PATH… [--object KIND/[NS/]NAME]) [--event E] [--now RFC3339] [--output text|json]';

/** A failure the user can fix (no such rule or object, an ambiguous choice); its message says how. */
export class ExplainError extends ReflexError {
  constructor(message: string) {
    super(message, { code: 'ERR_EXPLAIN' });
  }
}

/** `KIND/NS/NAME` or `KIND/NAME` (cluster-scoped); KIND must be the rule's watched kind (any case). */
function parseObjectRef(text: string, rule: CompiledRule): { namespace?: string; name: string } {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw new ExplainError(`--object must be KIND/NAMESPACE/NAME or KIND/NAME; got "${text}"`);
  if (parts[0].toLowerCase() !== rule.watch.kind.toLowerCase()) {
    throw new ExplainError(`--object names a ${parts[0]}, but rule "${rule.name}" watches ${rule.watch.apiVersion} ${rule.watch.kind}`);
  }
  return parts.length === 3 ? { namespace: parts[1], name: parts[2] } : { name: parts[1] };
}

/** A lister that reads the live cluster (explain makes a handful of reads; no cache is worth starting). */
function liveLister(client: KubeClient, signal?: AbortSignal): ObjectLister {
  return {
    get: async (apiVersion, kind, namespace, name) => {
      try {
        return await client.get({ apiVersion, kind, namespace, name }, { signal });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    list: async (apiVersion, kind, namespace) => (await client.list({ apiVersion, kind, namespace }, { signal })).items,
  };
}

interface Target {
  object: KubeObject;
  context: ExplainContext;
  source: string;
  close?: () => Promise<void>;
}

async function offlineTarget(rule: CompiledRule, manifests: string[], ref: string | undefined, clock: Clock, io: CommandIO): Promise<Target> {
  const parsed = parseManifests(await readSourceFiles(manifests));
  for (const p of parsed.problems) io.err(`${p.file}:${p.line}:${p.column}: ${p.message}`);
  const cluster = new OfflineCluster(parsed.objects);
  const candidates = cluster.sorted(rule.watch.apiVersion, rule.watch.kind);
  const show = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
  let object: KubeObject | undefined;
  if (ref !== undefined) {
    const r = parseObjectRef(ref, rule);
    object = cluster.get(rule.watch.apiVersion, rule.watch.kind, r.namespace, r.name);
    if (!object) throw new ExplainError(`${ref} is not in the manifests; objects of that kind there: ${candidates.map(show).slice(0, 10).join(', ') || 'none'}`);
  } else if (candidates.length === 1) {
    object = candidates[0];
  } else {
    throw new ExplainError(
      candidates.length === 0
        ? `the manifests hold no ${rule.watch.apiVersion} ${rule.watch.kind}, the kind rule "${rule.name}" watches`
        : `the manifests hold ${candidates.length} objects of kind ${rule.watch.kind}; pick one with --object (${candidates.map(show).slice(0, 10).join(', ')})`,
    );
  }
  return { object, context: { clock, lister: cluster, scopeOf: cluster.scopeOf }, source: `manifests ${manifests.join(', ')}` };
}

async function liveTarget(rule: CompiledRule, ref: string, options: { kubeconfig?: string; context?: string }, clock: Clock): Promise<Target> {
  const r = parseObjectRef(ref, rule);
  const client = await createClient({ kubeconfig: options.kubeconfig, context: options.context });
  const lister = liveLister(client);
  try {
    const object = await lister.get(rule.watch.apiVersion, rule.watch.kind, r.namespace, r.name);
    if (!object) throw new ExplainError(`${ref} (${rule.watch.apiVersion}) was not found on ${client.server}`);
    const scopeOf = () => undefined;
    return { object, context: { clock, lister, scopeOf }, source: client.server, close: () => client.close() };
  } catch (err) {
    await client.close();
    throw err;
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: false,
    options: {
      rules: { type: 'string', multiple: true },
      rule: { type: 'string' },
      object: { type: 'string' },
      manifests: { type: 'string', multiple: true },
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      event: { type: 'string' },
      now: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'text' },
    },
  }).values;
}

/** Picks the rule: `--rule NAME`, or the only rule loaded. */
function pickRule(rules: CompiledRule[], name: string | undefined): CompiledRule {
  if (name !== undefined) {
    const r = rules.find((x) => x.name === name);
    if (!r) throw new ExplainError(`no rule "${name}" in the rule files; rules there: ${rules.map((x) => x.name).join(', ') || 'none'}`);
    return r;
  }
  if (rules.length === 1) return rules[0];
  throw new ExplainError(`the rule files hold ${rules.length} rules; pick one with --rule (${rules.map((x) => x.name).join(', ')})`);
}

/** The command. */
export async function runExplain(args: string[], io: CommandIO): Promise<number> {
  let v;
  try {
    v = parse(args);
  } catch (err) {
    io.err(`reflex explain: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const usage = (msg: string) => {
    io.err(`reflex explain: ${msg}\n${USAGE}`);
    return 2;
  };
  if (!v.rules?.length) return usage('--rules is required');
  if (!v.manifests?.length && v.object === undefined) return usage('give --object KIND/NS/NAME (live, with a kubeconfig) or --manifests PATH… (offline)');
  if (v.output !== 'text' && v.output !== 'json') return usage(`--output must be text or json; got "${v.output}"`);
  if (v.event !== undefined && !(RULE_EVENTS as string[]).includes(v.event)) return usage(`--event must be one of ${RULE_EVENTS.join(', ')}; got "${v.event}"`);
  let clock: Clock = realClock;
  if (v.now !== undefined) {
    const t = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(v.now) ? Date.parse(v.now) : NaN;
    if (Number.isNaN(t)) return usage(`--now must be an RFC 3339 time such as 2026-01-01T00:00:00Z; got "${v.now}"`);
    clock = new FakeClock(t);
  }
  let target: Target | undefined;
  try {
    const loaded = await loadRuleFiles(v.rules);
    if (reportLoadErrors(loaded, io) > 0 && loaded.rules.length === 0) return 1;
    const rule = pickRule(loaded.rules, v.rule);
    target = v.manifests?.length ? await offlineTarget(rule, v.manifests, v.object, clock, io) : await liveTarget(rule, v.object as string, v, clock);
    const event = (v.event as RuleEvent | undefined) ?? defaultEvent(rule);
    const result = await explain(rule, target.object, event, target.context);
    io.out(v.output === 'json' ? JSON.stringify(jsonOf(result), null, 2) : formatExplanation(result, { source: target.source, now: (target.context.clock ?? realClock).now() }));
    return 0;
  } catch (err) {
    io.err(`reflex explain: ${(err as Error).message}`);
    return 1;
  } finally {
    await target?.close?.();
  }
}

function jsonOf(e: Awaited<ReturnType<typeof explain>>) {
  return {
    rule: e.rule.name,
    object: { apiVersion: e.object.apiVersion, kind: e.object.kind, namespace: e.object.metadata?.namespace, name: e.object.metadata?.name },
    event: e.event,
    selected: e.selected,
    selection: e.selection,
    listens: e.listens,
    when: e.when,
    acts: e.acts,
    actions: e.actions,
    ...(e.error ? { error: e.error } : {}),
  };
}
