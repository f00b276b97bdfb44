/** actions: executes a Plan through the client: apply, create, update, patch, delete, event, log, webhook; no-op detection; ownership stamps. */
export * from './types.js';
export { executeAction, executePlan, type PlanHooks } from './executor.js';
export { applyPatchLocally, applyMergePatch, applyJsonPatch, applyStrategicPatch, deepEqual, LocalPatchError, type LocalPatchType } from './local-patch.js';
export { stampOwnership, fieldManagerFor, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RULE_ANNOTATION } from '../core/index.js';
export { eventName, REPORTING_CONTROLLER } from './notify.js';
export { webhookRefusal, isMetadataAddress, type WebhookPolicy } from './webhook-guard.js';
