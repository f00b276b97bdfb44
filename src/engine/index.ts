/** engine: rule model, schema, loader, JSONata expressions and templates, evaluation to a Plan. No I/O. */
export * from './types.js';
export * from './errors.js';
export type { CompiledRule, CompiledAction, CompiledWatch, CompiledGenerate, CompiledGenerated } from './rule.js';
export {
  GENERATED_RULE_LABEL,
  GENERATED_TRIGGER_UID_LABEL,
  GENERATED_TRIGGER_ANNOTATION,
  ruleLabelValue,
  triggerAnnotation,
  stampGenerated,
  generatedBy,
  generatingRule,
  generatedKinds,
  planPrunes,
  identity as objectIdentity,
} from './generate.js';
export { RULE_DEFAULTS } from './rule.js';
export { loadRules, loadRulesStepwise, DEFAULT_SOURCE_LIMITS, type RuleSource, type LoadOptions, type LoadResult, type SourceLimits } from './loader.js';
export { decodeRuleText } from './decode.js';
export { evaluate, evaluateRule, futureTime, selectingWatch, watchesOf, rejects, prefilterOf, selects, renderUpdate, sortPlan, refOf, type EvaluationContext, type FilterReason } from './evaluate.js';
export { walk as valueAt, BAIL, type RequiredEquality } from './fast-path.js';
export { Expression, ExpressionSyntaxError, ExpressionRuntimeError, DEFAULT_LIMITS, truthy, type ExpressionLimits } from './expression.js';
export { splitTemplate } from './template.js';
export { RenderedValueError, RENDERED_VALUE_ERROR, RENDERED_ACTION_SCHEMAS, renderedProblems, staticProblems, type RenderedProblem } from './rendered-check.js';
export {
  LabelSelector,
  FieldSelector,
  SelectorSyntaxError,
  parseLabelSelector,
  parseFieldSelector,
  labelSelectorFromSpec,
  toLabelSelector,
} from '../core/index.js';
export { CronSchedule, parseDuration, isValidTimeZone } from './schedule.js';
export { stampOwnership, MANAGED_BY_LABEL, MANAGED_BY_VALUE, RULE_ANNOTATION } from '../core/index.js';
export { BUILTIN_KINDS, builtinKind, type BuiltinKind } from './kinds.js';
export { RULE_SCHEMA, DOCUMENTED_RULE_SCHEMA, FIELD_DOCS, SCHEMA_VALIDATOR_OPTIONS, SCHEMA_VALIDATORS_PATH, schemaFields, type SchemaField } from './schema.js';
export { TenantConfinementError, confinedLister } from './tenant.js';
export { lookupCalls, type LookupCall, type LookupArg } from './lookups.js';
export { readsOf, mergeReads, keptPaths, kindKey, type RuleReads, type KindReads } from './read-paths.js';
export { bindingsFor, type EvaluationScope } from './expression.js';
