/**
 * The shipped rules (rules/) as end-to-end tests run them, and the objects that make them fire.
 * Two settings change in the copy the daemon reads: the webhook URL points at a receiver of the
 * test (nothing leaves the machine), and the nightly cron fires every second, so it is seen.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRuleTestFile } from '../../src/daemon/index.js';
import { repoRoot } from './control-plane.js';
import type { ClusterFixture } from './cluster.js';

/** A directory holding the shipped rules, with the webhook at `webhookUrl` and an every-second schedule. */
export function shippedRulesFor(webhookUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'reflex-rules-'));
  for (const f of readdirSync(join(repoRoot, 'rules')).filter((n) => n.endsWith('.yaml') && !isRuleTestFile(n))) {
    let text = readFileSync(join(repoRoot, 'rules', f), 'utf8');
    text = text.replace(/url: https:\/\/chat\.example\.com\/hooks\/previews/, `url: ${webhookUrl}`);
    text = text.replace(/schedule: "0 22 \* \* 1-5"/, 'schedule: "* * * * * *"');
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

/** A local HTTP receiver of webhook calls: their bodies, and its URL. */
export async function webhookReceiver(): Promise<{ url: string; bodies: string[]; server: Server }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/previews`, bodies, server };
}

/** An RFC 3339 time `h` hours ago, without fractions. */
export const hoursAgo = (h: number): string => new Date(Date.now() - h * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');

/**
 * Installs the Preview CRD of expire-previews (example.com/v1) and waits until it is served in `ns`.
 * Suites share the control plane: a CRD another suite is still deleting is waited out first.
 */
export async function installPreviewCrd(fx: ClusterFixture, ns: string): Promise<void> {
  const path = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/previews.example.com';
  await fx.admin.eventually(async () => {
    const r = await fx.admin.call<{ metadata?: { deletionTimestamp?: string } }>('GET', path);
    return r.status === 404 || (r.status === 200 && !r.body.metadata?.deletionTimestamp);
  }, 60_000, 'a Preview CRD being deleted to be gone');
  await fx.admin.call('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'previews.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'previews', singular: 'preview', kind: 'Preview', listKind: 'PreviewList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  });
  await fx.admin.eventually(async () => {
    const crd = await fx.admin.call<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', path);
    const established = crd.body.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    return established && (await fx.admin.call('GET', `/apis/example.com/v1/namespaces/${ns}/previews`)).status === 200;
  }, 30_000, 'the Preview CRD');
}

/** A Job that succeeded two hours ago (its status written through the status subresource: no job controller runs). */
export async function finishedJob(fx: ClusterFixture, ns: string, name: string): Promise<void> {
  await fx.admin.ok('POST', `/apis/batch/v1/namespaces/${ns}/jobs`, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'registry.invalid/job:1' }] } } },
  });
  const start = hoursAgo(3);
  const done = hoursAgo(2);
  await fx.admin.ok(
    'PATCH',
    `/apis/batch/v1/namespaces/${ns}/jobs/${name}/status`,
    {
      status: {
        startTime: start,
        completionTime: done,
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: done, lastTransitionTime: done },
          { type: 'Complete', status: 'True', lastProbeTime: done, lastTransitionTime: done },
        ],
      },
    },
    'application/merge-patch+json',
  );
}
