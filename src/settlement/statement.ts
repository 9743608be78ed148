import type { Kysely } from 'kysely';
import { type Campaign, escrowLow, getCampaign, type Viewer } from '../campaigns/index.js';
import { bonusFeeReturns, bonusFlows, bonusRowsOf } from '../bonuses/index.js';
import { AppError } from '../errors/index.js';
import { AccountId, lookupAccounts } from '../ledger/index.js';
import { type AwaitingFunds, awaitingFundsOf } from '../results/index.js';
import { guaranteeRefund } from './guarantee.js';
import { clawbacksToBrand, type CreatorTally, creatorTallies, escrowFlows, feeStanding, hasJoined, type ResultTally, resultTallies } from './repository.js';

/**
 * A campaign's statement: where every unit of the budget went, read from the ledger's journal and
 * accounts (never from stored running totals), in one repeatable-read snapshot. The figures satisfy
 *
 *   funded = paid_to_creators + bonuses.paid + (platform_fees_gross − fees_returned) + unspent_refunded + escrow_held + escrow_available
 *
 * where the left side and the first three terms are sums of journal transfers by code and the escrow
 * balance comes from the account's counters; `reconciles` says whether the identity holds (it always
 * should: a false means the ledger holds a movement the statement does not know).
 *
 * Clawbacks (a paid result reversed) return the creator's net to the escrow while it is open, which
 * `paid_to_creators` deducts; once the campaign is settled and its escrow closed they go to the
 * brand's wallet: deducted from `paid_to_creators` too, and counted in `unspent_refunded` (money back
 * to the brand), so the identity holds either way. `clawbacks_refunded` is that part on its own.
 *
 * Tier bonuses (src/bonuses) are apart: `bonuses.paid` is their net paid to creators less bonus
 * clawbacks, their fee is in `platform_fees_gross` (and `bonuses.fees`), a bonus still held is in
 * `escrow.held` (and `bonuses.held`), and a bonus clawback to the brand's wallet is in
 * `unspent_refunded` like a result's. `bonuses.shortfall` is what escrow could not cover: owed, not moved.
 *
 * Fees of reversed results and lowered bonuses go back to the brand (src/settlement/fee-return.ts):
 * `fees_returned` (402), into the escrow while it is open, into the wallet after (counted in
 * `unspent_refunded` too, `fees_returned_to_brand` on its own). `fees_refunded` is the guarantee (401,
 * with its adjustments after close). `reconciles` also checks the fee rule: before the guarantee is
 * decided every fee taken back was returned and nothing refunded; once decided, returned + refunded =
 * the fees taken back + the guarantee on the standing fees (`guarantee.refund_due`).
 */
export interface BonusStatement {
  /** Still reserved on the escrow (part of escrow.held). */
  held: bigint;
  /** Net paid to creators, less bonus clawbacks. */
  paid: bigint;
  /** Platform fee on bonuses (part of platform_fees_gross). */
  fees: bigint;
  /** Net taken back from creators after a result reversal lowered a bonus (to the escrow or the brand). */
  clawed_back: bigint;
  /** Bonus due that the escrow could not cover: not paid. */
  shortfall: bigint;
  /** Enrolment-periods with a bonus row, and how many are still held. */
  periods: number;
  periods_held: number;
}

export interface CampaignStatement {
  campaign: Pick<Campaign, 'id' | 'org_id' | 'name' | 'status' | 'paused_reason' | 'currency' | 'ended_at' | 'settled_at'>;
  funded: bigint;
  /** Net of clawbacks. */
  paid_to_creators: bigint;
  clawed_back: bigint;
  /** Fees the platform earned on this campaign, before any was returned or refunded. */
  platform_fees_gross: bigint;
  /** Fees of reversed results and lowered bonuses returned to the brand (402), into the escrow or, once closed, the wallet. */
  fees_returned: bigint;
  /** Returned to the brand under the money-back guarantee (401: at settlement, and adjustments of reversals after it). */
  fees_refunded: bigint;
  /** platform_fees_gross − fees_returned − fees_refunded: what the platform keeps. */
  platform_fees_kept: bigint;
  /** Unspent escrow returned to the brand at settlement, and clawbacks and fee returns to it after (clawbacks_refunded, fees_returned_to_brand). */
  unspent_refunded: bigint;
  /** Clawbacks that went to the brand's wallet because the escrow was closed (part of unspent_refunded). */
  clawbacks_refunded: bigint;
  /** Fee returns that went to the brand's wallet because the escrow was closed (part of unspent_refunded and of fees_returned). */
  fees_returned_to_brand: bigint;
  /** low: a threshold is set and `available` is at or below it. */
  escrow: { held: bigint; available: bigint; closed: boolean; low: boolean; low_threshold: bigint | null };
  /** null: the whole campaign's lines (brand, operators); a creator's id: that creator's lines only (results, creators, awaiting_funds). */
  creator_id: string | null;
  /** Results waiting for funds: no hold, so outside the identity; what holding them all would reserve. */
  awaiting_funds: AwaitingFunds;
  bonuses: BonusStatement;
  results: ResultTally[];
  /** Each creator's results, credited conversions (shares of split ones) and payout earned and held. */
  creators: CreatorTally[];
  guarantee: {
    kpi_target: number;
    validated: number;
    kpi_met: boolean;
    guarantee_bps: number;
    /** The campaign is settled, so the guarantee has been decided. */
    decided: boolean;
    /** Decided, and the KPI target was missed. */
    applied: boolean;
    /** Fees on the results that stand: platform_fees_gross less the fees of what was taken back (reversals, lowered bonuses). */
    fees_standing: bigint;
    /** The guarantee on the standing results and fees, once decided (0 before). */
    refund_due: bigint;
  };
  reconciles: boolean;
}

