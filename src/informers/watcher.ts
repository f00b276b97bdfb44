/**
 * watcher: the list → watch → relist state machine (kube-rs `watcher`), as an async
 * iterable of events that say what a cache must do. Failures travel as `Error`
 * events and the machine carries on; it ends only when its signal aborts.
 */
import { realClock, type Clock, type KubeList, type KubeObject } from '../core/index.js';
import type { WatchEvent } from '../client/index.js';
import {
  ListFailedError,
  NoResourceVersionError,
  WatchClosedEarlyError,
  WatchFailedError,
  WatchdogTimeoutError,
  WatchStatusError,
  isResourceExpired,
} from './errors.js';
import type { ListerWatcher } from './list-watcher.js';
import { Pager } from './pager.js';
import { Watchdog, nextWithin } from './watchdog.js';

/**
 * What the consumer must do. A (re)list is `Init`, one `InitApply` per object,
 * then `InitDone`: the InitApply set replaces the cache at once. `Apply` and
 * `Delete` are watch changes. `Bookmark` moves the resourceVersion only.
 * `WatchStarted` and `Error` are for logs and metrics; an Error never ends the stream.
 */
export type WatcherEvent<T extends KubeObject = KubeObject> =
  | { type: 'Init' }
  | { type: 'InitApply'; object: T }
  | { type: 'InitDone'; resourceVersion: string }
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
   * Applied to each listed object as it is decoded, before the rest of the page arrives
   * (the informer's store stages it here: transform and index). What it throws fails the page.
   */
  onListItem?: (obj: KubeObject) => KubeObject;
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
export type WatcherContext<T extends KubeObject = KubeObject> = Required<Omit<WatcherConfig, 'clock' | 'random' | 'onListItem'>> & {
  onListItem?: (obj: KubeObject) => KubeObject;
  lw: ListerWatcher<T>;
  clock: Clock;
  random: () => number;
  signal: AbortSignal;
};
type Ctx<T extends KubeObject> = WatcherContext<T>;

/** The context of a watcher over `lw`: `config` with its defaults filled in. */
export function watcherContext<T extends KubeObject>(lw: ListerWatcher<T>, config: WatcherConfig, signal: AbortSignal): WatcherContext<T> {
  return {
    lw,
    signal,
    pageSize: config.pageSize ?? 500,
    listReadAhead: config.listReadAhead ?? 2,
    initialListFromCache: config.initialListFromCache ?? true,
    onListItem: config.onListItem,
    watchTimeoutSeconds: config.watchTimeoutSeconds ?? [300, 600],
    watchdogMs: config.watchdogMs ?? 240_000,
    minWatchMs: config.minWatchMs ?? 1000,
    clock: config.clock ?? realClock,
    random: config.random ?? Math.random,
  };
}

/** Advances the machine by one step: one list page, one watch open, or one watch event. */
export async function step<T extends KubeObject>(state: WatcherState<T>, ctx: Ctx<T>): Promise<StepResult<T>> {
  switch (state.phase) {
    case 'Empty':
      // The first listing may come from the API server's watch cache (resourceVersion "0", as
      // client-go's reflector does): it answers at once and in one piece, and the watch from its
      // resourceVersion brings the cache up to date. A relist after an expiry reads the latest state.
      return { events: [{ type: 'Init' }], next: { phase: 'InitPage', resourceVersion: !state.consistent && ctx.initialListFromCache ? '0' : undefined } };
    case 'InitPage':
      return listPage(state, ctx);
    case 'InitListed':
      if (!state.resourceVersion) return { events: [{ type: 'Error', error: new NoResourceVersionError(ctx.lw.description, 'watch') }], next: { phase: 'Empty' } };
      return openWatch(state.resourceVersion, ctx);
    case 'Watching':
      return readWatch(state, ctx);
  }
}

async function listPage<T extends KubeObject>(state: { continueToken?: string; pager?: Pager<T>; resourceVersion?: string }, ctx: Ctx<T>): Promise<StepResult<T>> {
  const pager = state.pager ?? new Pager(ctx, state.continueToken, state.resourceVersion);
  let page: KubeList<T>;
  try {
    page = await pager.next();
  } catch (err) {
    pager.close();
    const error = new ListFailedError(ctx.lw.description, err);
    // An expired continue token means the snapshot is gone: start the list over.
    const next: WatcherState<T> = isResourceExpired(err)
      ? { phase: 'Empty', consistent: true }
      : { phase: 'InitPage', continueToken: state.continueToken, resourceVersion: state.resourceVersion };
    return { events: [{ type: 'Error', error }], next };
  }
  const itemKind = page.kind?.endsWith('List') ? page.kind.slice(0, -4) : ctx.lw.kind;
  const itemApiVersion = page.apiVersion ?? ctx.lw.apiVersion;
  const events: WatcherEvent<T>[] = page.items.map((item) => ({
    type: 'InitApply',
    object: item.kind ? item : ({ apiVersion: itemApiVersion, kind: itemKind, ...item } as T),
  }));
  const token = page.metadata?.continue;
  if (token) return { events, next: { phase: 'InitPage', continueToken: token, pager: ctx.listReadAhead > 0 ? pager : undefined } };
  pager.close();
  const resourceVersion = page.metadata?.resourceVersion ?? '';
  if (!resourceVersion) {
    // Nothing to watch from (a watch without one would be a second full listing): list again, after a backoff.
    events.push({ type: 'Error', error: new NoResourceVersionError(ctx.lw.description, 'list') });
    return { events, next: { phase: 'Empty' } };
  }
  events.push({ type: 'InitDone', resourceVersion });
  return { events, next: { phase: 'InitListed', resourceVersion } };
}

async function openWatch<T extends KubeObject>(resourceVersion: string, ctx: Ctx<T>): Promise<StepResult<T>> {
  const abort = new AbortController();
  const onAbort = () => abort.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  abort.signal.addEventListener('abort', () => ctx.signal.removeEventListener('abort', onAbort), { once: true });
  const [min, max] = ctx.watchTimeoutSeconds;
  const timeoutSeconds = Math.round(min + (max - min) * ctx.random());
  try {
    const iterable = ctx.lw.watch({ resourceVersion, allowWatchBookmarks: true, timeoutSeconds, signal: abort.signal });
    const stream = iterable[Symbol.asyncIterator]();
    return {
      events: [{ type: 'WatchStarted', resourceVersion }],
      next: { phase: 'Watching', resourceVersion, stream, abort, openedAt: ctx.clock.now(), events: 0, watchdog: new Watchdog(ctx.clock, ctx.watchdogMs, abort.signal) },
    };
  } catch (err) {
    abort.abort();
    return watchFailed(err, resourceVersion, ctx);
  }
}

function watchFailed<T extends KubeObject>(err: unknown, resourceVersion: string, ctx: Ctx<T>): StepResult<T> {
  const own = err instanceof WatchStatusError || err instanceof WatchdogTimeoutError || err instanceof WatchClosedEarlyError;
  const error = own ? err : new WatchFailedError(ctx.lw.description, err);
  const next: WatcherState<T> = isResourceExpired(err) ? { phase: 'Empty', consistent: true } : { phase: 'InitListed', resourceVersion };
  return { events: [{ type: 'Error', error }], next };
}

async function readWatch<T extends KubeObject>(state: Extract<WatcherState<T>, { phase: 'Watching' }>, ctx: Ctx<T>): Promise<StepResult<T>> {
  const rv = state.resourceVersion;
  let result: IteratorResult<WatchEvent<T>> | 'stalled';
  try {
    result = await nextWithin(state.stream, state.watchdog);
  } catch (err) {
    state.abort.abort();
    return watchFailed(err, rv, ctx);
  }
  if (result === 'stalled') {
    state.abort.abort();
    return watchFailed(new WatchdogTimeoutError(ctx.lw.description, ctx.watchdogMs), rv, ctx);
  }
  if (result.done) {
    state.abort.abort();
    const lived = ctx.clock.now() - state.openedAt;
    if (state.events === 0 && lived < ctx.minWatchMs && !ctx.signal.aborted) {
      return watchFailed(new WatchClosedEarlyError(ctx.lw.description, lived), rv, ctx);
    }
    return { events: [], next: { phase: 'InitListed', resourceVersion: rv } };
  }
  const ev = result.value;
  const objRv = ev.object?.metadata?.resourceVersion || rv;
  const next: WatcherState<T> = { ...state, resourceVersion: objRv, events: state.events + 1 };
  switch (ev.type) {
    case 'ADDED':
    case 'MODIFIED':
      return { events: [{ type: 'Apply', object: ev.object }], next };
    case 'DELETED':
      return { events: [{ type: 'Delete', object: ev.object }], next };
    case 'BOOKMARK':
      return { events: [{ type: 'Bookmark', resourceVersion: objRv }], next };
    case 'ERROR':
      state.abort.abort();
      return watchFailed(new WatchStatusError(ctx.lw.description, ev.object), rv, ctx);
  }
  // Malformed stream data is an error, never silently skipped.
  state.abort.abort();
  const unknownType = String((ev as { type?: unknown }).type);
  return watchFailed(new Error(`unknown watch event type ${JSON.stringify(unknownType)}`), rv, ctx);
}

/**
 * The watcher as an async iterable: runs `step` until `signal` aborts, then closes
 * any open watch and ends. Errors are yielded, never thrown.
 */
export async function* watcher<T extends KubeObject>(
  lw: ListerWatcher<T>,
  config: WatcherConfig,
  signal: AbortSignal,
): AsyncGenerator<WatcherEvent<T>> {
  for await (const batch of watcherSteps(lw, config, signal)) yield* batch;
}

/**
 * `watcher`, one array of events per step (a whole list page at once): what the informer
 * consumes, so a page of 500 objects is one hand-over instead of 500.
 */
export async function* watcherSteps<T extends KubeObject>(
  lw: ListerWatcher<T>,
  config: WatcherConfig,
  signal: AbortSignal,
): AsyncGenerator<WatcherEvent<T>[]> {
  const ctx = watcherContext(lw, config, signal);
  let state: WatcherState<T> = { phase: 'Empty' };
  try {
    while (!signal.aborted) {
      const result: StepResult<T> = await step(state, ctx);
      const events = result.events;
      state = result.next;
      if (signal.aborted) return;
      if (events.length > 0) yield events;
    }
  } finally {
    if (state.phase === 'Watching') state.abort.abort();
    if (state.phase === 'InitPage') state.pager?.close();
  }
}
