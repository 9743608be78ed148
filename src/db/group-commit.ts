import { assert } from '../errors/index.js';

/**
 * Group commit: callers submit small lists of items concurrently; while a batch is in flight, new
 * submissions queue, and the queue goes out as the next batch — one transaction for many callers,
 * and no timer: a lone submission is sent at once. `run` gets the items of whole submissions in
 * arrival order and returns one output per item. A batch that throws fails every submission in it.
 */
export interface GroupCommitOptions<I> {
  /** Items per batch. */
  maxBatchSize: number;
  /** Batches in flight at once. */
  maxInFlight?: number;
  /** A submission for which this is true travels alone. */
  alone?: (items: readonly I[]) => boolean;
}

interface Submission<I, O> {
  items: readonly I[];
  resolve: (outputs: O[]) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #maxBatchSize: number;
  readonly #maxInFlight: number;
  readonly #alone: (items: readonly I[]) => boolean;
  readonly #queue: Submission<I, O>[] = [];
  readonly #idle: Array<() => void> = [];
  #inFlight = 0;
  #batches = 0;

  constructor(run: (items: I[]) => Promise<O[]>, options: GroupCommitOptions<I>) {
    this.#run = run;
    this.#maxBatchSize = options.maxBatchSize;
    this.#maxInFlight = options.maxInFlight ?? 1;
    this.#alone = options.alone ?? (() => false);
    assert(this.#maxBatchSize >= 1 && this.#maxInFlight >= 1, 'group commit limits must be positive');
  }

  /** Batches sent so far (tests, metrics). */
  get batches(): number {
    return this.#batches;
  }

  submit(items: readonly I[]): Promise<O[]> {
    assert(items.length <= this.#maxBatchSize, `at most ${this.#maxBatchSize} items a submission`);
    if (items.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ items, resolve, reject });
      this.#pump();
    });
  }

  /** Resolves once nothing is queued or in flight (graceful stop). */
  drain(): Promise<void> {
    if (this.#inFlight === 0 && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      this.#inFlight++;
      this.#batches++;
      void this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) for (const done of this.#idle.splice(0)) done();
      });
    }
  }

  #take(): Submission<I, O>[] {
    const batch: Submission<I, O>[] = [];
    let size = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Submission<I, O>;
      const last = batch[batch.length - 1];
      if (last && (size + next.items.length > this.#maxBatchSize || this.#alone(next.items) || this.#alone(last.items))) break;
      batch.push(this.#queue.shift() as Submission<I, O>);
      size += next.items.length;
    }
    return batch;
  }

  async #send(batch: Submission<I, O>[]): Promise<void> {
    try {
      const outputs = await this.#run(batch.flatMap((s) => [...s.items]));
      assert(outputs.length === batch.reduce((n, s) => n + s.items.length, 0), 'one output per item');
      let offset = 0;
      for (const s of batch) {
        s.resolve(outputs.slice(offset, offset + s.items.length));
        offset += s.items.length;
      }
    } catch (e) {
      for (const s of batch) s.reject(e);
    }
  }
}
