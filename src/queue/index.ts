/** queue: work queue (dedup, one worker per key), delaying queue, rate limiters, lanes. */
export { WorkQueue, type Queue, type WorkQueueOptions } from './work-queue.js';
export { DelayingWorkQueue, type DelayingQueue, type AddAfterOptions } from './delaying-queue.js';
export { RateLimitingWorkQueue, type RateLimitingQueue, type RateLimitingQueueOptions, type RateLimitedOptions } from './rate-limiting-queue.js';
export {
  ItemExponentialRateLimiter,
  TokenBucketRateLimiter,
  MaxOfRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
  type WhenOptions,
  type ItemExponentialOptions,
  type TokenBucketOptions,
  type ControllerRateLimiterOptions,
} from './rate-limiters.js';
export { LANES, type Lane, type AddOptions } from './lane.js';
export { noopQueueMetrics, type QueueMetrics, type QueueStats } from './metrics.js';
