import type { Kysely } from 'kysely';
import { inTransaction } from '../db/index.js';
import { BUDGET, type NewDecision, recordDecisions } from './decisions.js';
import type { Result } from './results.js';
import { GRACE_EXPIRED, lockExpired, markOverBudget, OVER_BUDGET } from './repository.js';

/**
 * Results waiting for funds (docs/settlement.md, "When the escrow runs out"). A result the escrow
 * cannot cover is recorded `awaiting_funds` (src/flows/hold.ts); the hold pass (`holdAwaitingFunds`,
 * src/flows/funds.ts) places their holds once the brand has topped up and resumed, in arrival order,
 * as far as the escrow covers them; the expiry (here) makes those still waiting at the end of their
 * grace period final `over_budget`.
 *
 * Safe with many processes: a pass batch locks the campaign's escrow first — so two passes on one
 * campaign, and a pass and new results recorded on it, take turns — then its waiting results in
 * order; the expiry takes results with SKIP LOCKED. Hold ids are the result's own (`<result>.net` /
 * `.fee`), so nothing is ever held twice, and each hold is checked against the locked escrow before
 * it is submitted (a refused transfer would burn its id).
 */
type Db = Kysely<any>;

export const FUNDS_LIMITS = {
  /** Waiting results taken per transaction. */
  batch_size: 500,
  /** Batches one pass over one campaign takes at most (the settlement run's pass goes on from there). */
  batches_per_pass_max: 100,
  /** Results expired per transaction, and transactions per run. */
  expire_batch_size: 1000,
  expire_batches_max: 100,
} as const;

/**
 * What a waiting result becomes once held: `review` if validation's verdict was review (its reasons
 * besides over_budget), else `pending` — as it would have been had the escrow covered it at once.
 */
export function heldAs(r: Pick<Result, 'reasons'>): { status: 'pending' | 'review'; reasons: string[] } {
  const reasons = r.reasons.filter((x) => x !== OVER_BUDGET);
  return { status: reasons.length > 0 ? 'review' : 'pending', reasons };
}

/**
 * Waiting results whose grace period has ended become final `over_budget` (reason
 * `budget_grace_expired` added), in bounded batches. Returns how many.
 */
export async function expireAwaitingFunds(db: Db, options: { batchSize?: number } = {}): Promise<number> {
  const batchSize = options.batchSize ?? FUNDS_LIMITS.expire_batch_size;
  let expired = 0;
  for (let batch = 0; batch < FUNDS_LIMITS.expire_batches_max; batch++) {
    const n = await inTransaction(db, async (trx) => {
      const rows = await lockExpired(trx, batchSize);
      await markOverBudget(trx, rows.map((r) => r.id), BUDGET.id);
      await recordDecisions(
        trx,
        rows.map((r): NewDecision => ({ resultId: r.id, from: 'awaiting_funds', to: 'over_budget', reasons: [GRACE_EXPIRED], note: null, actor: BUDGET })),
      );
      return rows.length;
    });
    expired += n;
    // Rows another expirer holds were skipped: they are its to expire.
    if (n < batchSize) break;
  }
  return expired;
}

export { type AwaitingFunds, awaitingFundsOf, campaignsWithAwaitingFunds, nextAwaiting } from './repository.js';
