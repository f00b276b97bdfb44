/** SharedInformerFactory: one shared informer per (resource, namespace, label selector, field selector, metadata-only). */
import { nullLogger, type KubeObject, type Logger } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import { listWatcherFor, type InformerTarget } from './list-watcher.js';
import { SharedInformer, type SharedInformerOptions } from './shared-informer.js';

export type SharedInformerFactoryOptions = Omit<SharedInformerOptions, 'logger'> & {
  /** Default `nullLogger`. */
  logger?: Logger;
};

/** The sharing key of a target: equal targets share one informer. */
export function informerKey(t: InformerTarget): string {
  return JSON.stringify([t.apiVersion, t.kind, t.namespace ?? '', t.labelSelector ?? '', t.fieldSelector ?? '', !!t.metadataOnly]);
}

/**
 * Hands out shared informers and runs them. Informers asked for after `start`
 * start at once; `shutdown` stops them all and waits for them to finish.
 */
export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer>();
  private readonly runs = new Set<Promise<void>>();
  private controller: AbortController | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly options: SharedInformerFactoryOptions = {},
  ) {}

  /**
   * The informer for `target`, created on first use (and started if the factory runs).
   * `options` override the factory's (e.g. a transform that keeps managedFields) and
   * apply only when this call creates the informer.
   */
  informerFor<T extends KubeObject = KubeObject>(target: InformerTarget, options: SharedInformerFactoryOptions = {}): SharedInformer<T> {
    const key = informerKey(target);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new SharedInformer(listWatcherFor(this.client, target), {
        ...this.options,
        ...options,
        logger: options.logger ?? this.options.logger ?? nullLogger,
      });
      this.informers.set(key, informer);
      if (this.controller) this.launch(informer, this.controller.signal);
    }
    return informer as unknown as SharedInformer<T>;
  }

  /** Every informer handed out so far. */
  list(): SharedInformer[] {
    return [...this.informers.values()];
  }

  /** Starts every informer (and, from now on, new ones) until `signal` aborts or `shutdown`. */
  start(signal?: AbortSignal): void {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
    for (const informer of this.informers.values()) this.launch(informer, controller.signal);
  }

  /** Resolves true once every informer handed out so far has synced, false when `signal` aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
    return results.every(Boolean);
  }

  /** Stops every informer and waits until they have closed their watches. */
  async shutdown(): Promise<void> {
    this.controller?.abort();
    this.controller = undefined;
    await Promise.all(this.runs);
  }

  private launch(informer: SharedInformer, signal: AbortSignal): void {
    const run = informer.run(signal);
    this.runs.add(run);
    void run.finally(() => this.runs.delete(run));
  }
}
