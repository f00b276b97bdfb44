/** informers: list+watch state machine, stores with indexes, shared informer factory, resync, handlers. */
export { watcher, watcherSteps, step, type WatcherEvent, type WatcherConfig, type WatcherState } from './watcher.js';
export { withBackoff, type WatcherBackoffOptions } from './backoff.js';
export { reflect, type ReflectorEvent } from './reflector.js';
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
  WatchFailedError,
  isResourceExpired,
} from './errors.js';
