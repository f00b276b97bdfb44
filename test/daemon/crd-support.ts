/** Helpers of the tests of rules as objects: the ClusterRule and Rule CRDs, and reading a rule's status. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { repoRoot } from '../support/control-plane.js';
import type { ClusterFixture } from '../support/cluster.js';

const CRD_NAMES = ['clusterrules.reflex.dev', 'rules.reflex.dev'];
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

/** The CRDs as shipped (config/crd/). */
export function shippedCrds(): Record<string, unknown>[] {
  const dir = join(repoRoot, 'config', 'crd');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => load(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>);
}

/** Installs (or updates) the shipped CRDs and waits until both kinds are served. */
export async function installCrds(fx: ClusterFixture): Promise<void> {
  for (const crd of shippedCrds()) {
    const name = (crd.metadata as { name: string }).name;
    const have = await fx.admin.call<{ metadata: { resourceVersion: string } }>('GET', `${CRD_PATH}/${name}`);
    if (have.status === 200) await fx.admin.ok('PUT', `${CRD_PATH}/${name}`, { ...crd, metadata: { ...(crd.metadata as object), resourceVersion: have.body.metadata.resourceVersion } });
    else await fx.admin.ok('POST', CRD_PATH, crd);
  }
  await fx.admin.eventually(async () => (await fx.admin.call('GET', '/apis/reflex.dev/v1alpha1/clusterrules')).status === 200 && (await fx.admin.call('GET', '/apis/reflex.dev/v1alpha1/rules')).status === 200, 30_000, 'the rule CRDs to be served');
}

/**
 * Waits until both rule CRDs have been Established for more than 2 s. While a CRD is newer than
 * that, the API server holds every create of its objects for 2 s (so that each server of an HA
 * control plane has seen the CRD first); a test timing the daemon from a create must not count it.
 */
export async function pastNewCrdHold(fx: ClusterFixture): Promise<void> {
  type Crd = { status?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] } };
  await fx.admin.eventually(async () => {
    for (const name of CRD_NAMES) {
      const crd = await fx.admin.ok<Crd>('GET', `${CRD_PATH}/${name}`);
      const established = crd.status?.conditions?.find((c) => c.type === 'Established' && c.status === 'True');
      // The time is in whole seconds: the transition may have come up to 1 s after the time shown.
      if (!established?.lastTransitionTime || Date.now() - Date.parse(established.lastTransitionTime) <= 3000) return false;
    }
    return true;
  }, 10_000, 'the rule CRDs to be Established for more than 2 s');
}

/** Deletes the CRDs (and so every rule object) and waits until they are gone. */
export async function removeCrds(fx: ClusterFixture): Promise<void> {
  for (const name of CRD_NAMES) await fx.admin.call('DELETE', `${CRD_PATH}/${name}`);
  await fx.admin.eventually(async () => {
    for (const name of CRD_NAMES) if ((await fx.admin.call('GET', `${CRD_PATH}/${name}`)).status !== 404) return false;
    return (await fx.admin.call('GET', '/apis/reflex.dev/v1alpha1/clusterrules')).status === 404;
  }, 60_000, 'the rule CRDs to be gone');
}

/** Deletes every ClusterRule (they are cluster-wide: a test leaves none behind for the next). */
export async function deleteClusterRules(fx: ClusterFixture): Promise<void> {
  const list = await fx.admin.call<{ items?: { metadata: { name: string } }[] }>('GET', '/apis/reflex.dev/v1alpha1/clusterrules');
  for (const item of list.body.items ?? []) await fx.admin.call('DELETE', `/apis/reflex.dev/v1alpha1/clusterrules/${item.metadata.name}`);
}

export interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface RuleObject {
  metadata: { name: string; generation: number; resourceVersion: string; managedFields?: { manager: string; subresource?: string }[] };
  status?: { observedGeneration?: number; conditions?: Condition[]; evaluations?: number; actionsSucceeded?: number; objectsMatched?: number; lastError?: string };
}

/** The API path of a rule object. */
export const rulePath = (name: string, namespace?: string): string =>
  namespace ? `/apis/reflex.dev/v1alpha1/namespaces/${namespace}/rules/${name}` : `/apis/reflex.dev/v1alpha1/clusterrules/${name}`;

export async function getRule(fx: ClusterFixture, name: string, namespace?: string): Promise<RuleObject> {
  return fx.admin.ok<RuleObject>('GET', rulePath(name, namespace));
}

/** A condition of the object's status, when written for its current generation. */
export function condition(obj: RuleObject, type: string): Condition | undefined {
  if (obj.status?.observedGeneration !== obj.metadata.generation) return undefined;
  return obj.status?.conditions?.find((c) => c.type === type);
}

/** Polls until condition `type` of the rule object is `status` for its current generation; returns the object and when. */
export async function waitCondition(fx: ClusterFixture, name: string, type: string, status: string, timeoutMs: number, namespace?: string): Promise<RuleObject> {
  return fx.admin.eventually(async () => {
    const obj = await getRule(fx, name, namespace);
    return condition(obj, type)?.status === status ? obj : undefined;
  }, timeoutMs, `${namespace ? `Rule ${namespace}/` : 'ClusterRule '}${name} to have ${type}=${status}`);
}
