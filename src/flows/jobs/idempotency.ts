import type { Kysely } from 'kysely';
import { type Logger, type Periodic, startPeriodic } from '../../runtime/index.js';
import { IDEMPOTENCY_LIMITS, purgeIdempotencyKeys } from '../../idempotency/index.js';

/** How often expired idempotency records are purged. */
export const IDEMPOTENCY_PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * Deletes idempotency records past their retention (IDEMPOTENCY_LIMITS.retention_hours), a bounded
 * batch per run; a full batch runs the next at once. Idempotent: processes sharing one database may
 * purge at the same time.
 */
export function startIdempotencyPurge(p: { db: Kysely<any>; logger: Logger; intervalMs?: number }): Periodic {
  return startPeriodic({
    name: 'idempotency purge',
    intervalMs: p.intervalMs ?? IDEMPOTENCY_PURGE_INTERVAL_MS,
    logger: p.logger,
    run: async () => {
      const purged = await purgeIdempotencyKeys(p.db);
      if (purged > 0) p.logger.info('idempotency keys purged', { count: purged });
      return purged >= IDEMPOTENCY_LIMITS.purge_batch_size;
    },
  });
}
