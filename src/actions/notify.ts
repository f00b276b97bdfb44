/** notify: the `event`, `log` and `webhook` actions. */
import { createHash } from 'node:crypto';
import { isAlreadyExists, requestUrl } from '../client/index.js';
import { formatMicroTime, parseDuration, realClock, type KubeObject } from '../core/index.js';
import type { PlannedAction } from '../engine/index.js';
import { apiFailure } from './writes.js';
import { webhookRefusal } from './webhook-guard.js';
import { ActionError, ActionErrorCode, type ActionResult, type ExecuteOptions } from './types.js';

/** The note or log line of a rule that reads Secrets (and did not set spec.revealSecretValues). */
export const SENSITIVE_NOTE = '[REDACTED: the rule reads Secrets; set spec.revealSecretValues to show]';

/** Events' reportingController. */
export const REPORTING_CONTROLLER = 'reflex.dev/reflex';

/** MicroTime as the API server writes it: RFC 3339 with microseconds. */
/**
 * The name of the Event for this (target, rule, type, reason, message): the same name every time,
 * so a repeat finds the first one and counts it in `series` instead of making a new object.
 */
export function eventName(p: PlannedAction): string {
  const body = (p.body ?? {}) as { type?: string; reason?: string; message?: string };
  const h = createHash('sha256')
    .update(JSON.stringify([p.target.apiVersion, p.target.kind, p.target.namespace ?? '', p.target.name, p.rule, body.type, body.reason, body.message]))
    .digest('hex')
    .slice(0, 12);
  const prefix = p.target.name.toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 200).replace(/^[.-]+|[.-]+$/g, '') || 'reflex';
  return `${prefix}.${h}`;
}

/** Emits an events.k8s.io/v1 Event about the target; a repeat increments `series.count`. */
export async function runEvent(p: PlannedAction, o: ExecuteOptions): Promise<ActionResult> {
  const body = (p.body ?? {}) as { type?: string; reason?: string; message?: string };
  const now = formatMicroTime((o.clock ?? realClock).now());
  const namespace = p.target.namespace ?? 'default';
  const uid = o.trigger && o.trigger.metadata?.name === p.target.name && o.trigger.kind === p.target.kind ? o.trigger.metadata?.uid : undefined;
  const event: KubeObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: eventName(p), namespace },
    eventTime: now,
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: o.instance ?? 'reflex',
    action: p.rule.slice(0, 128),
    reason: String(body.reason ?? 'Reflex').slice(0, 128),
    note: p.sensitive ? SENSITIVE_NOTE : String(body.message ?? '').slice(0, 1024),
    type: body.type === 'Warning' ? 'Warning' : 'Normal',
    regarding: { ...p.target, ...(uid ? { uid } : {}) },
  };
  const dry = { dryRun: o.dryRun || undefined, signal: o.signal };
  try {
    const out = await o.client.create(event, dry);
    return { status: 'done', action: p.action, target: p.target, object: out, changed: true, ...(o.dryRun ? { dryRun: true } : {}) };
  } catch (err) {
    if (!isAlreadyExists(err)) return apiFailure(p, err, 'POST event');
  }
  try {
    const ref = { apiVersion: 'events.k8s.io/v1', kind: 'Event', namespace, name: eventName(p) };
    const existing = await o.client.get(ref, { signal: o.signal });
    const count = (((existing as { series?: { count?: number } }).series?.count ?? 1) as number) + 1;
    const out = await o.client.patch(ref, { series: { count, lastObservedTime: now } }, { ...dry, type: 'merge' });
    return { status: 'done', action: p.action, target: p.target, object: out, changed: true, ...(o.dryRun ? { dryRun: true } : {}) };
  } catch (err) {
    return apiFailure(p, err, 'PATCH event series');
  }
}

/** Writes one structured log line. */
export function runLog(p: PlannedAction, o: ExecuteOptions): ActionResult {
  const level = (['debug', 'info', 'warn', 'error'] as const).find((l) => l === p.options.level) ?? 'info';
  const message = p.sensitive ? SENSITIVE_NOTE : typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
  o.logger?.[level](message, { rule: p.rule, trigger: p.trigger, target: p.target });
  return { status: 'done', action: p.action, target: p.target };
}

function timeoutMs(v: unknown, fallback: number): number {
  if (typeof v === 'number') return v;
  return (typeof v === 'string' ? parseDuration(v) : undefined) || fallback;
}

/** Calls the webhook; any answer outside 2xx, a network error or the timeout is a failure. The answer's body is always consumed. */
export async function runWebhook(p: PlannedAction, o: ExecuteOptions): Promise<ActionResult> {
  const req = (p.body ?? {}) as { method?: string; url?: string; headers?: Record<string, string>; body?: unknown };
  const ms = timeoutMs(p.options.timeout, o.webhookTimeoutMs ?? 10_000);
  const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(ms)]) : AbortSignal.timeout(ms);
  const headers: Record<string, string> = { ...(req.headers ?? {}) };
  let payload: string | undefined;
  if (req.body !== undefined && req.body !== null) {
    payload = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
    if (typeof req.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const method = (req.method ?? 'POST') as 'POST';
  const url = String(req.url ?? '');
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  const refused = await webhookRefusal(url, o.webhooks);
  if (refused) {
    const cause = new ActionError(`webhook ${method} ${host} for rule "${p.rule}" refused: ${refused}`, p.action, p.target, { code: ActionErrorCode.webhookRefused, terminal: true });
    return { status: 'failed', action: p.action, target: p.target, cause };
  }
  try {
    const res = await requestUrl(url, { method, headers, body: payload, signal });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode > 299) {
      const cause = new ActionError(`webhook ${method} ${host} for rule "${p.rule}" answered ${res.statusCode}; expected 2xx`, p.action, p.target, {
        code: ActionErrorCode.webhookStatus,
        status: res.statusCode,
      });
      return { status: 'failed', action: p.action, target: p.target, cause };
    }
    return { status: 'done', action: p.action, target: p.target };
  } catch (err) {
    const timedOut = signal.aborted && !o.signal?.aborted;
    const why = timedOut ? `timed out after ${ms} ms` : (err as Error).message;
    const cause = new ActionError(`webhook ${method} ${host} for rule "${p.rule}" failed: ${why}`, p.action, p.target, { code: ActionErrorCode.webhookNetwork, cause: err });
    return { status: 'failed', action: p.action, target: p.target, cause };
  }
}
