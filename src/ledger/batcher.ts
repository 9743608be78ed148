import type { Kysely } from 'kysely';
import { GroupCommit } from '../db/index.js';
import { createTransfers } from './repository.js';
import { LEDGER_LIMITS, TransferFlags, type TransferOutcome, type TransferRequest } from './types.js';

/**
 * Group commit for the ledger, as TigerBeetle's clients do (see GroupCommit): callers submit small
 * requests (often one transfer) concurrently and share transactions. Each submission keeps its
 * transfers contiguous and in order, so its linked chains stay whole; submissions are independent of
 * each other exactly as separate chains in one batch are. A submission whose last transfer is linked
 * would chain into its neighbour: it travels alone.
 */
export interface LedgerBatcherOptions {
  /** Transfers per database batch. */
  maxBatchSize?: number;
  /** Batches in flight at once (1 on the embedded engine: it is one session). */
  maxInFlight?: number;
}

export class LedgerBatcher {
  readonly #group: GroupCommit<TransferRequest, TransferOutcome>;

  constructor(db: Kysely<any>, options: LedgerBatcherOptions = {}) {
    this.#group = new GroupCommit((requests) => createTransfers(db, requests), {
      maxBatchSize: Math.min(options.maxBatchSize ?? 2000, LEDGER_LIMITS.batch_size_max),
      maxInFlight: options.maxInFlight ?? 1,
      alone: endsOpen,
    });
  }

  /** Batches sent so far (for tests and metrics). */
  get batches(): number {
    return this.#group.batches;
  }

  submit(requests: readonly TransferRequest[]): Promise<TransferOutcome[]> {
    return this.#group.submit(requests);
  }

  drain(): Promise<void> {
    return this.#group.drain();
  }
}

function endsOpen(requests: readonly TransferRequest[]): boolean {
  const last = requests[requests.length - 1];
  return last !== undefined && ((last.flags ?? 0) & TransferFlags.linked) !== 0;
}
