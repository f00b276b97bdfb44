/** Clock: the one source of time for queues, informers, the engine and the daemon, so tests control it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a handle for `clearTimer`. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** Opaque timer handle. */
export type TimerHandle = { readonly id: number };

/**
 * Node's timers hold at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms.
 * Longer waits are chained in steps of at most this much.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()` and Node timers (unref'd, so they never keep the process alive). Any delay works, however long. */
export const realClock: Clock = (() => {
  let next = 0;
  const timers = new Map<number, NodeJS.Timeout>();
  const arm = (id: number, due: number, fn: () => void) => {
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, due - Date.now()));
    const t = setTimeout(() => {
      if (Date.now() < due) return arm(id, due, fn); // a long wait: the next step of the chain
      timers.delete(id);
      fn();
    }, wait);
    t.unref?.();
    timers.set(id, t);
  };
  return {
    now: () => Date.now(),
    setTimer(fn, ms) {
      const id = ++next;
      arm(id, Date.now() + Math.max(0, ms), fn);
      return { id };
    },
    clearTimer(handle) {
      const t = timers.get(handle.id);
      if (t) clearTimeout(t);
      timers.delete(handle.id);
    },
  };
})();

interface FakeTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * FakeClock: a manually advanced clock for tests. Timers fire, in due order,
 * only inside `advance`/`set`; nothing ever sleeps.
 */
export class FakeClock implements Clock {
  private current: number;
  private timers: FakeTimer[] = [];
  private seq = 0;

  constructor(start: number | Date = 0) {
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.push({ id, at: this.current + Math.max(0, ms), seq: id, fn });
    return { id };
  }

  clearTimer(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle.id);
  }

  /** Number of timers waiting to fire. */
  pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  advance(ms: number): void {
    this.set(this.current + ms);
  }

  /** Moves time to `at` (never backwards), firing every timer due on the way. */
  set(at: number | Date): void {
    const target = typeof at === 'number' ? at : at.getTime();
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const first = this.timers[0];
      if (!first || first.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, first.at);
      first.fn();
    }
    this.current = Math.max(this.current, target);
  }
}

/** Resolves after `ms` on `clock`, or rejects with the signal's reason when it aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimer(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
