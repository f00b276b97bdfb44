/** writes: apply, create, update, patch and delete of one planned action. */
import { isAlreadyExists, isConflict, isNotFound, type ObjectTarget } from '../client/index.js';
import { fieldManagerFor, stampOwnership, type KubeObject } from '../core/index.js';
import type { PlannedAction, PlannedRef } from '../engine/index.js';
import { applyPatchLocally, deepEqual, LocalPatchError, type LocalPatchType } from './local-patch.js';
import { ActionError, ActionErrorCode, type ActionResult, type ExecuteOptions } from './types.js';

const objectTarget = (r: PlannedRef): ObjectTarget => (r.namespace ? { apiVersion: r.apiVersion, kind: r.kind, namespace: r.namespace, name: r.name } : { apiVersion: r.apiVersion, kind: r.kind, name: r.name });

/** Wraps an API failure. */
export function apiFailure(p: PlannedAction, err: unknown, verb: string): ActionResult {
  const where = `${p.target.kind} ${p.target.namespace ? `${p.target.namespace}/` : ''}${p.target.name}`;
  const cause = new ActionError(`${p.action} of ${where} for rule "${p.rule}" failed: ${verb}: ${(err as Error)?.message ?? String(err)}`, p.action, p.target, {
    code: ActionErrorCode.api,
    cause: err,
  });
  return { status: 'failed', action: p.action, target: p.target, cause };
}

function fail(p: PlannedAction, code: string, message: string, extra: { cause?: unknown; terminal?: boolean } = {}): ActionResult {
  return { status: 'failed', action: p.action, target: p.target, cause: new ActionError(message, p.action, p.target, { code, ...extra }) };
}

/** The options without undefined fields (what is actually sent). */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const rv = (o: KubeObject | undefined) => o?.metadata?.resourceVersion;
const base = (o: ExecuteOptions) => defined({ dryRun: o.dryRun || undefined, signal: o.signal });
const ok = (p: PlannedAction, o: ExecuteOptions, object: KubeObject, changed?: boolean): ActionResult => ({
  status: 'done',
  action: p.action,
  target: p.target,
  ...(o.dryRun ? { dryRun: true } : {}),
  ...(changed === undefined ? {} : { changed }),
  object,
});

function bodyOf(p: PlannedAction): KubeObject | undefined {
  return p.body !== null && typeof p.body === 'object' && !Array.isArray(p.body) ? (p.body as KubeObject) : undefined;
}

/** Server-side apply with field manager `reflex/<rule>`; `changed` is false when the server kept the resourceVersion. */
export async function runApply(p: PlannedAction, o: ExecuteOptions): Promise<ActionResult> {
  const body = bodyOf(p);
  if (!body) return fail(p, ActionErrorCode.invalid, `apply for rule "${p.rule}" has no object to apply`, { terminal: true });
  try {
    const current = o.current ?? o.lookup?.(p.target);
    const before = current ? rv(current) : undefined;
    const out = await o.client.patch(objectTarget(p.target), stampOwnership(body, p.rule), {
      ...base(o),
      type: 'apply',
      fieldManager: fieldManagerFor(p.rule),
      force: p.options.force === true,
    });
    return ok(p, o, out, before === undefined ? undefined : before !== rv(out));
  } catch (err) {
    return apiFailure(p, err, 'PATCH (apply)');
  }
}

/** POST; `ifExists: skip` (default) turns AlreadyExists into skipped-noop. */
export async function runCreate(p: PlannedAction, o: ExecuteOptions): Promise<ActionResult> {
  const body = bodyOf(p);
  if (!body) return fail(p, ActionErrorCode.invalid, `create for rule "${p.rule}" has no object to create`, { terminal: true });
  try {
    return ok(p, o, await o.client.create(stampOwnership(body, p.rule), { ...base(o), fieldManager: fieldManagerFor(p.rule) }), true);
  } catch (err) {
    if (isAlreadyExists(err)) {
      if (p.options.ifExists === 'fail') {
        return fail(p, ActionErrorCode.exists, `create for rule "${p.rule}": ${p.target.kind} ${p.target.name} already exists (ifExists: fail)`, { cause: err, terminal: true });
      }
      return { status: 'skipped-noop', action: p.action, target: p.target };
    }
    return apiFailure(p, err, 'POST');
  }
}

