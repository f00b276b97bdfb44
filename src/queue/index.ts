/** queue: work queue (dedup, one worker per key), delaying queue, rate limiters, lanes. */
export {};
