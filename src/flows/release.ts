import type { Kysely } from 'kysely';
import { inTransaction } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { createTransfersIn, resolveHoldRequests, TransferFlags as F, type TransferRequest } from '../ledger/index.js';
import {
  type Actor,
  capPayments,
  holdLegs,
  lockDue,
  lockResult,
  markApproved,
  markForReview,
  markRejected,
  markReviewed,
  type NewDecision,
  OVER_BUDGET,
  recheckDue,
  recordDecisions,
  type Result,
  resultById,
  SETTLEMENT,
} from '../results/index.js';

/**
 * Release and review (step 4 of the money path, docs/architecture.md): a due result is re-checked
 * (results/recheck.ts over judging/) and its hold posted, or it goes to review; the brand or an
 * operator rejects a result whose hold is open (the hold is voided); an operator approves a result in
 * review. Spans results (the rows, their decisions, the re-check, the caps) and the ledger (post, void).
 */
type Db = Kysely<any>;

/**
 * Settles results whose hold period has passed and that nobody rejected, in one transaction per batch.
 * First the release re-check (`recheckDue`): the engine judges each due result's creator's recent
 * traffic on the campaign again, and a result whose source is no longer valid goes to `review` with
 * the new reasons (its hold stays; a person decides). The others are approved: each hold posted (its
 * legs linked). Rows are taken with SKIP LOCKED, so settlers running at once take different results;
 * the ledger's ids make a rerun after a crash post nothing twice. Every status change is logged.
 */
export async function approveDue(db: Db, limit = 500): Promise<{ approved: number; reviewed: number }> {
  return inTransaction(db, async (trx) => {
    const rows = await lockDue(trx, limit);
    if (rows.length === 0) return { approved: 0, reviewed: 0 };
    const flagged = await recheckDue(trx, rows);
    const toReview = rows.filter((r) => flagged.has(r.id)).map((r) => ({ r, added: (flagged.get(r.id) ?? []).filter((x) => !r.reasons.includes(x)) }));
    const toApprove = rows.filter((r) => !flagged.has(r.id));
    if (toReview.length > 0) {
      await markForReview(trx, toReview.map(({ r, added }) => ({ id: r.id, reasons: [...r.reasons, ...added] })), SETTLEMENT.id);
    }
    if (toApprove.length > 0) {
      const capped = await capPayments(trx, toApprove); // incentives' caps per creator per period: a partial post
      const outcomes = await createTransfersIn(trx, toApprove.flatMap((r) => capped.get(r.id) ?? resolveRequests(r, F.post_pending_transfer, 'settle')));
      const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
      assert(!bad, `settling a hold failed: ${bad?.id} ${bad?.result}`);
      await markApproved(trx, toApprove.map((r) => r.id), SETTLEMENT.id);
    }
    await recordDecisions(trx, [
      ...toReview.map(({ r, added }): NewDecision => ({ resultId: r.id, from: 'pending', to: 'review', reasons: added, note: null, actor: SETTLEMENT })),
      ...toApprove.map((r): NewDecision => ({ resultId: r.id, from: 'pending', to: 'approved', reasons: [], note: null, actor: SETTLEMENT })),
    ]);
    return { approved: toApprove.length, reviewed: toReview.length };
  });
}

function resolveRequests(r: Result, flag: typeof F.post_pending_transfer | typeof F.void_pending_transfer, verb: string): TransferRequest[] {
  const legs = Object.entries(holdLegs(r)).map(([leg, pendingId]) => ({ leg: leg as 'net' | 'fee', pendingId: pendingId as string }));
  return resolveHoldRequests({ resolutionId: `${r.id}.${verb}`, legs, flag });
}

function required(value: string | null | undefined, field: string, why: string): string {
  if (!value) throw new AppError('invalid_request', `${field} is required: ${why}`, { details: { field } });
  return value;
}

/**
 * Rejects a result whose hold is still open: a `pending` one during its hold period (the brand, or an
 * operator; a reason code is required), or one in `review` (a person's decision: a note is required,
 * a reason code optional). The hold is voided: the money returns to the escrow. A result
 * `awaiting_funds` may be rejected like a pending one (a reason code): it has no hold, nothing moves.
 */
export async function rejectResult(
  db: Db,
  p: { resultId: string; orgId?: string; by: string; actor?: 'organization' | 'operator'; reason?: string | null; note?: string | null },
): Promise<Result> {
  return inTransaction(db, async (trx) => {
    const r = await lockResult(trx, p.resultId, p.orgId);
    if (r.status !== 'pending' && r.status !== 'review' && r.status !== 'awaiting_funds') {
      throw new AppError('invalid_state', `result ${r.id} is ${r.status}; only pending results, results in review and results awaiting funds can be rejected`);
    }
    if (r.status === 'review') required(p.note, 'note', 'a decision on a result in review is explained');
    else required(p.reason, 'reason', `a reason code says why a ${r.status} result is rejected`);
    if (r.status !== 'awaiting_funds') {
      const outcomes = await createTransfersIn(trx, resolveRequests(r, F.void_pending_transfer, 'void'));
      const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
      assert(!bad, `voiding a hold failed: ${bad?.id} ${bad?.result}`);
    }
    // A result rejected while it waited is no longer about the budget.
    const kept = r.status === 'awaiting_funds' ? r.reasons.filter((x) => x !== OVER_BUDGET) : r.reasons;
    const added = p.reason && !kept.includes(p.reason) ? [p.reason] : [];
    await markRejected(trx, { id: r.id, reasons: [...kept, ...added], by: p.by, note: p.note ?? null });
    const actor: Actor = { kind: p.actor ?? (p.orgId ? 'organization' : 'operator'), id: p.by };
    await recordDecisions(trx, [{ resultId: r.id, from: r.status, to: 'rejected', reasons: added, note: p.note ?? null, actor }]);
    return resultById(trx, r.id);
  });
}

/**
 * An operator approves a result in review: it goes back to `pending`, marked `reviewed`, and the next
 * settlement after its hold period pays it (the release re-check leaves it alone: a person decided).
 */
export async function approveReviewedResult(db: Db, p: { resultId: string; by: string; note?: string | null }): Promise<Result> {
  return inTransaction(db, async (trx) => {
    const r = await lockResult(trx, p.resultId);
    if (r.status !== 'review') throw new AppError('invalid_state', `result ${r.id} is ${r.status}; only results in review can be approved`);
    await markReviewed(trx, { id: r.id, by: p.by, note: p.note ?? null });
    await recordDecisions(trx, [{ resultId: r.id, from: 'review', to: 'pending', reasons: [], note: p.note ?? null, actor: { kind: 'operator', id: p.by } }]);
    return resultById(trx, r.id);
  });
}
