import type { Kysely, Transaction } from 'kysely';
import { type Campaign, getCampaign } from '../campaigns/index.js';
import { bonusFeeReturns } from '../bonuses/index.js';
import { inTransaction } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import {
  AccountId,
  clawbackRequests,
  createTransfersIn,
  type FeeReturn,
  type FeeReturnEvent,
  linkChain,
  lockAccounts,
  lookupTransfers,
  TransferCode,
  TransferFlags as F,
  type TransferRequest,
} from '../ledger/index.js';
import { lockResult, markReversed, recordDecisions, type Result, resultById } from '../results/index.js';
import { feeReturnAfterClose, feeStanding, type FeeStanding } from '../settlement/index.js';

/**
 * Fraud never pays anyone, the platform included. When a paid result is reversed (or a reversal lowers
 * a tier bonus), the fee the platform posted for it goes back to the brand, and once the campaign is
 * settled the money-back guarantee is judged again on the results that stand.
 *
 * While the escrow is open the fee goes back into it (402, `<id>.fee`): settlement later sweeps it to
 * the brand with the rest of the unspent escrow, and decides the guarantee on the standing results.
 *
 * Once the escrow is closed, what the platform keeps of the campaign must become
 *
 *   kept* = standing − guarantee(standing, validated)      standing = fees earned − fees of what was taken back
 *
 * and every unit above that goes to the brand's wallet: Δ = kept − kept*, where kept is what the
 * platform keeps now (fees earned − 402 − 401, from the journal). Δ is never negative: a reversal takes
 * f off the standing fees and lowers the guarantee by at most f (it can only lower the validated count,
 * which may start the guarantee). Δ is paid as the fee (402, `<id>.fee`, at most f) and the rest as a
 * guarantee adjustment (401, `<id>.guarantee`). When the guarantee had already been applied, it had
 * already refunded part of this fee: the 402 is then f less that part — the brand is not paid the same
 * fee twice. So after every event, 401 + 402 = fees taken back + guarantee(standing): the brand's fee
 * money back is exact, and never more than the campaign's fees (the fee account is never overdrawn:
 * it holds at least every campaign's kept, which stays ≥ 0).
 *
 * The settlement's own guarantee step (`guarantee:<campaign>`) is the same computation with no fee:
 * Δ = guarantee − what adjustments already paid, so a reversal between the close and that step is not
 * refunded twice either.
 */
type Db = Kysely<any>;
type Trx = Transaction<any>;

/** The FeeReturn settlement supplies to reversals and the bonus job (see src/ledger FeeReturn). */
export async function returnFees(trx: Trx, e: FeeReturnEvent): Promise<TransferRequest[]> {
  assert(e.fee >= 0n, `a fee to return cannot be negative, got ${e.fee}`);
  const feeLeg = (amount: bigint, to: string): TransferRequest => ({
    id: `${e.id}.fee`,
    debit_account_id: AccountId.fees(e.currency),
    credit_account_id: to,
    amount,
    currency: e.currency,
    code: TransferCode.fee_reversal,
    user_data: e.userData,
  });
  if (e.escrowOpen) return e.fee > 0n ? [feeLeg(e.fee, AccountId.escrow(e.campaignId))] : [];
  const campaign = await getCampaign(trx, { kind: 'operator' }, e.campaignId);
  const { fee, guarantee: adjustment } = feeReturnAfterClose(await standingOf(trx, campaign, e.resultId), termsOf(campaign), e.fee);
  const wallet = AccountId.wallet(e.orgId, e.currency);
  const requests: TransferRequest[] = [];
  if (fee > 0n) requests.push(feeLeg(fee, wallet));
  if (adjustment > 0n) {
    requests.push({ ...feeLeg(adjustment, wallet), id: `${e.id}.guarantee`, code: TransferCode.fee_refund });
  }
  return requests;
}

async function standingOf(db: Kysely<any>, c: Pick<Campaign, 'id'>, exclude?: string): Promise<FeeStanding> {
  return feeStanding(db, c.id, await bonusFeeReturns(db, c.id, AccountId.escrow(c.id)), exclude);
}

function termsOf(c: Pick<Campaign, 'terms'>): { kpiTarget: number; guaranteeBps: number } {
  return { kpiTarget: c.terms.kpi_target, guaranteeBps: c.terms.guarantee_bps };
}

/**
 * The guarantee at settlement (`guarantee:<campaign>`, 401), once the escrow is closed: the guarantee on
 * the standing results, less adjustments reversals after the close already paid. In one transaction
 * with the fee account and the brand's wallet locked (a reversal takes the same locks), and made once:
 * a rerun finds it and moves nothing. Returns what it refunded (the stored amount on a rerun).
 */
