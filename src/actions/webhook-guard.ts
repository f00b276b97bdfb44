/**
 * webhook-guard: where a webhook may go. With `allowedHosts` set, only those hosts (`name`,
 * `*.suffix`, or an IP); always, addresses that reach the node's or the cloud's metadata
 * services — link-local 169.254.0.0/16 and fe80::/10, fd00:ec2::254, 100.100.100.200,
 * metadata.google.internal — are refused unless their host is listed exactly.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export interface WebhookPolicy {
  /** Hosts webhooks may call; empty or undefined: any host but the metadata ones. */
  allowedHosts?: string[];
}

const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'metadata.azure.internal']);

/** Whether an IP address is link-local or a known metadata-service address. */
export function isMetadataAddress(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(v4) === 4) return v4.startsWith('169.254.') || v4 === '100.100.100.200';
  const v6 = ip.toLowerCase();
  return /^fe[89ab][0-9a-f]:/.test(v6) || v6 === 'fd00:ec2::254';
}

const matches = (host: string, pattern: string) => {
  const p = pattern.toLowerCase();
  return p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p;
};

/**
 * Undefined when `url` may be called; otherwise why not. Names are resolved (all addresses) to
 * catch a name that points at a metadata address; `resolve` is replaceable for tests.
 */
export async function webhookRefusal(url: string, policy: WebhookPolicy = {}, resolve: (host: string) => Promise<string[]> = resolveAll): Promise<string | undefined> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `only http and https URLs are called, not ${u.protocol}`;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const allowed = policy.allowedHosts ?? [];
  if (allowed.length > 0 && !allowed.some((p) => matches(host, p))) return `the host ${host} is not in webhooks.allowedHosts`;
  const exact = allowed.some((p) => p.toLowerCase() === host);
  if (exact) return undefined;
  if (METADATA_NAMES.has(host)) return `${host} is a metadata service; list it in webhooks.allowedHosts to call it`;
  const addresses = isIP(host) ? [host] : await resolve(host).catch(() => []);
  const bad = addresses.find(isMetadataAddress);
  if (bad) return `${host}${bad === host ? '' : ` (${bad})`} is a link-local or metadata address; list it in webhooks.allowedHosts to call it`;
  return undefined;
}

async function resolveAll(host: string): Promise<string[]> {
  return (await lookup(host, { all: true })).map((a) => a.address);
}