export const STATEMENT_IDENTITY =
  'funded = paid_to_creators + bonuses.paid + (platform_fees_gross − fees_returned) + unspent_refunded + escrow_balance, where escrow_balance = escrow.held + escrow.available';

/**
 * Brands see their own campaigns' statements and operators all. A creator sees the statement of a
 * campaign they joined, with their own lines only: `creators` holds their line, `results` and
 * `awaiting_funds` count their results; the campaign's figures (funded, paid, fees, escrow, bonuses)
 * are the whole campaign's, as the campaign itself shows its escrow to its creators. A campaign the
 * creator did not join is not_found, as for a stranger.
 */
export async function campaignStatement(db: Kysely<any>, viewer: Viewer, campaignId: string): Promise<CampaignStatement> {
  const own = viewer.kind === 'creator' ? viewer.id : undefined;
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      if (own !== undefined && !(await hasJoined(trx, campaignId, own))) throw new AppError('not_found', `no campaign ${campaignId}`);
      const c = await getCampaign(trx, viewer, campaignId);
      const flows = await escrowFlows(trx, c.id);
      const [escrow] = await lookupAccounts(trx, [AccountId.escrow(c.id)]);
      const fees = await feeStanding(trx, c.id, await bonusFeeReturns(trx, c.id, AccountId.escrow(c.id)));
      const validated = fees.validated;
      const held = escrow?.debits_pending ?? 0n;
      const available = escrow ? escrow.credits_posted - escrow.debits_posted - escrow.debits_pending : 0n;
      const toBrand = await clawbacksToBrand(trx, c.id);
      const paid = flows.paidToCreators - flows.clawedBack - toBrand;
      const bonus = await bonusFlows(trx, c.id, AccountId.escrow(c.id));
      const bonusRows = await bonusRowsOf(trx, { campaignId: c.id });
      const bonusesPaid = flows.bonusesToCreators - flows.bonusesClawedBack - bonus.clawedBackToBrand;
      const refunded = flows.unspentRefunded + toBrand + bonus.clawedBackToBrand + fees.returnedToWallet;
      // The journal by code and the journal by the bonus log must agree.
      const bonusesAgree =
        bonus.paidNet === flows.bonusesToCreators &&
        bonus.fees === flows.bonusFees &&
        bonus.clawedBackToEscrow === flows.bonusesClawedBack &&
        bonus.feesReturnedToEscrow === flows.bonusFeesReturned;
      const feesRefunded = fees.refunded;
      const kpiMet = validated >= c.terms.kpi_target;
      const decided = c.status === 'settled';
      // The guarantee is judged once the escrow is closed (settlement's first step), even before the status says settled.
      const closed = escrow?.closed === true;
      const standing = fees.gross - fees.takenBack;
      const refundDue = closed
        ? guaranteeRefund({ feesEarned: standing, validated, kpiTarget: c.terms.kpi_target, guaranteeBps: c.terms.guarantee_bps })
        : 0n;
      // The fee rule (src/settlement/fee-return.ts): nothing taken back is kept, nothing is refunded twice.
      const feesAgree = closed
        ? fees.returned + fees.refunded === fees.takenBack + refundDue
        : fees.returned === fees.takenBack && fees.refunded === 0n && fees.returnedToWallet === 0n;
      // The journal by code on the escrow and the journal by the reversals' ids must agree on the fee returns into it.
      const returnsAgree = fees.returned - fees.returnedToWallet === flows.feesReturned;
      const noStrangers = flows.otherIn === 0n && flows.otherOut === 0n;
      return {
        campaign: {
          id: c.id,
          org_id: c.org_id,
          name: c.name,
          status: c.status,
          paused_reason: c.paused_reason,
          currency: c.currency,
          ended_at: c.ended_at,
          settled_at: c.settled_at,
        },
        funded: flows.funded,
        paid_to_creators: paid,
        clawed_back: flows.clawedBack + toBrand,
        platform_fees_gross: flows.platformFees,
        fees_returned: fees.returned,
        fees_refunded: feesRefunded,
        platform_fees_kept: flows.platformFees - fees.returned - feesRefunded,
        unspent_refunded: refunded,
        clawbacks_refunded: toBrand,
        fees_returned_to_brand: fees.returnedToWallet,
        escrow: { held, available, closed: escrow?.closed ?? false, low: escrowLow(available, c.low_escrow_threshold), low_threshold: c.low_escrow_threshold },
        creator_id: own ?? null,
        awaiting_funds: await awaitingFundsOf(trx, c.id, own),
        bonuses: {
          held: bonus.held,
          paid: bonusesPaid,
          fees: bonus.fees,
          clawed_back: bonus.clawedBackToEscrow + bonus.clawedBackToBrand,
          shortfall: bonusRows.reduce((sum, r) => sum + r.shortfall, 0n),
          periods: bonusRows.length,
          periods_held: bonusRows.filter((r) => r.status === 'held').length,
        },
        results: await resultTallies(trx, c.id, own),
        creators: (await creatorTallies(trx, c.id)).filter((t) => own === undefined || t.creator_id === own),
        guarantee: {
          kpi_target: c.terms.kpi_target,
          validated,
          kpi_met: kpiMet,
          guarantee_bps: c.terms.guarantee_bps,
          decided,
          applied: decided && !kpiMet,
          fees_standing: standing,
          refund_due: refundDue,
        },
        reconciles:
          noStrangers &&
          bonusesAgree &&
          feesAgree &&
          returnsAgree &&
          flows.funded === paid + bonusesPaid + (flows.platformFees - fees.returned) + refunded + held + available,
      };
    });
}
