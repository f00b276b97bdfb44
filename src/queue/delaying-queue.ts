/** DelayingWorkQueue: a WorkQueue whose keys can be added after a delay, over a timer heap on the injected clock. */
import type { TimerHandle } from '../core/index.js';
import type { AddOptions, Lane } from './lane.js';

/** Options of a delayed add. */
export interface AddAfterOptions extends AddOptions {
  /** Replace the key's delayed add still waiting, whatever its due time (default: the earlier one wins). */
  replace?: boolean;
}
import { TimerHeap, type Timed } from './timer-heap.js';
import { WorkQueue, type Queue, type WorkQueueOptions } from './work-queue.js';

/** DelayingQueue: a Queue that can add a key later. */
export interface DelayingQueue extends Queue {
  /**
   * Adds `key` after `delayMs` (now when ≤ 0). A key already waiting keeps the
   * earlier of its two due times (as client-go), unless `replace`. Ignored after shutdown.
   */
  addAfter(key: string, delayMs: number, options?: AddAfterOptions): void;
  /** Cancels the delayed add of `key` still waiting, if any (a key already queued stays queued). */
  cancelAfter(key: string): void;
  /** Keys waiting for their delay to pass. */
  waitingLen(): number;
}

interface Waiting {
  key: string;
  lane: Lane;
  /** Cleared when a later addAfter moved the key earlier (lazy deletion). */
  live: boolean;
}

export class DelayingWorkQueue extends WorkQueue implements DelayingQueue {
  private readonly heap = new TimerHeap<Waiting>();
  private readonly waiting = new Map<string, Timed<Waiting>>();
  private timer: { handle: TimerHandle; at: number } | undefined;

  constructor(options: WorkQueueOptions = {}) {
    super(options);
  }

  addAfter(key: string, delayMs: number, options: AddAfterOptions = {}): void {
    if (this.shuttingDown) return;
    if (options.replace) this.cancelAfter(key);
    if (delayMs <= 0) {
      this.add(key, options);
      return;
    }
    const lane = options.lane ?? 'live';
    const at = this.clock.now() + delayMs;
    const existing = this.waiting.get(key);
    if (existing) {
      if (existing.at <= at) {
        if (lane === 'live') existing.value.lane = 'live';
        return;
      }
      existing.value.live = false;
    }
    const lanePick: Lane = existing?.value.lane === 'live' ? 'live' : lane;
    this.waiting.set(key, this.heap.push(at, { key, lane: lanePick, live: true }));
    this.arm();
  }

  cancelAfter(key: string): void {
    const existing = this.waiting.get(key);
    if (!existing) return;
    existing.value.live = false; // lazy deletion: the heap skips it when it falls due
    this.waiting.delete(key);
  }

  /** When the delayed add of `key` falls due (clock ms), if one is waiting. */
  dueAt(key: string): number | undefined {
    return this.waiting.get(key)?.at;
  }

  waitingLen(): number {
    return this.waiting.size;
  }

  protected override onShutdown(): void {
    if (this.timer) this.clock.clearTimer(this.timer.handle);
    this.timer = undefined;
    this.heap.clear();
    this.waiting.clear();
  }

  /** Keeps exactly one clock timer, set for the earliest due key. */
  private arm(): void {
    const top = this.heap.peek();
    if (!top) return;
    if (this.timer && this.timer.at <= top.at) return;
    if (this.timer) this.clock.clearTimer(this.timer.handle);
    const handle = this.clock.setTimer(() => this.fire(), top.at - this.clock.now());
    this.timer = { handle, at: top.at };
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now();
    for (let top = this.heap.peek(); top && top.at <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (!top.value.live) continue;
      this.waiting.delete(top.value.key);
      this.add(top.value.key, { lane: top.value.lane });
    }
    this.arm();
  }
}
