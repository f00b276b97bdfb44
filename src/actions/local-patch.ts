/**
 * local-patch: applies a patch to an object in memory, to know whether sending it would change
 * anything (no-op detection) and to show a before/after diff offline. Merge patches follow
 * RFC 7386 and JSON patches RFC 6902 exactly; strategic merge patches are approximated: lists of
 * objects that all carry `name` merge by name (as containers, env, volumes do), other lists are
 * replaced, and `$patch: delete|replace` directives are honoured. The approximation errs towards
 * "changed", so a patch is never skipped that the server would apply differently.
 */

/** The patch flavours a rule may use. */
export type LocalPatchType = 'merge' | 'json' | 'strategic';

/** A JSON patch that cannot be applied to the object (bad path, failed test…). */
export class LocalPatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalPatchError';
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

/** RFC 7386 JSON merge patch. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** Approximate strategic merge patch (see the module comment). */
export function applyStrategicPatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return clone(rest);
  }
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else if (Array.isArray(v) && Array.isArray(out[k]) && v.length > 0 && v.every((x) => isObj(x) && typeof x.name === 'string')) {
      out[k] = mergeByName(out[k] as unknown[], v as Record<string, unknown>[]);
    } else out[k] = applyStrategicPatch(out[k], v);
  }
  return out;
}

function mergeByName(current: unknown[], patch: Record<string, unknown>[]): unknown[] {
  const out = [...current];
  for (const p of patch) {
    const i = out.findIndex((c) => isObj(c) && c.name === p.name);
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = applyStrategicPatch(out[i], p);
    else out.push(applyStrategicPatch(undefined, p));
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new LocalPatchError(`JSON pointer "${path}" must start with "/"`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, segs: string[], path: string): unknown {
  let cur = doc;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObj(cur)) cur = cur[s];
    else cur = undefined;
    if (cur === undefined) throw new LocalPatchError(`path "${path}" does not exist`);
  }
  return cur;
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const s of parsePointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(s)] : isObj(cur) ? cur[s] : undefined;
    if (cur === undefined) throw new LocalPatchError(`path "${path}" does not exist`);
  }
  return cur;
}

function removeAt(doc: unknown, path: string): unknown {
  const segs = parsePointer(path);
  if (segs.length === 0) return undefined;
  const parent = parentOf(doc, segs, path);
  const last = segs[segs.length - 1];
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw new LocalPatchError(`path "${path}" does not exist`);
    parent.splice(i, 1);
  } else if (isObj(parent) && last in parent) delete parent[last];
  else throw new LocalPatchError(`path "${path}" does not exist`);
  return doc;
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const segs = parsePointer(path);
  if (segs.length === 0) return clone(value);
  const parent = parentOf(doc, segs, path);
  const last = segs[segs.length - 1];
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length) || (replace && i >= parent.length)) throw new LocalPatchError(`path "${path}" is out of range`);
    parent.splice(i, replace ? 1 : 0, clone(value));
  } else if (isObj(parent)) {
    if (replace && !(last in parent)) throw new LocalPatchError(`path "${path}" does not exist`);
    parent[last] = clone(value);
  } else throw new LocalPatchError(`path "${path}" does not exist`);
  return doc;
}

/** RFC 6902 JSON patch; throws LocalPatchError when an operation cannot apply. */
export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new LocalPatchError('a JSON patch is a list of operations');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, raw.path, raw.value, false);
        break;
      case 'replace':
        doc = addAt(doc, raw.path, raw.value, true);
        break;
      case 'remove':
        doc = removeAt(doc, raw.path);
        break;
      case 'move': {
        const v = getAt(doc, raw.from ?? '');
        doc = addAt(removeAt(doc, raw.from ?? ''), raw.path, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, raw.path, getAt(doc, raw.from ?? ''), false);
        break;
      case 'test':
        if (!deepEqual(getAt(doc, raw.path), raw.value)) throw new LocalPatchError(`test of "${raw.path}" failed`);
        break;
      default:
        throw new LocalPatchError(`unknown JSON patch operation "${String(raw.op)}"`);
    }
  }
  return doc;
}

/** Applies a patch of the given type. */
export function applyPatchLocally(target: unknown, patch: unknown, type: LocalPatchType = 'merge'): unknown {
  if (type === 'json') return applyJsonPatch(target, patch);
  if (type === 'strategic') return applyStrategicPatch(target, patch);
  return applyMergePatch(target, patch);
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
