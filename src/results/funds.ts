import type { Kysely } from 'kysely';
import { pauseForBudget } from '../campaigns/index.js';
import { inTransaction } from '../db/index.js';
import { assert } from '../errors/index.js';
import { AccountId, createTransfersIn, lockAccounts } from '../ledger/index.js';
import { BUDGET, type NewDecision, recordDecisions } from './decisions.js';
import { planHolds } from './funds-plan.js';
import { holdRequestsOf } from './holds.js';
import type { Result } from './results.js';
import { campaignStates, GRACE_EXPIRED, lockAwaiting, lockExpired, markHeld, markOverBudget, OVER_BUDGET } from './repository.js';

/**
 * Results waiting for funds (docs/settlement.md, "When the escrow runs out"). A result the escrow
 * cannot cover is recorded `awaiting_funds` (src/flows/hold.ts); the hold pass places their holds once
 * the brand has topped up and resumed, in arrival order, as far as the escrow covers them; the
 * expiry makes those still waiting at the end of their grace period final `over_budget`.
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

export interface HoldPass {
  held: number;
  /** The escrow could not cover the next waiting result: the pass stopped there (a running campaign paused again). */
  blocked: boolean;
}

/**
 * The hold pass over one campaign that is running (after a resume) or ended but not settled: its
 * waiting results in arrival order, held while the escrow covers them; the first that does not fit
 * stops the pass — arrival order is a promise — and a running campaign pauses again for budget.
 * Idempotent; batch after batch until none is left, the pass is blocked, or the batch limit.
 */
export async function holdAwaitingFunds(db: Db, campaignId: string, options: { batchSize?: number } = {}): Promise<HoldPass> {
  const batchSize = options.batchSize ?? FUNDS_LIMITS.batch_size;
  assert(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= FUNDS_LIMITS.batch_size, `batch size ${batchSize} out of range`);
  let held = 0;
  for (let batch = 0; batch < FUNDS_LIMITS.batches_per_pass_max; batch++) {
    const n = await holdBatch(db, campaignId, batchSize);
    held += n.held;
    if (n.blocked) return { held, blocked: true };
    if (n.taken < batchSize) break;
  }
  return { held, blocked: false };
}

async function holdBatch(db: Db, campaignId: string, limit: number): Promise<{ held: number; taken: number; blocked: boolean }> {
  return inTransaction(db, async (trx) => {
    const none = { held: 0, taken: 0, blocked: false };
    const [escrow] = await lockAccounts(trx, [AccountId.escrow(campaignId)]);
    if (!escrow || escrow.closed) return none;
    const campaign = (await campaignStates(trx, [campaignId])).get(campaignId);
    if (campaign?.status !== 'active' && campaign?.status !== 'ended') return none;
    const rows = await lockAwaiting(trx, campaignId, limit);
    if (rows.length === 0) return none;
    const available = escrow.credits_posted - escrow.debits_posted - escrow.debits_pending;
    const plan = planHolds(
      rows.map((r) => ({ id: r.id, campaignId, gross: r.gross })),
      new Map([[campaignId, { available, queued: false }]]),
    );
    const held = rows.filter((r) => plan.choices.get(r.id) === 'hold');
    const outcomes = await createTransfersIn(trx, held.flatMap(holdRequestsOf));
    const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
    assert(!bad, `holding a waiting result that fits the escrow failed: ${bad?.id} ${bad?.result}`);
    const decided = held.map((r) => ({ id: r.id, ...heldAs(r) }));
    await markHeld(trx, decided, BUDGET.id);
    await recordDecisions(
      trx,
      decided.map((d): NewDecision => ({ resultId: d.id, from: 'awaiting_funds', to: d.status, reasons: [], note: null, actor: BUDGET })),
    );
    const blocked = plan.ranOut.size > 0;
    if (blocked && campaign.status === 'active') await pauseForBudget(trx, [campaignId]);
    return { held: held.length, taken: rows.length, blocked };
  });
}

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