export async function refundGuarantee(db: Kysely<any>, c: Campaign): Promise<bigint> {
  return inTransaction(db, async (trx) => {
    await lockAccounts(trx, [AccountId.fees(c.currency), AccountId.wallet(c.org_id, c.currency)]);
    const id = `guarantee:${c.id}`;
    const [done] = await lookupTransfers(trx, [id]);
    if (done) return done.amount;
    const delta = feeReturnAfterClose(await standingOf(trx, c), termsOf(c), 0n).guarantee;
    if (delta === 0n) return 0n;
    const request: TransferRequest = {
      id,
      debit_account_id: AccountId.fees(c.currency),
      credit_account_id: AccountId.wallet(c.org_id, c.currency),
      amount: delta,
      currency: c.currency,
      code: TransferCode.fee_refund,
    };
    const [outcome] = await createTransfersIn(trx, [request]);
    assert(outcome?.result === 'ok' || outcome?.result === 'exists', `the guarantee refund of campaign ${c.id} failed: ${outcome?.result}`);
    return delta;
  });
}

/**
 * The reversal of a paid result (`POST /v1/results/{id}/reverse`): `reverseResult` (below) with
 * settlement's fee return, so the fee and the guarantee follow the results that stand.
 */
export function reversePaidResult(db: Kysely<any>, p: { resultId: string; by: string; reason: string; note: string }): Promise<Result> {
  return reverseResult(db, { ...p, returnFees });
}

/**
 * An operator reverses an approved (paid) result found invalid later, and nobody keeps money for it:
 * the net it paid the creator (its posted net leg: less than gross − fee when caps cut it) is clawed
 * back — from their payable as far as it goes, the rest booked on their receivable, never a negative
 * balance — and the fee the platform posted (its posted fee leg) goes back too, both to the campaign
 * escrow, or to the brand's wallet once the escrow is closed (the campaign is settled). What the fee
 * return moves, and any adjustment of a guarantee already decided, is settlement's to say
 * (`returnFees`, src/settlement/fee-return.ts). One linked chain (`<result>.reverse.payable` /
 * `.receivable` / `.fee` / `.guarantee`), in the transaction that marks the result `reversed`.
 * Idempotent: reversing a reversed result changes nothing.
 */
async function reverseResult(
  db: Db,
  p: { resultId: string; by: string; reason: string; note: string; returnFees: FeeReturn },
): Promise<Result> {
  return inTransaction(db, async (trx) => {
    const r = await lockResult(trx, p.resultId);
    if (r.status === 'reversed') return resultById(trx, r.id);
    if (r.status !== 'approved') throw new AppError('invalid_state', `result ${r.id} is ${r.status}; only approved results can be reversed`);
    const requests = await reversalRequests(trx, r, p.returnFees);
    const outcomes = await createTransfersIn(trx, linkChain(requests));
    const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
    assert(!bad, `reversing result ${r.id} failed: ${bad?.id} ${bad?.result}`);
    const added = r.reasons.includes(p.reason) ? [] : [p.reason];
    await markReversed(trx, { id: r.id, reasons: [...r.reasons, ...added], by: p.by, note: p.note });
    await recordDecisions(trx, [{ resultId: r.id, from: 'approved', to: 'reversed', reasons: added, note: p.note, actor: { kind: 'operator', id: p.by } }]);
    return resultById(trx, r.id);
  });
}

/** The money of a reversal, computed with the result still `approved` (the fee return counts it out itself). */
async function reversalRequests(trx: Trx, r: Result & { org_id: string }, returnFees: FeeReturn): Promise<TransferRequest[]> {
  // What settlement actually paid: the posted legs, which caps may have cut (or voided).
  const settled = await lookupTransfers(trx, [`${r.id}.settle.net`, `${r.id}.settle.fee`]);
  const posted = (id: string) => {
    const t = settled.find((x) => x.id === id);
    return t && (t.flags & F.post_pending_transfer) !== 0 ? t.amount : 0n;
  };
  const net = posted(`${r.id}.settle.net`);
  const fee = posted(`${r.id}.settle.fee`);
  const escrow = AccountId.escrow(r.campaign_id);
  const payable = AccountId.payable(r.creator_id, r.currency);
  const wallet = AccountId.wallet(r.org_id, r.currency);
  // Locked in id order (as the ledger locks accounts): settlement cannot close the escrow between the look
  // and the transfers, and no other fee return or guarantee of the campaign reads the fees in between.
  const accounts = await lockAccounts(trx, [escrow, AccountId.fees(r.currency), payable, AccountId.receivable(r.creator_id, r.currency), wallet].sort());
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const escrowOpen = byId.get(escrow)?.closed === false;
  const requests: TransferRequest[] = [];
  if (net > 0n) {
    const a = byId.get(payable);
    requests.push(
      ...clawbackRequests({
        id: `${r.id}.reverse`,
        creatorId: r.creator_id,
        currency: r.currency,
        amount: net,
        payableAvailable: a ? a.credits_posted - a.debits_posted - a.debits_pending : 0n,
        creditAccountId: escrowOpen ? escrow : wallet,
        userData: r.id,
      }),
    );
  }
  // After the close a reversal may change the guarantee even when the result carried no fee (the KPI).
  if (fee > 0n || !escrowOpen) {
    requests.push(
      ...(await returnFees(trx, { campaignId: r.campaign_id, orgId: r.org_id, currency: r.currency, fee, id: `${r.id}.reverse`, userData: r.id, resultId: r.id, escrowOpen })),
    );
  }
  return requests;
}
