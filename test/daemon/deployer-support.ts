/** Fixtures of the namespaced-rule tests: a scaled-to-zero Deployment and a ServiceAccount allowed only to patch Deployments. */
import type { ClusterFixture } from '../support/cluster.js';

export const RBAC = '/apis/rbac.authorization.k8s.io/v1';

export const deployment = (ns: string, name: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns, labels: { app: name, ...labels }, annotations },
  spec: { replicas: 0, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'registry.invalid/none' }] } } },
});

/**
 * Creates ServiceAccount `deployer` in `ns`, a Role `patch-deployments` (get, list, watch, patch
 * of Deployments) and the RoleBinding `deployer` between them; returns the RoleBinding as sent.
 */
export async function createDeployer(fx: ClusterFixture, ns: string) {
  await fx.admin.ok('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'deployer' } });
  await fx.admin.ok('POST', `${RBAC}/namespaces/${ns}/roles`, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'patch-deployments' },
    rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch', 'patch'] }],
  });
  const binding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'deployer' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'patch-deployments' },
    subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: ns }],
  };
  await fx.admin.ok('POST', `${RBAC}/namespaces/${ns}/rolebindings`, binding);
  return binding;
}
