/**
 * `reflex explain --rules PATH… [--rule NAME] (--object KIND/[NS/]NAME | --manifests PATH…)`:
 * evaluates one rule against one object, live or offline, and shows each step (explain-steps.ts).
 * KIND is any name kubectl takes (`deploy`, `deployments.apps`); the flags are in the table below.
 */
import { createClient, isNotFound, type DynamicClient, type KubeClient } from '../client/index.js';
import { realClock, ReflexError, type Clock, type KubeObject } from '../core/index.js';
import type { CompiledRule, ObjectLister, RuleEvent } from '../engine/index.js';
import { EVENT, MANIFESTS, NOW, parseNow, RULES } from './dry-run.js';
import { CONTEXT, defineCommand, HELP, KUBECONFIG, NAMESPACE, output, UsageError } from './flags.js';
import type { CommandIO } from './io.js';
import { readInputs, StdinOnce } from './inputs.js';
import { kindNamesOf, OFFLINE_KINDS, resolveKind, type KindName } from './kinds.js';
import { defaultEvent, explain, type ExplainContext } from './explain-steps.js';
import { formatExplanation } from './explain-format.js';
import { OfflineCluster, parseManifests } from './offline-cluster.js';
import { loadRuleFiles, reportLoadErrors } from './rule-sources.js';

/** A failure the user can fix (no such rule or object, an ambiguous choice); its message says how. */
export class ExplainError extends ReflexError {
  constructor(message: string) {
    super(message, { code: 'ERR_EXPLAIN' });
  }
}

/** A parsed `--object`: the watched kind it names, and the object's namespace and name. */
interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** The distinct kinds a rule watches, in `spec.watch` order. */
function watchedKinds(rule: CompiledRule): { apiVersion: string; kind: string }[] {
  const out: { apiVersion: string; kind: string }[] = [];
  for (const w of rule.watches) if (!out.some((k) => k.apiVersion === w.apiVersion && k.kind === w.kind)) out.push({ apiVersion: w.apiVersion, kind: w.kind });
  return out;
}

/**
 * `KIND/NS/NAME`, or `KIND/NAME` with the namespace from `-n` (none for a cluster-scoped kind).
 * KIND is resolved in `kinds` and must be a kind the rule watches.
 */
export function parseObjectRef(
  text: string,
  rule: CompiledRule,
  kinds: readonly KindName[],
  ns: { flag?: string; fallback?: string; clusterScoped: (apiVersion: string, kind: string) => boolean | Promise<boolean> },
): Promise<ObjectRef> | ObjectRef {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) throw new UsageError(`--object must be KIND/NAMESPACE/NAME or KIND/NAME; got "${text}"`);
  const watched = watchedKinds(rule);
  const kind = resolveKind(parts[0], [...kinds, ...watched.map((w) => ({ ...w, plural: '', shortNames: [] }))]);
  const group = (av: string) => (av.includes('/') ? av.slice(0, av.indexOf('/')) : '');
  const w = watched.find((x) => x.kind === kind.kind && group(x.apiVersion) === group(kind.apiVersion));
  if (!w) {
    throw new ExplainError(`--object names a ${kind.kind} (${kind.apiVersion}), but rule "${rule.name}" watches ${watched.map((x) => `${x.apiVersion} ${x.kind}`).join(', ')}`);
  }
  if (parts.length === 3) {
    if (ns.flag !== undefined && ns.flag !== parts[1]) throw new UsageError(`--object ${text} names namespace ${parts[1]}, but -n says ${ns.flag}`);
    return { ...w, namespace: parts[1], name: parts[2] };
  }
  const scoped = ns.clusterScoped(w.apiVersion, w.kind);
  const done = (clusterScoped: boolean): ObjectRef => ({ ...w, namespace: clusterScoped ? undefined : (ns.flag ?? ns.fallback), name: parts[1] });
  return typeof scoped === 'boolean' ? done(scoped) : scoped.then(done);
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

interface TargetOptions {
  ref?: string;
  namespace?: string;
  clock: Clock;
}

async function offlineTarget(rule: CompiledRule, manifests: string[], o: TargetOptions, stdin: StdinOnce, io: CommandIO): Promise<Target> {
  const parsed = parseManifests(await readInputs(manifests, '--manifests', stdin));
  for (const p of parsed.problems) io.err(`${p.file}:${p.line}:${p.column}: ${p.message}`);
  const cluster = new OfflineCluster(parsed.objects, o.namespace);
  const ref = o.ref;
  const clock = o.clock;
  const kinds = watchedKinds(rule);
  const candidates = kinds.flatMap((k) => cluster.sorted(k.apiVersion, k.kind));
  const show = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;
  const kindsText = kinds.map((k) => `${k.apiVersion} ${k.kind}`).join(', ');
  let object: KubeObject | undefined;
  if (ref !== undefined) {
    const clusterScoped = (apiVersion: string, kind: string) => cluster.scopeOf(apiVersion, kind) === 'Cluster';
    const r = await parseObjectRef(ref, rule, OFFLINE_KINDS, { flag: o.namespace, fallback: 'default', clusterScoped });
    object = cluster.get(r.apiVersion, r.kind, r.namespace, r.name);
    if (!object) throw new ExplainError(`${ref} is not in the manifests; objects of ${kinds.length === 1 ? 'that kind' : 'the kinds it watches'} there: ${candidates.map(show).slice(0, 10).join(', ') || 'none'}`);
  } else if (candidates.length === 1) {
    object = candidates[0];
  } else {
    throw new ExplainError(
      candidates.length === 0
        ? `the manifests hold no ${kindsText}, the ${kinds.length === 1 ? 'kind' : 'kinds'} rule "${rule.name}" watches`
        : `the manifests hold ${candidates.length} objects of ${kinds.length === 1 ? `kind ${kinds[0].kind}` : `the kinds ${kinds.map((k) => k.kind).join(', ')}`}; pick one with --object (${candidates.map(show).slice(0, 10).join(', ')})`,
    );
  }
  return { object, context: { clock, lister: cluster, scopeOf: cluster.scopeOf }, source: `manifests ${manifests.join(', ')}` };
}

