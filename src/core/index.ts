/** core: the shared vocabulary of Reflex (objects, keys, clock, backoff, base errors, the logger port, selectors). Imports nothing. */
export * from './errors.js';
export * from './clock.js';
export * from './backoff.js';
export * from './logger.js';
export * from './object.js';
export * from './selectors.js';
export * from './ownership.js';
export * from './time.js';
export * from './tenancy.js';
