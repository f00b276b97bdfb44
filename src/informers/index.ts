/** informers: list+watch state machine, stores with indexes, shared informer factory, resync, handlers. */
export { watcher, watcherSteps, watcherContext, step, type WatcherEvent, type WatcherConfig, type WatcherState, type WatcherContext, type StepResult } from './watcher.js';
export { Pager, type PagerOptions } from './pager.js';
export { Watchdog } from './watchdog.js';
export { StreamingListSupport, isStreamingListRefused, DEFAULT_STREAMING_LIST, INITIAL_EVENTS_END_ANNOTATION } from './streaming-list-support.js';
export { withBackoff, reflectorBackoff, type WatcherBackoffOptions } from './backoff.js';
export { reflect, type ReflectOptions, type ReflectorEvent } from './reflector.js';
export {
  createStore,
  stripManagedFields,
  NAMESPACE_INDEX,
  type Store,
  type Writer,
  type StoreChange,
  type StoreOptions,
  type IndexFunc,
  type Transform,
} from './store.js';
export { createLister, type Lister } from './lister.js';
export { projectionTransform } from './projection.js';
export { keepYoungGenerationSmall } from './heap.js';
export {
  listWatcherFor,
  describeTarget,
  type ListerWatcher,
  type InformerTarget,
  type ListPageOptions,
  type WatchFromOptions,
} from './list-watcher.js';
export {
  SharedInformer,
  type InformerHandler,
  type HandlerOptions,
  type SharedInformerOptions,
  type InformerStats,
} from './shared-informer.js';
export { SharedInformerFactory, informerKey, type SharedInformerFactoryOptions, type AcquiredInformer } from './factory.js';
export {
  WatchdogTimeoutError,
  WatchStatusError,
  WatchClosedEarlyError,
  ListFailedError,
  NoResourceVersionError,
  StreamingListEndedError,
  WatchFailedError,
  isResourceExpired,
} from './errors.js';
