/**
 * A binary min-heap of pending events ordered by time, then by the order they were scheduled: a
 * journey is generated when it starts but its later events (a conversion days after the click) wait
 * here until the simulation clock passes them, so the output is in time order without holding the
 * whole run in memory.
 */
export interface Scheduled<T> {
  readonly ts: number;
  readonly seq: number;
  readonly value: T;
}

export class EventQueue<T> {
  readonly #heap: Scheduled<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(ts: number, value: T): void {
    const heap = this.#heap;
    const item = { ts, seq: this.#seq++, value };
    let i = heap.length;
    heap.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent] as Scheduled<T>)) break;
      heap[i] = heap[parent] as Scheduled<T>;
      i = parent;
    }
    heap[i] = item;
  }

  /** The earliest event's time, or Infinity when empty. */
  peekTs(): number {
    return this.#heap[0]?.ts ?? Number.POSITIVE_INFINITY;
  }

  pop(): Scheduled<T> | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Scheduled<T>, heap[left] as Scheduled<T>) ? right : left;
      if (!before(heap[child] as Scheduled<T>, last)) break;
      heap[i] = heap[child] as Scheduled<T>;
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

function before<T>(a: Scheduled<T>, b: Scheduled<T>): boolean {
  return a.ts < b.ts || (a.ts === b.ts && a.seq < b.seq);
}
