/** ActiveRule: a rule bound to its informers, as the registry hands it to the intake and the controller. */
import type { KubeObject } from '../core/index.js';
import type { SharedInformer } from '../informers/index.js';
import type { CompiledRule } from '../engine/index.js';

export interface ActiveRule {
  rule: CompiledRule;
  informers: SharedInformer[];
  /** The newest cached state of the object of key `objKey` (see `keyOf`), if the rule's caches hold it. */
  current(objKey: string): KubeObject | undefined;
  /**
   * The object's key in this rule's queue keys: `namespace/name` (or `name`), qualified as
   * `apiVersion kind namespace/name` when the rule watches several kinds (a ConfigMap and a
   * Secret of one name are two keys). `objKey` is the object's plain key, when already known.
   */
  keyOf(obj: KubeObject, objKey?: string): string;
}
