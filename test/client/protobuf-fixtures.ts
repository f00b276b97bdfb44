/**
 * Objects of many built-in kinds with the field shapes protobuf and JSON write differently:
 * quantities, int-or-strings, times and micro-times, durations, bytes, embedded JSON, maps of
 * messages, pointers set to zero values, inline structs, empty and unset lists.
 */
import type { KubeObject } from '../../src/core/index.js';

const podSpec = (extra: Record<string, unknown> = {}) => ({
  containers: [{
    name: 'app',
    image: 'registry.example/app:1.0',
    command: ['/bin/app', '--flag'],
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { containerPort: 9090 }],
    env: [
      { name: 'PLAIN', value: 'v' },
      { name: 'EMPTY', value: '' },
      { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k', optional: false } } },
      { name: 'FROM_FIELD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'FROM_RES', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
    ],
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1.5', memory: '1Gi', 'ephemeral-storage': '2G' } },
    livenessProbe: { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X', value: 'y' }] }, initialDelaySeconds: 0, periodSeconds: 10 },
    readinessProbe: { tcpSocket: { port: 8080 }, failureThreshold: 3 },
    securityContext: { runAsNonRoot: true, runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
    volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/cfg', readOnly: true, subPath: 'a' }],
  }],
  initContainers: [{ name: 'init', image: 'busybox', args: ['true'], restartPolicy: 'Always' }],
  volumes: [
    { name: 'data', emptyDir: { sizeLimit: '500Mi', medium: '' } },
    { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'k', path: 'p', mode: 0o644 }], defaultMode: 420 } },
    { name: 'sec', secret: { secretName: 's', optional: true } },
    { name: 'proj', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600, audience: 'x' } }, { downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } }] } },
  ],
  tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 0 }, { operator: 'Exists' }],
  affinity: {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'x' } } } }] },
  },
  nodeSelector: { disk: 'ssd', 'example.com/unicode': 'value' },
  terminationGracePeriodSeconds: 0,
  dnsConfig: { options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] },
  hostAliases: [{ ip: '10.0.0.1', hostnames: ['a.local'] }],
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'x' } } }],
  overhead: undefined,
  ...extra,
});

const meta = (name: string, ns: string, extra: Record<string, unknown> = {}) => ({
  name, namespace: ns,
  labels: { app: 'x', 'example.com/tier': 'back-end', empty: '' },
  annotations: { note: 'a "quoted" \\ value\nwith lines', long: 'x'.repeat(300) },
  ...extra,
});

