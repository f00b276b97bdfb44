/** kinds: scope and plural of common built-in kinds, for places with no discovery (offline dry-run). */
import type { KindScope } from './types.js';

/** A built-in kind: its scope and resource (plural) name. */
export interface BuiltinKind {
  apiVersion: string;
  kind: string;
  plural: string;
  scope: KindScope;
}

const N: KindScope = 'Namespaced';
const C: KindScope = 'Cluster';
const row = (apiVersion: string, kind: string, plural: string, scope: KindScope): BuiltinKind => ({ apiVersion, kind, plural, scope });

/** Kubernetes v1.35 built-ins that rules commonly touch. */
export const BUILTIN_KINDS: readonly BuiltinKind[] = [
  row('v1', 'Namespace', 'namespaces', C),
  row('v1', 'Node', 'nodes', C),
  row('v1', 'PersistentVolume', 'persistentvolumes', C),
  row('v1', 'Pod', 'pods', N),
  row('v1', 'Service', 'services', N),
  row('v1', 'ConfigMap', 'configmaps', N),
  row('v1', 'Secret', 'secrets', N),
  row('v1', 'ServiceAccount', 'serviceaccounts', N),
  row('v1', 'PersistentVolumeClaim', 'persistentvolumeclaims', N),
  row('v1', 'Endpoints', 'endpoints', N),
  row('v1', 'Event', 'events', N),
  row('v1', 'LimitRange', 'limitranges', N),
  row('v1', 'ResourceQuota', 'resourcequotas', N),
  row('v1', 'ReplicationController', 'replicationcontrollers', N),
  row('apps/v1', 'Deployment', 'deployments', N),
  row('apps/v1', 'StatefulSet', 'statefulsets', N),
  row('apps/v1', 'DaemonSet', 'daemonsets', N),
  row('apps/v1', 'ReplicaSet', 'replicasets', N),
  row('apps/v1', 'ControllerRevision', 'controllerrevisions', N),
  row('batch/v1', 'Job', 'jobs', N),
  row('batch/v1', 'CronJob', 'cronjobs', N),
  row('autoscaling/v2', 'HorizontalPodAutoscaler', 'horizontalpodautoscalers', N),
  row('policy/v1', 'PodDisruptionBudget', 'poddisruptionbudgets', N),
  row('networking.k8s.io/v1', 'NetworkPolicy', 'networkpolicies', N),
  row('networking.k8s.io/v1', 'Ingress', 'ingresses', N),
  row('networking.k8s.io/v1', 'IngressClass', 'ingressclasses', C),
  row('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices', N),
  row('events.k8s.io/v1', 'Event', 'events', N),
  row('coordination.k8s.io/v1', 'Lease', 'leases', N),
  row('rbac.authorization.k8s.io/v1', 'Role', 'roles', N),
  row('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', N),
  row('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', C),
  row('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', C),
  row('storage.k8s.io/v1', 'StorageClass', 'storageclasses', C),
  row('storage.k8s.io/v1', 'CSIDriver', 'csidrivers', C),
  row('storage.k8s.io/v1', 'VolumeAttachment', 'volumeattachments', C),
  row('scheduling.k8s.io/v1', 'PriorityClass', 'priorityclasses', C),
  row('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'customresourcedefinitions', C),
  row('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', C),
  row('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', C),
  row('apiregistration.k8s.io/v1', 'APIService', 'apiservices', C),
  row('certificates.k8s.io/v1', 'CertificateSigningRequest', 'certificatesigningrequests', C),
  row('node.k8s.io/v1', 'RuntimeClass', 'runtimeclasses', C),
];

const byKey = new Map(BUILTIN_KINDS.map((k) => [`${k.apiVersion}/${k.kind}`, k]));

/** The built-in kind for apiVersion + kind, if known. */
export function builtinKind(apiVersion: string, kind: string): BuiltinKind | undefined {
  return byKey.get(`${apiVersion}/${kind}`);
}
