/**
 * The vocabulary of the watcher: the events it yields, its configuration, its states
 * (a discriminated union) and the context `step` works with.
 */
import { realClock, type Clock, type KubeObject } from '../core/index.js';
import type { WatchEvent } from '../client/index.js';
import type { ListerWatcher } from './list-watcher.js';
import type { Pager } from './pager.js';
import { DEFAULT_STREAMING_LIST, StreamingListSupport } from './streaming-list-support.js';
import type { Watchdog } from './watchdog.js';

/**
 * What the consumer must do. A (re)list is `Init`, one `InitApply` per object,
 * then `InitDone`: the InitApply set replaces the cache at once (a LIST and a streaming
 * list say it in the same words). `Apply` and
 * `Delete` are watch changes. `Bookmark` moves the resourceVersion only.
 * `WatchStarted` and `Error` are for logs and metrics; an Error never ends the stream.
 */
export type WatcherEvent<T extends KubeObject = KubeObject> =
  | { type: 'Init' }
  | { type: 'InitApply'; object: T }
  /** `streamed`: the listing came as a streaming list (else as a LIST). */
  | { type: 'InitDone'; resourceVersion: string; streamed?: boolean }
  | { type: 'Apply'; object: T }
  | { type: 'Delete'; object: T }
  | { type: 'Bookmark'; resourceVersion: string }
  | { type: 'WatchStarted'; resourceVersion: string }
  | { type: 'Error'; error: Error };

export interface WatcherConfig {
  /** Page size of lists. Default 500 (client-go's reflector). */
  pageSize?: number;
  /**
   * List pages asked for ahead of the one being applied. Each page's `continue` token is
   * in its metadata, which the API server writes before the items, so the next page can
   * be requested while this one still streams; the server serves one while the client
   * decodes another. At most 1 + this many requests are in flight, so memory stays bounded
   * by a few pages. Default 2; 0 = one page at a time, each asked for once the one before
   * it has been applied.
   */
  listReadAhead?: number;
  /**
   * List the first time with resourceVersion "0": the API server answers from its watch
   * cache, whole (it ignores the page size there), instead of reading pages from storage.
   * The data may be slightly behind; the watch that follows starts at the listing's
   * resourceVersion, so nothing is missed. A relist after 410 Gone always reads the latest
   * state. Default true (client-go's reflector does the same).
   */
  initialListFromCache?: boolean;
  /**
   * The first listing and every relist through a streaming list (WatchList: a watch with
   * `sendInitialEvents=true`, `resourceVersionMatch=NotOlderThan`, whose BOOKMARK annotated
   * `k8s.io/initial-events-end` closes the initial state) where the server serves it; the
   * stream then goes on as the watch. A server that refuses it (an old one, or one with the
   * WatchList feature off, answers 4xx) is listed with LIST from then on (see `streamingListSupport`).
   * Default DEFAULT_STREAMING_LIST; false: always LIST.
   */
  streamingList?: boolean;
  /**
   * What is known of the server's support of streaming lists, shared by the informers of one
   * server so that it is found out once (the informer factory shares one). Default: this watcher's own.
   */
  streamingListSupport?: StreamingListSupport;
  /**
   * Applied to each listed object as it is decoded, before the rest of the page arrives
   * (the informer's store stages it here: transform and index). What it throws fails the page.
   */
  onListItem?: (obj: KubeObject) => KubeObject;
  /**
   * Listed and watched objects come without `metadata.managedFields`, cut out of their bytes
   * before they are decoded (most of the decoding work on typical objects). For consumers that
   * drop them anyway, as the store's default transform does. Default false.
   */
  dropManagedFields?: boolean;
  /**
   * Server-side watch timeout, picked at random in [min, max] seconds for each watch,
   * so that many watches opened together do not all reconnect together.
   * Default [300, 600] (client-go: 5 min, × 1–2).
   */
  watchTimeoutSeconds?: [number, number];
  /**
   * Watchdog: a stream silent (no event, no bookmark) for this long is restarted.
   * Default 240 000 ms: an idle watch with bookmarks hears from the API server
   * every minute (the first bookmark comes after about two minutes, as measured on
   * Kubernetes 1.35), so four minutes of silence means the connection is dead.
   */
  watchdogMs?: number;
  /** A watch closed cleanly sooner than this with no event counts as a failure (backed off). Default 1000 ms. */
  minWatchMs?: number;
  /** Time source (watchdog). Default `realClock`. */
  clock?: Clock;
  /** Randomness for watch timeouts, in [0, 1). Default Math.random. */
  random?: () => number;
}

/** The states of the machine, as a discriminated union. */
export type WatcherState<T extends KubeObject = KubeObject> =
  /** Nothing listed yet; `consistent` after an expiry (410): the relist must read the latest state. */
  | { phase: 'Empty'; consistent?: boolean }
  | { phase: 'InitPage'; continueToken?: string; pager?: Pager<T>; resourceVersion?: string }
  /** A streaming list open, its initial events still coming; `consistent` as in Empty (a failure starts over from Empty). */
  | {
      phase: 'InitStreaming';
      consistent: boolean;
      stream: AsyncIterator<WatchEvent<T>>;
      abort: AbortController;
      openedAt: number;
      /** Initial events received so far. */
      events: number;
      watchdog: Watchdog;
    }
  | { phase: 'InitListed'; resourceVersion: string }
  | {
      phase: 'Watching';
      resourceVersion: string;
      stream: AsyncIterator<WatchEvent<T>>;
      abort: AbortController;
      openedAt: number;
      events: number;
      watchdog: Watchdog;
    };

export interface StepResult<T extends KubeObject> {
  events: WatcherEvent<T>[];
  next: WatcherState<T>;
}

/** What `step` works with: the resource, the configuration with its defaults filled in, and the stop signal. */
export type WatcherContext<T extends KubeObject = KubeObject> = Required<Omit<WatcherConfig, 'clock' | 'random' | 'onListItem' | 'streamingListSupport'>> & {
  onListItem?: (obj: KubeObject) => KubeObject;
  streamingListSupport: StreamingListSupport;
  lw: ListerWatcher<T>;
  clock: Clock;
  random: () => number;
  signal: AbortSignal;
};

/** The context of a watcher over `lw`: `config` with its defaults filled in. */
export function watcherContext<T extends KubeObject>(lw: ListerWatcher<T>, config: WatcherConfig, signal: AbortSignal): WatcherContext<T> {
  return {
    lw,
    signal,
    pageSize: config.pageSize ?? 500,
    listReadAhead: config.listReadAhead ?? 2,
    initialListFromCache: config.initialListFromCache ?? true,
    streamingList: config.streamingList ?? DEFAULT_STREAMING_LIST,
    streamingListSupport: config.streamingListSupport ?? new StreamingListSupport(),
    onListItem: config.onListItem,
    dropManagedFields: config.dropManagedFields ?? false,
    watchTimeoutSeconds: config.watchTimeoutSeconds ?? [300, 600],
    watchdogMs: config.watchdogMs ?? 240_000,
    minWatchMs: config.minWatchMs ?? 1000,
    clock: config.clock ?? realClock,
    random: config.random ?? Math.random,
  };
}