/** `[POST path, object]` pairs, namespaced in `ns` where the kind is. */
export function protobufFixtures(ns: string): [string, KubeObject][] {
  const api = `/api/v1/namespaces/${ns}`;
  const apis = (gv: string, r: string) => `/apis/${gv}/namespaces/${ns}/${r}`;
  const selector = { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }, { key: 'k', operator: 'Exists' }] };
  const template = { metadata: { labels: { app: 'x', tier: 'b', k: 'v' } }, spec: podSpec() };
  const out: [string, KubeObject][] = [
    [`${api}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cm', ns), data: { k: 'v', empty: '', json: '{"a":[1,2]}', unicode: 'cödé ✓ 🚀' }, binaryData: { bin: Buffer.from([0, 1, 2, 255]).toString('base64'), none: '' } }],
    [`${api}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bare', namespace: ns } }],
    [`${api}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'immutable', namespace: ns, finalizers: ['example.com/keep'], ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: '00000000-0000-0000-0000-000000000001', controller: false, blockOwnerDeletion: true }] }, immutable: true, data: {} }],
    [`${api}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-', namespace: ns } }],
    [`${api}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: meta('s', ns), type: 'Opaque', data: { a: Buffer.from('secret value').toString('base64'), empty: '' }, stringData: { b: 'plain' } }],
    [`${api}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: ns }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'a2V5' } }],
    [`${api}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: meta('pod', ns), spec: podSpec({ restartPolicy: 'Never', priority: 0, enableServiceLinks: false, activeDeadlineSeconds: 600 }) }],
    [`${api}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('sa', ns), automountServiceAccountToken: false, imagePullSecrets: [{ name: 'pull' }] }],
    [`${api}/services`, { apiVersion: 'v1', kind: 'Service', metadata: meta('svc', ns), spec: { selector: { app: 'x' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090, targetPort: 9090, protocol: 'UDP' }], sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } } }],
    [`${api}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'headless', namespace: ns }, spec: { clusterIP: 'None', ports: [{ port: 1 }] } }],
    [`${api}/persistentvolumeclaims`, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('pvc', ns), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: '' } }],
    [`${api}/resourcequotas`, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('rq', ns), spec: { hard: { pods: '10', 'requests.cpu': '4', 'requests.memory': '8Gi' } } }],
    [`${api}/limitranges`, { apiVersion: 'v1', kind: 'LimitRange', metadata: meta('lr', ns), spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '250m' }, max: { memory: '2Gi' } }] } }],
    [`${api}/events`, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'ev', namespace: ns }, involvedObject: { kind: 'Pod', name: 'pod', namespace: ns }, reason: 'Tested', message: 'a message', type: 'Normal', count: 3, firstTimestamp: '2026-01-02T03:04:05Z', lastTimestamp: '2026-01-02T03:04:09Z', eventTime: null, source: { component: 'test' } }],
    [`${api}/replicationcontrollers`, { apiVersion: 'v1', kind: 'ReplicationController', metadata: meta('rc', ns), spec: { replicas: 0, selector: { app: 'x', tier: 'b', k: 'v' }, template } }],
    [apis('apps/v1', 'deployments'), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: meta('deploy', ns), spec: { replicas: 2, selector, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } }, revisionHistoryLimit: 0, progressDeadlineSeconds: 60, template } }],
    [apis('apps/v1', 'statefulsets'), { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('sts', ns), spec: { replicas: 0, serviceName: 'headless', selector, template, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }], persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' }, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: '50%' } } } }],
    [apis('apps/v1', 'daemonsets'), { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('ds', ns), spec: { selector, template, updateStrategy: { rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }, minReadySeconds: 5 } }],
    [apis('apps/v1', 'controllerrevisions'), { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: meta('rev', ns), revision: 3, data: { spec: { template: { metadata: { labels: { a: 'b' } } } }, list: [1, 'two', null, true, 2.5] } }],
    [apis('batch/v1', 'jobs'), { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('job', ns), spec: { suspend: true, backoffLimit: 0, completions: 3, parallelism: 1, ttlSecondsAfterFinished: 100, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1, 42] } }] }, template: { spec: { ...podSpec({ restartPolicy: 'Never' }) } } } }],
    [apis('batch/v1', 'cronjobs'), { apiVersion: 'batch/v1', kind: 'CronJob', metadata: meta('cron', ns), spec: { schedule: '*/5 * * * *', timeZone: 'Europe/Berlin', suspend: true, startingDeadlineSeconds: 30, successfulJobsHistoryLimit: 0, jobTemplate: { spec: { template: { spec: { ...podSpec({ restartPolicy: 'OnFailure' }) } } } } } }],
    [apis('policy/v1', 'poddisruptionbudgets'), { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta('pdb', ns), spec: { minAvailable: '50%', selector, unhealthyPodEvictionPolicy: 'AlwaysAllow' } }],
    [apis('autoscaling/v2', 'horizontalpodautoscalers'), { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: meta('hpa', ns), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'deploy' }, minReplicas: 1, maxReplicas: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }, { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1k' } } }], behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] } } } }],
    [apis('networking.k8s.io/v1', 'ingresses'), { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: meta('ing', ns), spec: { ingressClassName: 'nginx', tls: [{ hosts: ['a.example'], secretName: 'tls' }], rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }, { path: '/m', pathType: 'Exact', backend: { service: { name: 'svc', port: { name: 'metrics' } } } }] } }] } }],
    [apis('networking.k8s.io/v1', 'networkpolicies'), { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: meta('np', ns), spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }, { namespaceSelector: { matchLabels: { a: 'b' } } }], ports: [{ port: 'http' }, { port: 8080, endPort: 8090, protocol: 'TCP' }] }], egress: [{}] } }],
    [apis('rbac.authorization.k8s.io/v1', 'roles'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta('role', ns), rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }, { apiGroups: ['apps'], resources: ['deployments'], resourceNames: ['deploy'], verbs: ['patch'] }] }],
    [apis('rbac.authorization.k8s.io/v1', 'rolebindings'), { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: meta('rb', ns), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'role' }, subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: ns }, { kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' }] }],
    [apis('coordination.k8s.io/v1', 'leases'), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta('lease', ns), spec: { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: '2026-01-02T03:04:05.123456Z', renewTime: '2026-01-02T03:04:06.000001Z', leaseTransitions: 0 } }],
    [apis('events.k8s.io/v1', 'events'), { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'ev2', namespace: ns }, eventTime: '2026-01-02T03:04:05.500000Z', reportingController: 'example.com/test', reportingInstance: 'i', action: 'Tested', reason: 'Tested', type: 'Warning', note: 'note ✓', regarding: { kind: 'Pod', name: 'pod', namespace: ns }, series: { count: 2, lastObservedTime: '2026-01-02T03:05:05.000000Z' } }],
    [apis('discovery.k8s.io/v1', 'endpointslices'), { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta('eps', ns), addressType: 'IPv4', endpoints: [{ addresses: ['10.0.0.5'], conditions: { ready: false, serving: true }, nodeName: 'n1', zone: 'a', hints: { forZones: [{ name: 'a' }] } }], ports: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' }] }],
    ['/apis/scheduling.k8s.io/v1/priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: `${ns}-pc` }, value: 0, globalDefault: false, description: 'zero', preemptionPolicy: 'Never' }],
    ['/apis/storage.k8s.io/v1/storageclasses', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: `${ns}-sc` }, provisioner: 'example.com/p', parameters: { a: 'b' }, reclaimPolicy: 'Retain', allowVolumeExpansion: true, mountOptions: ['ro'], volumeBindingMode: 'WaitForFirstConsumer' }],
    ['/api/v1/persistentvolumes', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: `${ns}-pv` }, spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteMany'], hostPath: { path: '/tmp/x', type: '' }, persistentVolumeReclaimPolicy: 'Retain', nodeAffinity: { required: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } } } }],
    ['/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations', { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: `${ns}-vwc` }, webhooks: [{ name: 'v.example.com', clientConfig: { url: 'https://example.com/v', caBundle: Buffer.from('ca').toString('base64') }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], scope: 'Namespaced' }], failurePolicy: 'Ignore', sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 1, namespaceSelector: { matchLabels: { never: 'match' } }, matchConditions: [{ name: 'c', expression: 'true' }] }] }],
    ['/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.protobuf.example.com' }, spec: { group: 'protobuf.example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList', shortNames: ['wd'] }, versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } }, additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }], schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { size: { type: 'integer', minimum: 0, maximum: 10, default: 1 }, mode: { type: 'string', enum: ['a', 'b'] }, anything: { 'x-kubernetes-int-or-string': true }, items: { type: 'array', items: { type: 'string' } } }, required: ['size'] }, status: { type: 'object', additionalProperties: { type: 'string' } } } } } }] } }],
  ];
  return out;
}
