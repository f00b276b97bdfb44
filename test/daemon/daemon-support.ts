/** Helpers of the daemon's end-to-end tests: config files, rule ConfigMaps, kubectl, service-account kubeconfigs. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterFixture } from '../support/cluster.js';

/** Writes a daemon config file and returns its path. */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-'));
  const file = join(dir, 'reflex.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** The config of a test daemon: rules from ConfigMaps in `ns`, no leader election unless asked. */
export function testConfig(ns: string, extra = ''): string {
  return writeConfig(`namespace: ${ns}
rules:
  configMaps:
    namespaces: [${ns}]
leaderElection:
  enabled: false
${extra}`);
}

/** `kubectl apply -f -` of a YAML document, as the admin. */
export function kubectlApply(fx: ClusterFixture, yaml: string): string {
  return execFileSync('kubectl', ['--kubeconfig', fx.cp.kubeconfig, 'apply', '-f', '-'], { input: yaml, encoding: 'utf8' });
}

/** A rule ConfigMap manifest holding `rules` (YAML text) under key `rules.yaml`. */
export function ruleConfigMap(ns: string, name: string, rules: string): string {
  const indented = rules.replace(/^/gm, '    ');
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
  namespace: ${ns}
  labels:
    reflex.dev/rules: "true"
data:
  rules.yaml: |
${indented}
`;
}

/** A kubeconfig for a service account in `ns` (created unless `create: false`), with a TokenRequest token. */
export async function serviceAccountKubeconfig(fx: ClusterFixture, ns: string, name: string, options: { create?: boolean } = {}): Promise<string> {
  if (options.create !== false) await fx.admin.ok('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  const tr = await fx.admin.ok<{ status: { token: string } }>('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: { expirationSeconds: 3600 },
  });
  const ca = Buffer.from(readFileSync(join(fx.cp.dir, 'ca.crt'))).toString('base64');
  const file = join(mkdtempSync(join(tmpdir(), 'reflex-sa-')), 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${fx.cp.server}", certificate-authority-data: "${ca}" } }]
users: [{ name: u, user: { token: "${tr.status.token}" } }]
contexts: [{ name: ctx, context: { cluster: c, user: u, namespace: ${ns} } }]
current-context: ctx
`,
  );
  return file;
}

/** The value of a metric line (first match of name and label fragment), or undefined. */
export function metricValue(text: string, name: string, labelFragment = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labelFragment && !line.includes(labelFragment)) continue;
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

/** Sums every line of a metric (all label sets) in a /metrics text. */
export function metricSum(text: string, name: string, labelFragment = ''): number {
  return text
    .split('\n')
    .filter((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labelFragment))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}