/** GET, render against it, PUT; a Conflict starts over, at most `updateAttempts` times. Identical renders are not sent. */
export async function runUpdate(p: PlannedAction, o: ExecuteOptions): Promise<ActionResult> {
  const attempts = o.updateAttempts ?? 5;
  let lastConflict: unknown;
  for (let i = 0; i < attempts; i++) {
    let current: KubeObject;
    try {
      current = await o.client.get(objectTarget(p.target), { signal: o.signal });
    } catch (err) {
      if (isNotFound(err)) return { status: 'skipped-missing', action: p.action, target: p.target };
      return apiFailure(p, err, 'GET');
    }
    let next: KubeObject;
    try {
      next = o.renderUpdate ? await o.renderUpdate(p, current) : { ...(bodyOf(p) ?? {}), metadata: { ...(bodyOf(p)?.metadata ?? {}), resourceVersion: rv(current) } };
    } catch (err) {
      return fail(p, ActionErrorCode.invalid, `update for rule "${p.rule}": rendering the object failed: ${(err as Error).message}`, { cause: err, terminal: true });
    }
    if (deepEqual(next, current)) return { status: 'skipped-noop', action: p.action, target: p.target, object: current };
    try {
      const out = await o.client.update(next, { ...base(o), fieldManager: fieldManagerFor(p.rule) });
      return ok(p, o, out, rv(out) !== rv(current));
    } catch (err) {
      if (!isConflict(err)) return apiFailure(p, err, 'PUT');
      lastConflict = err;
    }
  }
  return fail(p, ActionErrorCode.conflict, `update for rule "${p.rule}": still conflicting after ${attempts} attempts; another writer keeps changing ${p.target.kind} ${p.target.name}`, {
    cause: lastConflict,
  });
}

/** PATCH, unless applying it locally to the current object changes nothing. */
export async function runPatch(p: PlannedAction, o: ExecuteOptions): Promise<ActionResult> {
  const type = (p.options.type as LocalPatchType | undefined) ?? 'merge';
  const subresource = typeof p.options.subresource === 'string' ? p.options.subresource : undefined;
  const ignoreMissing = p.options.ignoreMissing === true;
  const missing = (err?: unknown): ActionResult =>
    ignoreMissing
      ? { status: 'skipped-missing', action: p.action, target: p.target }
      : fail(p, ActionErrorCode.missing, `patch for rule "${p.rule}": ${p.target.kind} ${p.target.name} not found (set ignoreMissing: true to tolerate)`, { cause: err });
  let current = o.current ?? o.lookup?.(p.target);
  if (!current) {
    try {
      current = await o.client.get(objectTarget(p.target), { signal: o.signal });
    } catch (err) {
      if (isNotFound(err)) return missing(err);
      return apiFailure(p, err, 'GET');
    }
  }
  try {
    if (deepEqual(applyPatchLocally(current, p.body, type), current)) return { status: 'skipped-noop', action: p.action, target: p.target, object: current };
  } catch (err) {
    if (err instanceof LocalPatchError) {
      return fail(p, ActionErrorCode.invalid, `patch for rule "${p.rule}" cannot apply to ${p.target.kind} ${p.target.name}: ${err.message}`, { cause: err, terminal: true });
    }
    throw err;
  }
  try {
    const out = await o.client.patch(objectTarget(p.target), p.body, defined({ ...base(o), type, subresource, fieldManager: fieldManagerFor(p.rule) }));
    return ok(p, o, out, rv(out) !== rv(current));
  } catch (err) {
    if (isNotFound(err)) return missing(err);
    return apiFailure(p, err, 'PATCH');
  }
}

const sameRef = (a: PlannedRef, t: KubeObject) =>
  a.apiVersion === t.apiVersion && a.kind === t.kind && a.name === t.metadata?.name && (a.namespace ?? '') === (t.metadata?.namespace ?? '');

/**
 * DELETE, with the trigger's uid as precondition when the target is the trigger (for a prune, the
 * uid of the generated object as cached); a gone or replaced target is skipped-missing.
 */
export async function runDelete(p: PlannedAction, o: ExecuteOptions): Promise<ActionResult> {
  const ignoreMissing = p.options.ignoreMissing !== false;
  // A prune deletes the generated object it saw (from the cache), never a namesake created since.
  const seen = p.options.prune === true ? (o.current ?? o.lookup?.(p.target)) : o.trigger && sameRef(p.target, o.trigger) ? o.trigger : undefined;
  const uid = seen?.metadata?.uid;
  try {
    const out = await o.client.delete(
      objectTarget(p.target),
      defined({
        ...base(o),
        propagationPolicy: p.options.propagationPolicy as 'Foreground' | 'Background' | 'Orphan' | undefined,
        gracePeriodSeconds: p.options.gracePeriodSeconds as number | undefined,
        preconditions: uid ? { uid } : undefined,
      }),
    );
    return ok(p, o, out, true);
  } catch (err) {
    // A uid precondition that no longer holds means the object we saw is gone and a namesake took its place.
    const replaced = uid !== undefined && isConflict(err);
    if (isNotFound(err) || replaced) {
      return ignoreMissing
        ? { status: 'skipped-missing', action: p.action, target: p.target }
        : fail(p, ActionErrorCode.missing, `delete for rule "${p.rule}": ${p.target.kind} ${p.target.name} is ${replaced ? 'a different object now' : 'gone'}`, { cause: err });
    }
    return apiFailure(p, err, 'DELETE');
  }
}
