/**
 * watcher: the list → watch → relist state machine (kube-rs `watcher`), as an async
 * iterable of events that say what a cache must do. Failures travel as `Error`
 * events and the machine carries on; it ends only when its signal aborts.
 */
import type { KubeList, KubeObject } from '../core/index.js';
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
import { openStreamingList, readStreamingList, watchTimeout } from './streaming-list.js';
import { Watchdog, nextWithin } from './watchdog.js';
import { watcherContext, type StepResult, type WatcherConfig, type WatcherContext, type WatcherEvent, type WatcherState } from './watcher-state.js';

export * from './watcher-state.js';

type Ctx<T extends KubeObject> = WatcherContext<T>;

/** Advances the machine by one step: one list page, one watch open, a batch of a streaming list's initial events, or one watch event. */
export async function step<T extends KubeObject>(state: WatcherState<T>, ctx: Ctx<T>): Promise<StepResult<T>> {
  switch (state.phase) {
    case 'Empty':
      if (ctx.streamingList && ctx.streamingListSupport.served) return openStreamingList(ctx, !!state.consistent);
      // The first listing may come from the API server's watch cache (resourceVersion "0", as
      // client-go's reflector does): it answers at once and in one piece, and the watch from its
      // resourceVersion brings the cache up to date. A relist after an expiry reads the latest state.
      return { events: [{ type: 'Init' }], next: { phase: 'InitPage', resourceVersion: !state.consistent && ctx.initialListFromCache ? '0' : undefined } };
    case 'InitPage':
      return listPage(state, ctx);
    case 'InitStreaming':
      return readStreamingList(state, ctx);
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
  const timeoutSeconds = watchTimeout(ctx);
  try {
    const iterable = ctx.lw.watch({ resourceVersion, allowWatchBookmarks: true, timeoutSeconds, dropManagedFields: ctx.dropManagedFields, signal: abort.signal });
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
    if (state.phase === 'Watching' || state.phase === 'InitStreaming') state.abort.abort();
    if (state.phase === 'InitPage') state.pager?.close();
  }
}
