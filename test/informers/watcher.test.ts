import { expect } from 'chai';
import { FakeClock, type KubeList } from '../../src/core/index.js';
import { KubeApiError, type WatchEvent } from '../../src/client/index.js';
import { step, watcherContext, type StepResult, type WatcherConfig, type WatcherContext, type WatcherEvent, type WatcherState } from '../../src/informers/index.js';
import { flush } from './harness.js';
import { MemoryListerWatcher, cm } from './memory-lister-watcher.js';

/** One event in a few words: `Init`, `InitApply ns/a`, `InitDone 103`, `Error ListFailedError`. */
function said(ev: WatcherEvent): string {
  switch (ev.type) {
    case 'InitApply':
    case 'Apply':
    case 'Delete':
      return `${ev.type} ${ev.object.metadata?.namespace}/${ev.object.metadata?.name}`;
    case 'InitDone':
    case 'Bookmark':
    case 'WatchStarted':
      return `${ev.type} ${ev.resourceVersion}`;
    case 'Error':
      return `Error ${ev.error.name}`;
    default:
      return ev.type;
  }
}

/** The state in a few words: its phase and the fields a test cares about. */
function where(s: WatcherState): Record<string, unknown> {
  switch (s.phase) {
    case 'Empty':
      return { phase: s.phase, consistent: s.consistent ?? false };
    case 'InitPage':
      return { phase: s.phase, continueToken: s.continueToken, resourceVersion: s.resourceVersion };
    case 'InitStreaming':
      return { phase: s.phase, consistent: s.consistent, events: s.events };
    case 'InitListed':
    case 'Watching':
      return { phase: s.phase, resourceVersion: s.resourceVersion };
  }
}

const streaming: WatcherConfig = { streamingList: true };
const endBookmark = (rv: string, annotated = true): WatchEvent => ({
  type: 'BOOKMARK',
  object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: rv, ...(annotated ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) } },
});
const added = (name: string, rv: string): WatchEvent => ({ type: 'ADDED', object: { ...cm('ns', name), metadata: { namespace: 'ns', name, resourceVersion: rv } } });

/** Opens a streaming list through the machine itself. */
async function streamingFrom(ctx: WatcherContext, consistent = false): Promise<WatcherState> {
  return (await step({ phase: 'Empty', consistent }, ctx)).next;
}

