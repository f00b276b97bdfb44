/** daemon: wiring of rule sources, informers, queue, engine and actions; leader election; health and metrics. */
export * from './rule-files.js';
