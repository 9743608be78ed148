import type { Kysely } from 'kysely';
import { assert } from '../errors/index.js';
import { createTransfers } from './repository.js';
import { LEDGER_LIMITS, TransferFlags, type TransferOutcome, type TransferRequest } from './types.js';

/**
 * Group commit for the ledger, as TigerBeetle's clients do: callers submit small requests (often one
 * transfer) concurrently; while a batch is in flight, new submissions queue, and the queue goes out as
 * the next batch. One database transaction (and one commit) then carries many callers' transfers, and
 * nobody waits on a timer: a lone submission is sent at once.
 *
 * Each submission keeps its own transfers contiguous and in order, so its linked chains stay whole;
 * submissions are independent of each other exactly as separate chains in one batch are. A batch that
 * fails as a whole (the database is down, contention beyond the retry budget) fails every submission
 * in it.
 */
export interface LedgerBatcherOptions {
  /** Transfers per database batch. */
  maxBatchSize?: number;
  /** Batches in flight at once (1 on the embedded engine: it is one session). */
  maxInFlight?: number;
}

interface Submission {
  requests: readonly TransferRequest[];
  resolve: (outcomes: TransferOutcome[]) => void;
  reject: (error: unknown) => void;
}

export class LedgerBatcher {
  readonly #db: Kysely<any>;
  readonly #maxBatchSize: number;
  readonly #maxInFlight: number;
  readonly #queue: Submission[] = [];
  #inFlight = 0;
  #batches = 0;

  constructor(db: Kysely<any>, options: LedgerBatcherOptions = {}) {
    this.#db = db;
    this.#maxBatchSize = Math.min(options.maxBatchSize ?? 2000, LEDGER_LIMITS.batch_size_max);
    this.#maxInFlight = options.maxInFlight ?? 1;
    assert(this.#maxBatchSize >= 1 && this.#maxInFlight >= 1, 'batcher limits must be positive');
  }

  /** Batches sent so far (for tests and metrics). */
  get batches(): number {
    return this.#batches;
  }

  submit(requests: readonly TransferRequest[]): Promise<TransferOutcome[]> {
    assert(requests.length <= this.#maxBatchSize, `at most ${this.#maxBatchSize} transfers a submission`);
    if (requests.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ requests, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#takeBatch();
      this.#inFlight++;
      this.#batches++;
      void this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  /** Whole submissions, in arrival order, up to the batch size. */
  #takeBatch(): Submission[] {
    const batch: Submission[] = [];
    let size = 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0] as Submission;
      if (size > 0 && (size + next.requests.length > this.#maxBatchSize || endsOpen(next) || endsOpen(batch.at(-1)))) break;
      batch.push(this.#queue.shift() as Submission);
      size += next.requests.length;
    }
    return batch;
  }

  async #send(batch: Submission[]): Promise<void> {
    try {
      const outcomes = await createTransfers(this.#db, batch.flatMap((s) => s.requests));
      let offset = 0;
      for (const s of batch) {
        s.resolve(outcomes.slice(offset, offset + s.requests.length));
        offset += s.requests.length;
      }
    } catch (e) {
      for (const s of batch) s.reject(e);
    }
  }
}

/** A submission whose last transfer is linked would chain into its neighbour: it travels alone. */
function endsOpen(s: Submission | undefined): boolean {
  const last = s?.requests[s.requests.length - 1];
  return last !== undefined && ((last.flags ?? 0) & TransferFlags.linked) !== 0;
}
