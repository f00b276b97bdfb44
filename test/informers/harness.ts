/** Unit-test harness for informers: a memory lister-watcher, a fake clock and a recording handler. */
import { ExponentialBackoff, FakeClock, objectKey, type KubeObject } from '../../src/core/index.js';
import { SharedInformer, type InformerHandler, type SharedInformerOptions } from '../../src/informers/index.js';
import { MemoryListerWatcher } from './memory-lister-watcher.js';

export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Lets the informer run until `cond` holds (no clock advance); fails after many idle rounds. */
export async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await flush();
  }
  throw new Error(`never happened: ${what}`);
}

const rv = (o: KubeObject) => o.metadata?.resourceVersion ?? '';

/** Records handler calls as short sentences, e.g. `add ns/a@101 initial`. */
export class Recorder {
  readonly calls: string[] = [];
  readonly handler: InformerHandler = {
    add: (o, initial) => this.calls.push(`add ${objectKey(o)}@${rv(o)}${initial ? ' initial' : ''}`),
    update: (old, o) => this.calls.push(`update ${objectKey(o)}@${rv(old)}->${rv(o)}`),
    delete: (o) => this.calls.push(`delete ${objectKey(o)}`),
  };
  take(): string[] {
    return this.calls.splice(0);
  }
}

export function startInformer(options: SharedInformerOptions = {}, lw = new MemoryListerWatcher()) {
  const clock = (options.clock as FakeClock | undefined) ?? new FakeClock(1_000_000);
  const informer = new SharedInformer(lw, {
    clock,
    pageSize: 2,
    random: () => 0.5,
    backoff: new ExponentialBackoff({ random: () => 0 }),
    // The LIST path unless a test asks for streaming lists (test/informers/streaming-list.test.ts).
    streamingList: false,
    ...options,
  });
  const rec = new Recorder();
  informer.addHandler(rec.handler);
  const ac = new AbortController();
  const running = informer.run(ac.signal);
  return {
    clock,
    lw,
    /** Waits until the informer sleeps on the clock (backoff), then moves time by `ms`. */
    async advanceWhenWaiting(ms: number) {
      await until(() => clock.pendingTimers() > 0, 'a timer on the clock');
      clock.advance(ms);
    },
    informer,
    rec,
    async stop() {
      ac.abort();
      await running;
    },
  };
}