const gone = () => new KubeApiError({ verb: 'list', resource: 'configmaps', server: 'memory' }, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' });

interface Row {
  name: string;
  /** Objects in the resource before the step (resourceVersions 101, 102, …). */
  seed?: number;
  config?: WatcherConfig;
  /** The state the step starts from, made from a context (states holding a stream are opened by earlier steps). */
  from: (ctx: WatcherContext, lw: MemoryListerWatcher) => Promise<WatcherState> | WatcherState;
  /** What happens while the step runs (the server's side), after the step has started. */
  during?: (lw: MemoryListerWatcher, clock: FakeClock) => void | Promise<void>;
  events: string[];
  next: Record<string, unknown>;
}

/** Opens a watch at resourceVersion `rv` through the machine itself. */
async function watching(ctx: WatcherContext, rv: string): Promise<WatcherState> {
  return (await step({ phase: 'InitListed', resourceVersion: rv }, ctx)).next;
}

const rows: Row[] = [
  { name: 'Empty, streaming lists on: opens a streaming list of any cached state', config: streaming, from: () => ({ phase: 'Empty' }), events: ['Init', 'WatchStarted 0'], next: { phase: 'InitStreaming', consistent: false, events: 0 } },
  { name: 'Empty after an expiry, streaming lists on: opens a streaming list of the latest state', config: streaming, from: () => ({ phase: 'Empty', consistent: true }), events: ['Init', 'WatchStarted '], next: { phase: 'InitStreaming', consistent: true, events: 0 } },
  {
    name: 'Empty, streaming lists on but refused by this server before: lists with LIST',
    config: streaming,
    from: (ctx) => (ctx.streamingListSupport.refuse(new Error('422')), { phase: 'Empty' }),
    events: ['Init'],
    next: { phase: 'InitPage', continueToken: undefined, resourceVersion: '0' },
  },
  { name: 'InitStreaming: applies the initial events and completes the listing at the closing bookmark, going on as the watch', seed: 2, config: streaming, from: (ctx) => streamingFrom(ctx), events: ['InitApply ns/o0', 'InitApply ns/o1', 'InitDone 102'], next: { phase: 'Watching', resourceVersion: '102' } },
  { name: 'InitStreaming with more than a page of initial events: hands them over a page at a time', seed: 3, config: { ...streaming, pageSize: 2 }, from: (ctx) => streamingFrom(ctx), events: ['InitApply ns/o0', 'InitApply ns/o1'], next: { phase: 'InitStreaming', consistent: false, events: 2 } },
  {
    name: 'InitStreaming refused (422): no error, and the listing starts over with LIST',
    seed: 1,
    config: streaming,
    from: (ctx, lw) => ((lw.refuseStreamingLists = 422), streamingFrom(ctx)),
    events: [],
    next: { phase: 'Empty', consistent: false },
  },
  {
    name: 'InitStreaming failing: reports the failure and starts the streaming list over',
    config: streaming,
    from: (ctx, lw) => ((lw.watchErrors = [new Error('socket hang up')]), streamingFrom(ctx)),
    events: ['Error WatchFailedError'],
    next: { phase: 'Empty', consistent: false },
  },
  {
    name: 'InitStreaming ended before its closing bookmark: an error, and the listing starts over',
    seed: 2,
    config: streaming,
    from: (ctx, lw) => ((lw.cutStreamingListsAfter = 1), streamingFrom(ctx)),
    events: ['InitApply ns/o0', 'Error StreamingListEndedError'],
    next: { phase: 'Empty', consistent: false },
  },
  {
    name: 'InitStreaming, ERROR 410: starts over from the latest state',
    config: streaming,
    from: (ctx, lw) => ((lw.scriptedStreamingList = [{ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', code: 410, reason: 'Expired', message: 'too old' } }]), streamingFrom(ctx)),
    events: ['Error WatchStatusError'],
    next: { phase: 'Empty', consistent: true },
  },
  {
    name: 'InitStreaming, a bookmark without the initial-events-end annotation: moves nothing, the listing goes on',
    config: streaming,
    from: (ctx, lw) => ((lw.scriptedStreamingList = [added('a', '5'), endBookmark('6', false), added('b', '7'), endBookmark('8')]), streamingFrom(ctx)),
    events: ['InitApply ns/a', 'InitApply ns/b', 'InitDone 8'],
    next: { phase: 'Watching', resourceVersion: '8' },
  },
  {
    name: 'InitStreaming, a closing bookmark without a resourceVersion: an error, and the listing starts over',
    config: streaming,
    from: (ctx, lw) => ((lw.scriptedStreamingList = [added('a', '5'), endBookmark('')]), streamingFrom(ctx)),
    events: ['InitApply ns/a', 'Error NoResourceVersionError'],
    next: { phase: 'Empty', consistent: false },
  },
  {
    name: 'InitStreaming, a DELETED among the initial events: malformed, an error, and the listing starts over',
    config: streaming,
    from: (ctx, lw) => ((lw.scriptedStreamingList = [added('a', '5'), { ...added('a', '6'), type: 'DELETED' }]), streamingFrom(ctx)),
    events: ['InitApply ns/a', 'Error WatchFailedError'],
    next: { phase: 'Empty', consistent: false },
  },
  {
    name: 'InitStreaming, silent for the watchdog interval: starts the listing over',
    config: { ...streaming, watchdogMs: 5000 },
    from: (ctx, lw) => ((lw.stalled = true), streamingFrom(ctx)),
    during: (_, clock) => clock.advance(5000),
    events: ['Error WatchdogTimeoutError'],
    next: { phase: 'Empty', consistent: false },
  },
  { name: 'Empty: starts a listing, first from the watch cache', from: () => ({ phase: 'Empty' }), events: ['Init'], next: { phase: 'InitPage', continueToken: undefined, resourceVersion: '0' } },
  { name: 'Empty after an expiry: starts a listing of the latest state', from: () => ({ phase: 'Empty', consistent: true }), events: ['Init'], next: { phase: 'InitPage', continueToken: undefined, resourceVersion: undefined } },
  { name: 'Empty with initialListFromCache off: lists the latest state', config: { initialListFromCache: false }, from: () => ({ phase: 'Empty' }), events: ['Init'], next: { phase: 'InitPage', continueToken: undefined, resourceVersion: undefined } },
  { name: 'InitPage, the last page: applies its items and completes the listing at its resourceVersion', seed: 2, from: () => ({ phase: 'InitPage' }), events: ['InitApply ns/o0', 'InitApply ns/o1', 'InitDone 102'], next: { phase: 'InitListed', resourceVersion: '102' } },
  { name: 'InitPage with more to come: applies the page and goes on with its continue token', seed: 3, config: { pageSize: 2 }, from: () => ({ phase: 'InitPage' }), events: ['InitApply ns/o0', 'InitApply ns/o1'], next: { phase: 'InitPage', continueToken: '1:2', resourceVersion: undefined } },
  {
    name: 'InitPage failing: reports the failure and asks for the same page again',
    from: (_, lw) => ((lw.listErrors = [new Error('connect ECONNREFUSED')]), { phase: 'InitPage', continueToken: 'x:2' }),
    events: ['Error ListFailedError'],
    next: { phase: 'InitPage', continueToken: 'x:2', resourceVersion: undefined },
  },
  {
    name: 'InitPage answered 410 (expired continue token): starts the listing over from the latest state',
    from: (_, lw) => ((lw.listErrors = [gone()]), { phase: 'InitPage', continueToken: 'x:2' }),
    events: ['Error ListFailedError'],
    next: { phase: 'Empty', consistent: true },
  },
  {
    name: 'InitPage answered without a resourceVersion: an error, and the listing starts over (no watch from nothing)',
    seed: 1,
    from: (ctx) => {
      const list = ctx.lw.list.bind(ctx.lw);
      ctx.lw.list = async (o) => ({ ...(await list(o)), metadata: {} }) as KubeList;
      return { phase: 'InitPage' };
    },
    events: ['InitApply ns/o0', 'Error NoResourceVersionError'],
    next: { phase: 'Empty', consistent: false },
  },
  { name: 'InitListed without a resourceVersion: an error, and no watch is opened', from: () => ({ phase: 'InitListed', resourceVersion: '' }), events: ['Error NoResourceVersionError'], next: { phase: 'Empty', consistent: false } },
  { name: 'InitListed: opens a watch from the listing’s resourceVersion', seed: 1, from: () => ({ phase: 'InitListed', resourceVersion: '101' }), events: ['WatchStarted 101'], next: { phase: 'Watching', resourceVersion: '101' } },
  { name: 'Watching, ADDED: applies it and moves the resourceVersion', seed: 1, from: (ctx) => watching(ctx, '101'), during: (lw) => void lw.upsert(cm('ns', 'new')), events: ['Apply ns/new'], next: { phase: 'Watching', resourceVersion: '102' } },
  { name: 'Watching, MODIFIED: applies it', seed: 1, from: (ctx) => watching(ctx, '101'), during: (lw) => void lw.upsert(cm('ns', 'o0', { v: '1' })), events: ['Apply ns/o0'], next: { phase: 'Watching', resourceVersion: '102' } },
  { name: 'Watching, DELETED: deletes it', seed: 1, from: (ctx) => watching(ctx, '101'), during: (lw) => lw.remove('ns', 'o0'), events: ['Delete ns/o0'], next: { phase: 'Watching', resourceVersion: '102' } },
  { name: 'Watching, BOOKMARK: moves the resourceVersion only', seed: 1, from: (ctx) => watching(ctx, '101'), during: (lw) => ((lw.rv = 150), lw.bookmark()), events: ['Bookmark 150'], next: { phase: 'Watching', resourceVersion: '150' } },
  { name: 'Watching, ERROR 410: relists from the latest state', seed: 1, from: (ctx) => watching(ctx, '101'), during: (lw) => lw.error(410, 'Expired'), events: ['Error WatchStatusError'], next: { phase: 'Empty', consistent: true } },
  { name: 'Watching, ERROR 500: watches again from the same resourceVersion', seed: 1, from: (ctx) => watching(ctx, '101'), during: (lw) => lw.error(500, 'InternalError'), events: ['Error WatchStatusError'], next: { phase: 'InitListed', resourceVersion: '101' } },
  {
    name: 'Watching, the stream fails: watches again from the same resourceVersion',
    seed: 1,
    from: (ctx, lw) => ((lw.watchErrors = [new Error('socket hang up')]), watching(ctx, '101')),
    events: ['Error WatchFailedError'],
    next: { phase: 'InitListed', resourceVersion: '101' },
  },
  {
    name: 'Watching, closed by the server after a while: watches again, no error',
    seed: 1,
    config: { watchdogMs: 600_000 },
    from: (ctx) => watching(ctx, '101'),
    during: (lw, clock) => (clock.advance(300_000), lw.closeStreams()),
    events: [],
    next: { phase: 'InitListed', resourceVersion: '101' },
  },
  { name: 'Watching, closed at once without events: a failure, so it is backed off', seed: 1, from: (ctx) => watching(ctx, '101'), during: (lw) => lw.closeStreams(), events: ['Error WatchClosedEarlyError'], next: { phase: 'InitListed', resourceVersion: '101' } },
  {
    name: 'Watching, silent for the watchdog interval: restarts the watch from the same resourceVersion',
    seed: 1,
    config: { watchdogMs: 5000 },
    from: (ctx) => watching(ctx, '101'),
    during: (_, clock) => clock.advance(5000),
    events: ['Error WatchdogTimeoutError'],
    next: { phase: 'InitListed', resourceVersion: '101' },
  },
];

describe('watcher step', () => {
  it('asks a streaming list for initial events, NotOlderThan, with bookmarks, and remembers a refusal for the whole server', async () => {
    const lw = new MemoryListerWatcher();
    lw.refuseStreamingLists = 422;
    const ac = new AbortController();
    const ctx = watcherContext(lw, { clock: new FakeClock(0), random: () => 0.5, streamingList: true }, ac.signal);
    const opened = await step({ phase: 'Empty' }, ctx);
    const refused = await step(opened.next, ctx);
    expect(lw.watchCalls.map((w) => [w.resourceVersion, w.sendInitialEvents, w.allowWatchBookmarks, w.timeoutSeconds])).to.deep.equal([['0', true, true, 450]]);
    expect(ctx.streamingListSupport.served).to.equal(false);
    expect(ctx.streamingListSupport.refusedWith?.message).to.include('sendInitialEvents is forbidden');
    const again = watcherContext(lw, { streamingList: true, streamingListSupport: ctx.streamingListSupport }, ac.signal);
    expect(where((await step(refused.next, again)).next)).to.deep.equal({ phase: 'InitPage', continueToken: undefined, resourceVersion: '0' });
    ac.abort();
  });

  for (const row of rows) {
    it(row.name, async () => {
      const lw = new MemoryListerWatcher();
      for (let i = 0; i < (row.seed ?? 0); i++) lw.upsert(cm('ns', `o${i}`));
      const clock = new FakeClock(1_000_000);
      const ac = new AbortController();
      const ctx = watcherContext(lw, { clock, random: () => 0.5, streamingList: false, ...row.config }, ac.signal);
      const from = await row.from(ctx, lw);
      const running = step(from, ctx);
      await flush();
      await row.during?.(lw, clock);
      const result: StepResult<never> = (await running) as StepResult<never>;
      expect(result.events.map(said)).to.deep.equal(row.events);
      expect(where(result.next)).to.deep.equal(row.next);
      ac.abort();
      if (result.next.phase === 'Watching' || result.next.phase === 'InitStreaming') result.next.abort.abort();
    });
  }

  it('opens a watch with bookmarks and a server timeout picked at random between 300 and 600 s', async () => {
    const lw = new MemoryListerWatcher();
    const ac = new AbortController();
    const ctx = watcherContext(lw, { clock: new FakeClock(0), random: () => 0.25, streamingList: false }, ac.signal);
    const { next } = await step({ phase: 'InitListed', resourceVersion: '7' }, ctx);
    expect(lw.watchCalls).to.have.length(0); // opened lazily, on the first read
    if (next.phase === 'Watching') void next.stream.next();
    await flush();
    expect(lw.watchCalls.map((w) => [w.resourceVersion, w.allowWatchBookmarks, w.timeoutSeconds])).to.deep.equal([['7', true, 375]]);
    ac.abort();
    if (next.phase === 'Watching') next.abort.abort();
  });
});
