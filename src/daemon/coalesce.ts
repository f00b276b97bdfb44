/**
 * coalesce: what a worker evaluates when several changes of one object arrive
 * before it gets to the key: the newest state, once, with `$old` =
 * the state before the first of those changes.
 */
import type { KubeObject } from '../core/index.js';
import type { RuleEvent } from '../engine/index.js';
import type { Lane } from '../queue/index.js';

/** A change waiting for a worker, per (rule, object) key. */
export interface PendingChange {
  event: RuleEvent;
  /** The state before the first coalesced change (updates only). */
  old?: KubeObject;
  /** The last known state: what a `delete` is evaluated on. */
  last: KubeObject;
  lane: Lane;
  /** The kind of sweep (sync, resync, schedule) this change belongs to, for the blast-radius limit. */
  sweep?: RuleEvent;
}

/**
 * Merges `next` into the change already pending (if any):
 * - a delete always wins (the object is gone);
 * - after a delete, a create or sync is a re-created namesake: `create`;
 * - an object first seen by `sync` or `create` stays so through later updates (there is no `$old`);
 * - updates keep the `$old` of the first update;
 * - a live update replaces a pending resync/schedule; sweeps replace sweeps.
 * A live lane always wins over a sweep lane.
 */
export function coalesce(prev: PendingChange | undefined, next: PendingChange): PendingChange {
  if (!prev) return next;
  const lane: Lane = prev.lane === 'live' || next.lane === 'live' ? 'live' : 'sweep';
  const merged = (event: RuleEvent, old: KubeObject | undefined, sweep: RuleEvent | undefined): PendingChange => ({
    event,
    ...(old !== undefined ? { old } : {}),
    last: next.last,
    lane,
    ...(sweep !== undefined ? { sweep } : {}),
  });
  if (next.event === 'delete') return merged('delete', undefined, undefined);
  if (prev.event === 'delete') return merged('create', undefined, undefined);
  if ((prev.event === 'sync' || prev.event === 'create') && !(next.event === 'sync' || next.event === 'create')) {
    return merged(prev.event, undefined, prev.sweep);
  }
  if (prev.event === 'update' && next.event !== 'sync' && next.event !== 'create') return merged('update', prev.old, undefined);
  return merged(next.event, next.old, next.sweep);
}
