/** SharedInformerFactory: one shared informer per (resource, namespace, label selector, field selector, metadata-only). */
import { setMaxListeners } from 'node:events';
import { nullLogger, type KubeObject, type Logger } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import { listWatcherFor, type InformerTarget } from './list-watcher.js';
import { projectionTransform } from './projection.js';
import { SharedInformer, type SharedInformerOptions } from './shared-informer.js';
import { StreamingListSupport } from './streaming-list-support.js';

export type SharedInformerFactoryOptions = Omit<SharedInformerOptions, 'logger'> & {
  /** Default `nullLogger`. */
  logger?: Logger;
  /**
   * Honour targets' `keep` (caches hold only those paths of each object). Default true; false:
   * `keep` is ignored, every informer caches whole objects and targets that differ only in `keep`
   * share one informer.
   */
  trimCaches?: boolean;
};

/** The sharing key of a target: equal targets share one informer. */
export function informerKey(t: InformerTarget): string {
  return JSON.stringify([t.apiVersion, t.kind, t.namespace ?? '', t.labelSelector ?? '', t.fieldSelector ?? '', !!t.metadataOnly, !!t.keepManagedFields, ...(t.keep ? [t.keep] : [])]);
}

/** An informer handed out with `acquire`, and the means to give it back. */
export interface AcquiredInformer<T extends KubeObject = KubeObject> {
  informer: SharedInformer<T>;
  /** Gives the informer back; the last release of an informer nobody else holds stops it. Idempotent. */
  release(): void;
}

interface Entry {
  informer: SharedInformer;
  target: InformerTarget;
  /** Holders through `acquire`. */
  users: number;
  /** Handed out by `informerFor`: kept until shutdown. */
  permanent: boolean;
  /** Stops this informer's run. */
  stop?: AbortController;
}

/** Keeps managedFields: the transform of informers whose target asks for them. */
const keepAll = <T>(obj: T): T => obj;

/**
 * Hands out shared informers and runs them. Informers asked for after `start`
 * start at once; `shutdown` stops them all and waits for them to finish.
 */
export class SharedInformerFactory {
  private readonly entries = new Map<string, Entry>();
  private readonly runs = new Set<Promise<void>>();
  private controller: AbortController | undefined;
  /** One server: whether it serves streaming lists is found out once, for all informers. */
  private readonly streamingListSupport: StreamingListSupport;

  constructor(
    private readonly client: KubeClient,
    private readonly options: SharedInformerFactoryOptions = {},
  ) {
    const logger = options.logger ?? nullLogger;
    this.streamingListSupport =
      options.streamingListSupport ??
      new StreamingListSupport((error) => logger.info('the API server does not serve streaming lists; informers list with LIST', { server: client.server, error: error.message }));
  }

  /**
   * The informer for `target`, created on first use (and started if the factory runs), kept until
   * shutdown. `options` override the factory's and apply only when this call creates the informer.
   */
  informerFor<T extends KubeObject = KubeObject>(target: InformerTarget, options: SharedInformerFactoryOptions = {}): SharedInformer<T> {
    const entry = this.entry(this.untrimmed(target), options);
    entry.permanent = true;
    return entry.informer as unknown as SharedInformer<T>;
  }

  /**
   * The informer for `target`, counted: when every holder has released it (and nobody got it from
   * `informerFor`), it stops and leaves the factory, so a watch nobody needs is closed.
   */
  acquire<T extends KubeObject = KubeObject>(wanted: InformerTarget, options: SharedInformerFactoryOptions = {}): AcquiredInformer<T> {
    const target = this.untrimmed(wanted);
    const key = informerKey(target);
    const entry = this.entry(target, options);
    entry.users++;
    let released = false;
    return {
      informer: entry.informer as unknown as SharedInformer<T>,
      release: () => {
        if (released) return;
        released = true;
        entry.users--;
        if (entry.users > 0 || entry.permanent || this.entries.get(key) !== entry) return;
        entry.stop?.abort();
        this.entries.delete(key);
      },
    };
  }

  /** Every informer handed out so far (and not released). */
  list(): SharedInformer[] {
    return [...this.entries.values()].map((e) => e.informer);
  }

  /** Every informer handed out so far (and not released), with what it watches. */
  targets(): { target: InformerTarget; informer: SharedInformer }[] {
    return [...this.entries.values()].map((e) => ({ target: e.target, informer: e.informer }));
  }

  /** Starts every informer (and, from now on, new ones) until `signal` aborts or `shutdown`. */
  start(signal?: AbortSignal): void {
    if (this.controller) return;
    const controller = new AbortController();
    // One listener per informer: a daemon with many watched kinds is not a leak.
    setMaxListeners(0, controller.signal);
    this.controller = controller;
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    for (const entry of this.entries.values()) this.launch(entry, controller.signal);
  }

  /** Resolves true once every informer handed out so far has synced, false when `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all(this.list().map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Stops every informer and waits until they have closed their watches. */
  async shutdown(): Promise<void> {
    this.controller?.abort();
    this.controller = undefined;
    await Promise.all(this.runs);
  }

  /** `target` without `keep` when trimming is off. */
  private untrimmed(target: InformerTarget): InformerTarget {
    if (this.options.trimCaches !== false || !target.keep) return target;
    const { keep: _ignored, ...whole } = target;
    return whole;
  }

  private entry(target: InformerTarget, options: SharedInformerFactoryOptions): Entry {
    const key = informerKey(target);
    let entry = this.entries.get(key);
    if (!entry) {
      const informer = new SharedInformer(listWatcherFor(this.client, target), {
        ...this.options,
        streamingListSupport: this.streamingListSupport,
        ...(target.keep
          ? { transform: projectionTransform(target.keep, target), dropManagedFields: !target.keepManagedFields }
          : target.keepManagedFields
            ? { transform: keepAll }
            : {}),
        ...options,
        logger: options.logger ?? this.options.logger ?? nullLogger,
      });
      entry = { informer, target, users: 0, permanent: false };
      this.entries.set(key, entry);
      if (this.controller) this.launch(entry, this.controller.signal);
    }
    return entry;
  }

  private launch(entry: Entry, signal: AbortSignal): void {
    const stop = new AbortController();
    entry.stop = stop;
    const onAbort = () => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const run = entry.informer.run(stop.signal);
    this.runs.add(run);
    void run.finally(() => {
      this.runs.delete(run);
      signal.removeEventListener('abort', onAbort);
    });
  }
}
