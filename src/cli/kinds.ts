/**
 * kinds: kubectl's names for a kind. `deploy`, `deployment`, `deployments`, `Deployment`,
 * `deployment.apps` and `deployments.v1.apps` all name apps/v1 Deployment. Against a cluster the
 * names come from discovery (its plurals and short names, custom resources included); offline
 * from the built-in table below, which carries kubectl's short names of the built-in kinds.
 */
import type { ResourceInfo } from '../client/index.js';
import { BUILTIN_KINDS } from '../engine/index.js';
import { UsageError } from './flags.js';

/** One kind and the names it answers to. */
export interface KindName {
  apiVersion: string;
  kind: string;
  plural: string;
  shortNames: readonly string[];
}

/** kubectl's short names of the built-in kinds (Kubernetes v1.35 discovery). */
const SHORT_NAMES: Record<string, string[]> = {
  'v1/Namespace': ['ns'],
  'v1/Node': ['no'],
  'v1/PersistentVolume': ['pv'],
  'v1/Pod': ['po'],
  'v1/Service': ['svc'],
  'v1/ConfigMap': ['cm'],
  'v1/ServiceAccount': ['sa'],
  'v1/PersistentVolumeClaim': ['pvc'],
  'v1/Endpoints': ['ep'],
  'v1/Event': ['ev'],
  'v1/LimitRange': ['limits'],
  'v1/ResourceQuota': ['quota'],
  'v1/ReplicationController': ['rc'],
  'apps/v1/Deployment': ['deploy'],
  'apps/v1/StatefulSet': ['sts'],
  'apps/v1/DaemonSet': ['ds'],
  'apps/v1/ReplicaSet': ['rs'],
  'batch/v1/CronJob': ['cj'],
  'autoscaling/v2/HorizontalPodAutoscaler': ['hpa'],
  'policy/v1/PodDisruptionBudget': ['pdb'],
  'networking.k8s.io/v1/NetworkPolicy': ['netpol'],
  'networking.k8s.io/v1/Ingress': ['ing'],
  'events.k8s.io/v1/Event': ['ev'],
  'storage.k8s.io/v1/StorageClass': ['sc'],
  'scheduling.k8s.io/v1/PriorityClass': ['pc'],
  'apiextensions.k8s.io/v1/CustomResourceDefinition': ['crd', 'crds'],
  'certificates.k8s.io/v1/CertificateSigningRequest': ['csr'],
};

/** The offline table: the built-in kinds with kubectl's short names. */
export const OFFLINE_KINDS: readonly KindName[] = BUILTIN_KINDS.map((k) => ({
  apiVersion: k.apiVersion,
  kind: k.kind,
  plural: k.plural,
  shortNames: SHORT_NAMES[`${k.apiVersion}/${k.kind}`] ?? [],
}));

/** Discovery's resources as kind names (subresources such as `deployments/scale` left out). */
export function kindNamesOf(resources: ResourceInfo[]): KindName[] {
  return resources
    .filter((r) => !r.gvr.resource.includes('/'))
    .map((r) => ({
      apiVersion: r.gvk.group ? `${r.gvk.group}/${r.gvk.version}` : r.gvk.version,
      kind: r.gvk.kind,
      plural: r.gvr.resource,
      shortNames: r.shortNames,
    }));
}

const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
const versionOf = (apiVersion: string) => apiVersion.slice(apiVersion.indexOf('/') + 1);

/** Whether `name` (lower case, no group) is one of the kind's names. */
function answersTo(k: KindName, name: string): boolean {
  return name === k.kind.toLowerCase() || name === k.plural || k.shortNames.includes(name);
}

/**
 * Resolves `text` like kubectl: NAME, NAME.GROUP or NAME.VERSION.GROUP, where NAME is the kind
 * (any case), its plural, singular or a short name. The first match in `kinds` order wins (core
 * before other groups, as discovery lists them). Throws UsageError naming close candidates.
 */
export function resolveKind(text: string, kinds: readonly KindName[]): KindName {
  const lower = text.toLowerCase();
  const dot = lower.indexOf('.');
  const name = dot < 0 ? lower : lower.slice(0, dot);
  const rest = dot < 0 ? undefined : lower.slice(dot + 1);
  const matches = kinds.filter((k) => {
    if (!answersTo(k, name)) return false;
    if (rest === undefined) return true;
    const group = groupOf(k.apiVersion);
    return rest === group || rest === `${versionOf(k.apiVersion)}.${group}` || (group === '' && rest === versionOf(k.apiVersion));
  });
  if (matches.length > 0) return matches[0];
  const near = kinds.filter((k) => k.kind.toLowerCase().startsWith(name.slice(0, 3)) || k.plural.startsWith(name.slice(0, 3))).map((k) => k.kind);
  throw new UsageError(`unknown kind "${text}"${near.length ? `; did you mean ${[...new Set(near)].slice(0, 5).join(', ')}?` : ''}`);
}
