/** client: our dynamic Kubernetes client over undici (kubeconfig, auth, discovery, REST verbs, watch, typed errors). */
export type * from './types.js';
