import { assert } from '../errors/index.js';

/**
 * The bounded queue between the redirect and the writer. `push` accepts at once while there is room;
 * when the buffer is full the caller waits in line (backpressure: the redirect answers late, never
 * drops a click), and waiting items enter in arrival order as the writer frees room. Items leave only
 * once written (`peek` then `remove`), so a failed write loses nothing.
 */
export class ClickBuffer<T> {
  readonly #capacity: number;
  #items: T[] = [];
  readonly #waiting: Array<{ item: T; admit: () => void }> = [];

  constructor(capacity: number) {
    assert(Number.isInteger(capacity) && capacity > 0, 'the click buffer needs a positive capacity');
    this.#capacity = capacity;
  }

  /** Items in the buffer (written next). */
  get size(): number {
    return this.#items.length;
  }

  /** Items waiting for room. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Undefined when accepted at once; otherwise a promise that resolves when the item is in. */
  push(item: T): Promise<void> | undefined {
    if (this.#waiting.length === 0 && this.#items.length < this.#capacity) {
      this.#items.push(item);
      return undefined;
    }
    return new Promise<void>((admit) => this.#waiting.push({ item, admit }));
  }

  /** The oldest `n` items, left in place. */
  peek(n: number): T[] {
    return this.#items.slice(0, n);
  }

  /** Drops the oldest `n` items (just written) and lets waiting ones in. */
  remove(n: number): void {
    assert(n >= 0 && n <= this.#items.length, `cannot remove ${n} of ${this.#items.length} buffered clicks`);
    this.#items = this.#items.slice(n);
    while (this.#waiting.length > 0 && this.#items.length < this.#capacity) {
      const next = this.#waiting.shift() as { item: T; admit: () => void };
      this.#items.push(next.item);
      next.admit();
    }
  }

  /** Puts items back at the end, whatever the capacity (clicks already accepted are never refused room). */
  requeue(items: readonly T[]): void {
    this.#items.push(...items);
  }
}
