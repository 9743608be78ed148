import type { Kysely, Transaction } from 'kysely';
import { type Campaign, getCampaign } from '../campaigns/index.js';
import { bonusFeeReturns } from '../bonuses/index.js';
import { inTransaction } from '../db/index.js';
import { assert } from '../errors/index.js';
import { AccountId, createTransfersIn, type FeeReturnEvent, lockAccounts, lookupTransfers, TransferCode, type TransferRequest } from '../ledger/index.js';
import { type Result, reverseResult } from '../results/index.js';
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
 * The reversal of a paid result (`POST /v1/results/{id}/reverse`): `reverseResult` of src/results with
 * settlement's fee return, so the fee and the guarantee follow the results that stand.
 */
export function reversePaidResult(db: Kysely<any>, p: { resultId: string; by: string; reason: string; note: string }): Promise<Result> {
  return reverseResult(db, { ...p, returnFees });
}