async function liveTarget(rule: CompiledRule, o: TargetOptions & { kubeconfig?: string; context?: string }): Promise<Target> {
  const ref = o.ref as string;
  const clock = o.clock;
  const client: DynamicClient = await createClient({ kubeconfig: o.kubeconfig, context: o.context });
  const lister = liveLister(client);
  try {
    const kinds = kindNamesOf(await client.discovery.resources());
    const clusterScoped = async (apiVersion: string, kind: string) => !(await client.resolve(apiVersion, kind)).namespaced;
    const r = await parseObjectRef(ref, rule, kinds, { flag: o.namespace, fallback: client.namespace, clusterScoped });
    const object = await lister.get(r.apiVersion, r.kind, r.namespace, r.name);
    if (!object) throw new ExplainError(`${ref} (${r.apiVersion}) was not found on ${client.server}`);
    const scopeOf = () => undefined;
    return { object, context: { clock, lister, scopeOf }, source: client.server, close: () => client.close() };
  } catch (err) {
    await client.close();
    throw err;
  }
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

export const explainCommand = defineCommand(
  {
    name: 'explain',
    summary: 'evaluate one rule against one live or local object, step by step',
    description:
      'Live: --object against the cluster of the kubeconfig. Offline: --manifests, with --object to pick one of them.\n' +
      'KIND is any name kubectl takes: deploy, deployments, Deployment, deployment.apps. The default event is sync\n' +
      'when the rule listens to it, else schedule when it has one, else the first event of its `on` list.',
    flags: [
      RULES,
      { name: 'rule', value: 'NAME', help: 'the rule to explain (default: the only rule loaded)' },
      { name: 'object', value: 'KIND/[NS/]NAME', help: 'the object; the namespace may come from -n instead' },
      MANIFESTS,
      NAMESPACE('namespace of --object KIND/NAME (default: the context\'s, or default offline)'),
      KUBECONFIG,
      CONTEXT,
      EVENT,
      NOW,
      output(['text', 'json']),
      HELP,
    ],
    exits: { 1: 'the rule or object cannot be found or loaded (exit 0 whether or not the rule acts)' },
    examples: ['reflex explain --rules rules/ --rule propagate-team-label --object deploy/shop/api', 'reflex explain --rules rules/delete-finished-jobs.yaml --manifests examples/'],
  },
  async ({ values: v }, io) => {
    const rules = v.rules as string[] | undefined;
    const manifests = v.manifests as string[] | undefined;
    const ref = v.object as string | undefined;
    if (!rules?.length) throw new UsageError('--rules is required');
    if (!manifests?.length && ref === undefined) throw new UsageError('give --object KIND/NS/NAME (live, with a kubeconfig) or --manifests PATH… (offline)');
    const clock = parseNow(v.now as string | undefined);
    const stdin = new StdinOnce(io);
    const o = { ref, clock, namespace: v.namespace as string | undefined, kubeconfig: v.kubeconfig as string | undefined, context: v.context as string | undefined };
    let target: Target | undefined;
    try {
      const loaded = await loadRuleFiles(rules, { stdin });
      if (reportLoadErrors(loaded, io) > 0 && loaded.rules.length === 0) return 1;
      const rule = pickRule(loaded.rules, v.rule as string | undefined);
      target = manifests?.length ? await offlineTarget(rule, manifests, o, stdin, io) : await liveTarget(rule, o);
      const event = (v.event as RuleEvent | undefined) ?? defaultEvent(rule);
      const result = await explain(rule, target.object, event, target.context);
      io.out(v.output === 'json' ? JSON.stringify(jsonOf(result), null, 2) : formatExplanation(result, { source: target.source, now: (target.context.clock ?? realClock).now() }));
      return 0;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      io.err(`reflex explain: ${(err as Error).message}`);
      return 1;
    } finally {
      await target?.close?.();
    }
  },
);

function jsonOf(e: Awaited<ReturnType<typeof explain>>) {
  return {
    rule: e.rule.name,
    object: { apiVersion: e.object.apiVersion, kind: e.object.kind, namespace: e.object.metadata?.namespace, name: e.object.metadata?.name },
    event: e.event,
    selected: e.selected,
    selection: e.selection,
    listens: e.listens,
    when: e.when,
    ...(e.recheck ? { recheck: { ...e.recheck, ...(e.recheck.at !== undefined ? { at: new Date(e.recheck.at).toISOString() } : {}) } } : {}),
    acts: e.acts,
    actions: e.actions,
    ...(e.error ? { error: e.error } : {}),
  };
}
