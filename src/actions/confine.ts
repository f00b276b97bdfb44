/** confine: the check before each write of a tenant rule (a planned action carrying `tenant`). */
import { errorMessage, groupOf, TENANT_FORBIDDEN_GROUPS } from '../core/index.js';
import type { PlannedAction } from '../engine/index.js';
import { ActionError, ActionErrorCode, type ActionResult, type ExecuteOptions } from './types.js';

/**
 * Undefined when `planned` may run; otherwise a failed result, nothing sent. A tenant rule's write
 * must land in its namespace, on a namespaced kind outside the RBAC group (an Event, in the
 * namespace of the object it is about). `log` writes nothing and `webhook` leaves the cluster alone.
 */
export async function confine(planned: PlannedAction, options: ExecuteOptions): Promise<ActionResult | undefined> {
  const tenant = planned.tenant;
  if (tenant === undefined || planned.action === 'log' || planned.action === 'webhook') return undefined;
  const t = planned.target;
  const refuse = (reason: string, code: string = ActionErrorCode.confined, cause?: unknown): ActionResult => ({
    status: 'failed',
    action: planned.action,
    target: t,
    cause: new ActionError(
      `rule ${planned.rule}: ${planned.action} of ${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name} refused: ${reason}`,
      planned.action,
      t,
      { code, cause, terminal: code === ActionErrorCode.confined },
    ),
  });
  const inTenant = `a rule of namespace "${tenant}" writes only there`;
  if (t.namespace !== tenant) return refuse(`${t.namespace ? `namespace "${t.namespace}"` : 'no namespace'}; ${inTenant}`);
  const group = groupOf(t.apiVersion);
  if (TENANT_FORBIDDEN_GROUPS.includes(group)) return refuse(`a tenant rule never writes ${group} objects`);
  const body = planned.body as { metadata?: { namespace?: unknown } } | null;
  if ((planned.action === 'apply' || planned.action === 'create' || planned.action === 'update') && body?.metadata?.namespace !== undefined && body.metadata.namespace !== tenant) {
    return refuse(`the object names namespace "${String(body.metadata.namespace)}"; ${inTenant}`);
  }
  try {
    const info = await options.client.resolve(t.apiVersion, t.kind, { signal: options.signal });
    if (!info.namespaced) return refuse(`${t.kind} is cluster-scoped; ${inTenant}`);
  } catch (err) {
    return refuse(`cannot tell the scope of ${t.apiVersion} ${t.kind}: ${errorMessage(err)}`, ActionErrorCode.api, err);
  }
  return undefined;
}
