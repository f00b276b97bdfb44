/** tenancy: what a tenant rule (a namespaced Rule, or a ConfigMap outside the daemon's namespace) may never write, and the ServiceAccount identity a namespaced rule acts as. */

/** API groups a tenant rule never writes, even in its own namespace: bindings would hand out the daemon's rights. */
export const TENANT_FORBIDDEN_GROUPS: readonly string[] = ['rbac.authorization.k8s.io'];

/** The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core). */
export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');

/** The identity a namespaced rule acts as: a ServiceAccount of its namespace. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The user name the API server gives a ServiceAccount: `system:serviceaccount:<ns>:<name>`. */
export const serviceAccountUser = (sa: ServiceAccountRef): string => `system:serviceaccount:${sa.namespace}:${sa.name}`;

/** The groups the API server gives every ServiceAccount of a namespace (and every authenticated user). */
export const serviceAccountGroups = (sa: ServiceAccountRef): string[] => ['system:serviceaccounts', `system:serviceaccounts:${sa.namespace}`, 'system:authenticated'];
