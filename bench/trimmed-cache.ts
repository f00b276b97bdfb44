/**
 * Trimmed-cache benchmark: retained heap per cached Pod (about 5 KB of JSON each) in an informer
 * store, untrimmed (the default: managedFields dropped) and trimmed to what a rule set reads
 * (engine/read-paths.ts: a rule reading labels and status.phase), measured in the same process.
 * Each Pod is decoded from its own JSON text, as from the wire, so no structure is shared.
 * Run: `node --expose-gc dist/bench/trimmed-cache.js [pods]` (not part of `npm test`).
 */
import type { KubeObject } from '../src/core/index.js';
import { keptPaths, kindKey, loadRules, mergeReads, readsOf } from '../src/engine/index.js';
import { createStore, projectionTransform, type Transform } from '../src/informers/index.js';

const count = Number(process.argv[2] ?? 20_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

/** A Pod as a Deployment's ReplicaSet makes it, running: about 5 KB of JSON. */
function podJson(i: number): string {
  const name = `web-7d4b9c8f6d-${i.toString(36).padStart(5, '0')}`;
  const container = (n: string, image: string) => ({
    name: n,
    image,
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: [
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } },
    ],
    resources: { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
    livenessProbe: { httpGet: { path: '/healthz', port: 8080, scheme: 'HTTP' }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, periodSeconds: 5, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/web', readOnly: true },
      { name: 'kube-api-access-x7k2p', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
    ],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  });
  const status = (n: string, image: string) => ({
    name: n,
    state: { running: { startedAt: '2026-11-30T08:00:05Z' } },
    lastState: {},
    ready: true,
    restartCount: 0,
    image,
    imageID: `docker.io/library/${image}@sha256:${'4f'.repeat(32)}`,
    containerID: `containerd://${(i * 7919).toString(16).padStart(64, 'a')}`,
    started: true,
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: 'web-7d4b9c8f6d-',
      namespace: `team-${i % 20}`,
      uid: `5c1f${i.toString(16).padStart(8, '0')}-1b2c-4d5e-8f90-a1b2c3d4e5f6`,
      resourceVersion: String(100000 + i),
      creationTimestamp: '2026-11-30T08:00:00Z',
      labels: { app: 'web', 'pod-template-hash': '7d4b9c8f6d', tier: i % 3 === 0 ? 'frontend' : 'backend' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-11-29T10:00:00Z' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d4b9c8f6d', uid: 'a1b2c3d4-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      volumes: [
        { name: 'config', configMap: { name: 'web-config', defaultMode: 420 } },
        { name: 'kube-api-access-x7k2p', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }, { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }, { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } }] } },
      ],
      containers: [container('web', 'nginx:1.27'), container('sidecar', 'envoyproxy/envoy:v1.31')],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      nodeName: `node-${i % 50}`,
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
    },
    status: {
      phase: i % 10 === 0 ? 'Failed' : 'Running',
      conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map((type) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: '2026-11-30T08:00:06Z' })),
      hostIP: `10.0.${i % 50}.10`,
      hostIPs: [{ ip: `10.0.${i % 50}.10` }],
      podIP: `10.244.${i % 250}.${i % 200}`,
      podIPs: [{ ip: `10.244.${i % 250}.${i % 200}` }],
      startTime: '2026-11-30T08:00:00Z',
      containerStatuses: [status('web', 'nginx:1.27'), status('sidecar', 'envoyproxy/envoy:v1.31')],
      qosClass: 'Burstable',
    },
  };
  return JSON.stringify(pod);
}

const ruleText = `apiVersion: reflex.dev/v1alpha1
kind: Rule
metadata: { name: failed-web-pods }
spec:
  watch: { apiVersion: v1, kind: Pod }
  when: "metadata.labels.app = 'web' and status.phase = 'Failed'"
  actions:
    - log: { message: "{{ metadata.namespace }}/{{ metadata.name }} failed" }
`;

/** Retained heap per object of a store filled with `count` Pods through `transform`, bytes. */
function heapPerObject(transform: Transform | undefined): number {
  const settled = () => {
    gc!();
    gc!();
    return process.memoryUsage().heapUsed;
  };
  const before = settled();
  const [store, writer] = createStore(transform ? { transform } : {});
  for (let i = 0; i < count; i++) writer.apply(JSON.parse(podJson(i)) as KubeObject);
  const after = settled();
  if (store.keys().length !== count) throw new Error('store lost objects');
  writer.replace([], '0'); // emptied before the next round measures its baseline
  settled();
  return (after - before) / count;
}

const { rules, errors } = loadRules([{ file: 'bench.yaml', text: ruleText }]);
if (errors.length) throw errors[0];
const paths = keptPaths(mergeReads(rules.map(readsOf)), kindKey('v1', 'Pod'));
if (!paths) throw new Error('the rule set should not need whole Pods');
const jsonBytes = podJson(1).length;

// Interleaved rounds; the median of each is kept.
const full: number[] = [];
const trimmed: number[] = [];
for (let round = 0; round < 3; round++) {
  full.push(heapPerObject(undefined));
  trimmed.push(heapPerObject(projectionTransform(paths)));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const f = median(full);
const t = median(trimmed);
console.log(`pods: ${count}, ${jsonBytes} B of JSON each; rule set reads metadata.labels and status.phase; kept paths: ${paths.map((p) => p.join('.')).join(', ')}`);
console.log(`heap per cached Pod: untrimmed ${Math.round(f)} B, trimmed ${Math.round(t)} B (${(f / t).toFixed(1)}× smaller)`);
