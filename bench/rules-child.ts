/**
 * Child of the benchmark suite: an in-process RuleController with the 50 bench rules on
 * a namespace whose objects are already there. The client is wrapped to timestamp each
 * watch event as it arrives and each patch as it is sent and as its response arrives.
 *
 *   node dist/bench/rules-child.js STATE_DIR NAMESPACE OBJECTS SYNC_ACTIONS [WORKERS]
 *
 * Answers first with the sync sweep (every object evaluated by 50 rules, SYNC_ACTIONS
 * patches). Then, per `begin` … `end N` from the parent, with what happened in between.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient, loadConfig, type KubeClient, type WatchEvent } from '../src/client/index.js';
import { keepYoungGenerationSmall, SharedInformerFactory } from '../src/informers/index.js';
import { loadRules } from '../src/engine/index.js';
import { RuleController } from '../src/daemon/controller.js';
import type { ControlPlaneState } from '../test/support/control-plane.js';
import { emit, peakRssMiB, stdinLines, wallMs } from './support/proc.js';
import { benchRules } from './support/rules.js';

/** One patch: object name, the gen it records, when the triggering event arrived, was sent, was answered. */
export interface PatchRecord {
  name: string;
  gen: string;
  receivedAt: number;
  sentAt: number;
  doneAt: number;
}

export interface RulesReport {
  phase: string;
  events: number;
  evaluations: number;
  actions: number;
  failed: number;
  /** From the first event (or the start, for sync) to the last patch answered, ms. */
  ms: number;
  cpuMs: number;
  peakRssMiB: number;
  patches: PatchRecord[];
}

const [dir, namespace, objectsArg, syncActionsArg, workersArg] = process.argv.slice(2);
const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ControlPlaneState;

let events = 0;
let firstEventAt = 0;
let evaluations = 0;
let actions = 0;
let failed = 0;
let lastActionAt = 0;
let patches: PatchRecord[] = [];
/** When the first watch event of `name@gen` arrived (sync listings are not watch events). */
const receivedAt = new Map<string, number>();

/** The real client, with watch events and patches timestamped. */
function instrument(client: KubeClient): KubeClient {
  return new Proxy(client, {
    get(target, prop, receiver) {
      if (prop === 'watch') {
        return (t: Parameters<KubeClient['watch']>[0], o: Parameters<KubeClient['watch']>[1]) => {
          const inner = target.watch(t, o);
          return {
            async *[Symbol.asyncIterator]() {
              for await (const ev of inner as AsyncIterable<WatchEvent>) {
                const now = wallMs();
                if (ev.type !== 'BOOKMARK' && ev.type !== 'ERROR') {
                  if (events === 0) firstEventAt = now;
                  events++;
                  // The first arrival of each (object, gen): the event that asks for the patch.
                  const id = `${ev.object?.metadata?.name}@${(ev.object as { data?: { gen?: string } }).data?.gen}`;
                  if (!receivedAt.has(id)) receivedAt.set(id, now);
                }
                yield ev;
              }
            },
          };
        };
      }
      if (prop === 'patch') {
        return async (t: { name: string }, body: unknown, o: unknown) => {
          const sentAt = wallMs();
          const out = await target.patch(t as never, body, o as never);
          const doneAt = wallMs();
          const gen = /"seen":"([^"]*)"/.exec(JSON.stringify(body))?.[1] ?? '';
          const id = `${t.name}@${gen}`;
          patches.push({ name: t.name, gen, receivedAt: receivedAt.get(id) ?? sentAt, sentAt, doneAt });
          receivedAt.delete(id);
          return out;
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

keepYoungGenerationSmall(); // as `reflex run` does
const client = instrument(await createClient({ config: loadConfig({ kubeconfig: state.adminKubeconfig }), qps: 0 }));
const factory = new SharedInformerFactory(client);
const controller = new RuleController({
  client,
  factory,
  workers: Number(workersArg ?? 4),
  hooks: {
    evaluated: () => void evaluations++,
    action: (_rule, _action, outcome) => {
      if (outcome === 'failed') failed++;
      else actions++;
      lastActionAt = wallMs();
    },
  },
});
const { rules, errors } = loadRules([{ file: 'bench-rules.yaml', text: benchRules(namespace) }]);
if (errors.length > 0) throw errors[0];
const ac = new AbortController();
let cpu = process.cpuUsage();

function report(phase: string, from: number): RulesReport {
  const used = process.cpuUsage(cpu);
  const r: RulesReport = { phase, events, evaluations, actions, failed, ms: lastActionAt - from, cpuMs: (used.user + used.system) / 1000, peakRssMiB: peakRssMiB(), patches };
  events = evaluations = actions = failed = firstEventAt = 0;
  patches = [];
  cpu = process.cpuUsage();
  return r;
}

/** Resolves once `n` actions are done, or once none came for `quietMs`. */
async function actionsReach(n: number, quietMs = 3000): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  while (actions + failed < n) {
    if (actions + failed !== last) {
      last = actions + failed;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > quietMs) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

const started = wallMs();
factory.start(ac.signal);
await controller.setRules(new Map(rules.map((r) => [r.name, r])));
const running = controller.run(ac.signal, { drainMs: 5000 });
await actionsReach(Number(syncActionsArg), 10_000);
// The sweep is over when its queue is empty: every (rule, object) pair was either evaluated or,
// its condition decided false on the object, never queued.
const deadline = Date.now() + 120_000;
const idle = () => {
  const q = controller.queue.stats();
  return q.depth.live + q.depth.sweep + q.processing === 0;
};
while (!idle()) {
  if (Date.now() > deadline) throw new Error(`the sync sweep did not drain within 2 minutes (${evaluations} evaluations)`);
  await new Promise((r) => setTimeout(r, 20));
}
events = Number(objectsArg); // a sync sweep's events are the listed objects
emit(report('sync', started));

stdinLines((line) => {
  if (line === 'begin') {
    report('discard', 0);
    emit({ begun: true });
    return;
  }
  const m = /^end (\w+) (\d+)$/.exec(line);
  if (m) {
    void actionsReach(Number(m[2])).then(() => {
      const from = firstEventAt;
      emit(report(m[1], from));
    });
    return;
  }
  if (line === 'quit') {
    ac.abort();
    void running.then(async () => {
      await factory.shutdown();
      await client.close();
      process.exit(0);
    });
  }
});
