/**
 * Lane: which line a key waits in. `live` carries keys from watch events; `sweep`
 * carries bulk work (sync, resync, schedule). Workers always take a live key before
 * a sweep key, so under a flood of sweep keys a live key waits at most for the
 * items already in flight (one per worker).
 */
export type Lane = 'live' | 'sweep';

/** The lanes in the order workers serve them. */
export const LANES: readonly Lane[] = ['live', 'sweep'];

/** Options of every add. */
export interface AddOptions {
  /** The lane the key waits in. Default `live`. A key pending in `sweep` that is added as `live` moves to `live`; never the other way. */
  lane?: Lane;
}
