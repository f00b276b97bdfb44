/** ActiveRule: a rule bound to its informers, as the registry hands it to the intake and the controller. */
import type { KubeObject } from '../core/index.js';
import type { SharedInformer } from '../informers/index.js';
import type { CompiledRule } from '../engine/index.js';

export interface ActiveRule {
  rule: CompiledRule;
  informers: SharedInformer[];
  /** The newest cached state of `namespace/name` (or `name`), if the rule's caches hold it. */
  current(objKey: string): KubeObject | undefined;
}
