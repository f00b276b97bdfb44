/** daemon: wiring of rule sources, informers, queue, engine and actions; leader election; health and metrics. */
export * from './rule-files.js';
export * from './config.js';
export * from './logging.js';
export * from './redact.js';
export * from './metrics.js';
export * from './trace-hub.js';
export * from './ops-server.js';
export { Daemon, type DaemonOptions } from './daemon.js';
export { RuleController, type RuleControllerOptions } from './controller.js';
export type { ControllerHooks, ControllerTrace } from './hooks.js';
export { RuleSources, configMapSourceName, type RuleSourcesOptions } from './rule-sources.js';
export { RuleSet, type RuleSetUpdate } from './rule-set.js';
export { coalesce, type PendingChange } from './coalesce.js';
export * from './leader-election.js';
export { DependencyIndex, RecordingLister, type Reads } from './dependency-index.js';
