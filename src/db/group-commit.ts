import { assert } from '../errors/index.js';
import { isSystemic } from './transaction.js';

/**
 * Group commit: callers submit small lists of items concurrently; while a batch is in flight, new
 * submissions queue, and the queue goes out as the next batch — one transaction for many callers,
 * and no timer: a lone submission is sent at once. `run` gets the items of whole submissions in
 * arrival order and returns one output per item.
 *
 * One caller's bad item never fails another's: a batch that throws is split in two halves (by
 * submission, in order) and each half is run again, down to the one submission at fault, which alone
 * gets the error; every other submission gets the answer it would have had on its own. `run` must
 * therefore be atomic (one transaction: a failed run leaves nothing behind). A systemic failure (the
 * database is down: `isSystemic`) is not split — it fails every submission of the batch at once.
 */
export interface GroupCommitOptions<I> {
  /** Items per batch. */
  maxBatchSize: number;
  /** Batches in flight at once. */
  maxInFlight?: number;
  /** A submission for which this is true travels alone. */
  alone?: (items: readonly I[]) => boolean;
  /** Whether a failed batch may be split to isolate the failing submission (default: not `isSystemic`). */
  isolate?: (error: unknown) => boolean;
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
  readonly #isolate: (error: unknown) => boolean;
  readonly #queue: Submission<I, O>[] = [];
  readonly #idle: Array<() => void> = [];
  #inFlight = 0;
  #batches = 0;
  #splits = 0;

  constructor(run: (items: I[]) => Promise<O[]>, options: GroupCommitOptions<I>) {
    this.#run = run;
    this.#maxBatchSize = options.maxBatchSize;
    this.#maxInFlight = options.maxInFlight ?? 1;
    this.#alone = options.alone ?? (() => false);
    this.#isolate = options.isolate ?? ((e) => !isSystemic(e));
    assert(this.#maxBatchSize >= 1 && this.#maxInFlight >= 1, 'group commit limits must be positive');
  }

  /** Batches sent so far, retried halves included (tests, metrics). */
  get batches(): number {
    return this.#batches;
  }

  /** Failed batches split to isolate a failing submission (tests, metrics). */
  get splits(): number {
    return this.#splits;
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

  /** Runs a batch; on a failure that may be one member's, runs each half again (bisection). */
  async #send(batch: Submission<I, O>[]): Promise<void> {
    this.#batches++;
    let outputs: O[];
    try {
      outputs = await this.#run(batch.flatMap((s) => [...s.items]));
      assert(outputs.length === batch.reduce((n, s) => n + s.items.length, 0), 'one output per item');
    } catch (e) {
      if (batch.length === 1 || !this.#isolate(e)) {
        for (const s of batch) s.reject(e);
        return;
      }
      this.#splits++;
      const half = Math.ceil(batch.length / 2);
      // In order: a later submission may depend on an earlier one's effects, as in one batch.
      await this.#send(batch.slice(0, half));
      await this.#send(batch.slice(half));
      return;
    }
    let offset = 0;
    for (const s of batch) {
      s.resolve(outputs.slice(offset, offset + s.items.length));
      offset += s.items.length;
    }
  }
}
