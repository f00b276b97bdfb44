/** TimerHeap: a binary min-heap of items ordered by due time, then insertion order. */
export interface Timed<T> {
  at: number;
  seq: number;
  value: T;
}

export class TimerHeap<T> {
  private readonly heap: Timed<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** The earliest item without removing it. */
  peek(): Timed<T> | undefined {
    return this.heap[0];
  }

  push(at: number, value: T): Timed<T> {
    const item = { at, seq: ++this.seq, value };
    this.heap.push(item);
    this.up(this.heap.length - 1);
    return item;
  }

  /** Removes and returns the earliest item. */
  pop(): Timed<T> | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  clear(): void {
    this.heap.length = 0;
  }

  private less(a: Timed<T>, b: Timed<T>): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) return;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && this.less(h[l], h[min])) min = l;
      if (r < h.length && this.less(h[r], h[min])) min = r;
      if (min === i) return;
      [h[i], h[min]] = [h[min], h[i]];
      i = min;
    }
  }
}
