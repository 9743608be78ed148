import type { Kysely } from 'kysely';
import { expireDueHolds } from '../../ledger/index.js';
import { type Logger, startPeriodic } from '../../runtime/index.js';

/** Holds expired per transaction: bounded, so one run never holds locks for long. */
const EXPIRY_BATCH_SIZE = 1000;

export interface HoldExpiryOptions {
  db: Kysely<any>;
  intervalMs: number;
  logger: Logger;
  /** The ledger's sweeper; replaceable in tests. */
  expire?: (db: Kysely<any>, limit: number) => Promise<number>;
}

export interface HoldExpiry {
  /** Stops scheduling and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

/**
 * Expires due holds in the background. Each run is scheduled only after the previous one finished,
 * so runs never overlap. A full batch means more may be due, so the next run follows at once;
 * otherwise it waits `intervalMs`. A failure is logged and retried at the next interval: the sweeper
 * is idempotent, and holds are already treated as expired by the ledger once due.
 */
export function startHoldExpiry({ db, intervalMs, logger, expire = expireDueHolds }: HoldExpiryOptions): HoldExpiry {
  return startPeriodic({
    name: 'hold expiry',
    intervalMs,
    logger,
    async run() {
      const expired = await expire(db, EXPIRY_BATCH_SIZE);
      if (expired > 0) logger.info('holds expired', { count: expired });
      return expired >= EXPIRY_BATCH_SIZE;
    },
  });
}
