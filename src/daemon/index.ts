/** daemon: wiring of rule sources, informers, queue, engine and actions; leader election; health and metrics. */
export * from './rule-files.js';
export * from './config.js';
export * from './run-flags.js';
export * from './logging.js';
export * from './redact.js';
export * from './metrics.js';
export * from './trace-hub.js';
export * from './ops-server.js';
export * from './leader-election.js';
