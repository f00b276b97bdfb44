/**
 * Child of the benchmark suite: client-node's peer of the daemon's start-up. Loads
 * @kubernetes/client-node, starts informers of the kinds the start-up rules watch (Namespaces,
 * Jobs, Deployments, StatefulSets in all namespaces; ConfigMaps in NAMESPACE), prints
 * {"mode":"ready"} once all have listed, and after SETTLE_MS the resident memory at rest.
 *
 *   node dist/bench/startup-child.js KUBECONFIG NAMESPACE SETTLE_MS
 */
import { loadClientNode } from './support/client-node.js';
import { emit, peakRssMiB, rssMiB } from './support/proc.js';

const [kubeconfig, namespace, settleMs] = process.argv.slice(2);
const k8s = await loadClientNode();
const kc = new k8s.KubeConfig();
kc.loadFromFile(kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const informers: { on(event: 'add', cb: () => void): void; start(): Promise<void>; stop(): Promise<void> }[] = [
  k8s.makeInformer(kc, '/api/v1/namespaces', () => core.listNamespace()),
  k8s.makeInformer(kc, '/apis/batch/v1/jobs', () => batch.listJobForAllNamespaces()),
  k8s.makeInformer(kc, '/apis/apps/v1/deployments', () => apps.listDeploymentForAllNamespaces()),
  k8s.makeInformer(kc, '/apis/apps/v1/statefulsets', () => apps.listStatefulSetForAllNamespaces()),
  k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace })),
];
for (const informer of informers) informer.on('add', () => undefined);
await Promise.all(informers.map((i) => i.start()));
emit({ mode: 'ready' });
await new Promise((r) => setTimeout(r, Number(settleMs)));
emit({ mode: 'client-node', ms: 0, objects: 0, peakRssMiB: peakRssMiB(), steadyRssMiB: rssMiB() });
await Promise.all(informers.map((i) => i.stop()));
