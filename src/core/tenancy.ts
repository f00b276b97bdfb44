/** tenancy: what a tenant rule (from a ConfigMap outside the daemon's namespace) may never write. */

/** API groups a tenant rule never writes, even in its own namespace: bindings would hand out the daemon's rights. */
export const TENANT_FORBIDDEN_GROUPS: readonly string[] = ['rbac.authorization.k8s.io'];

/** The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core). */
export const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
