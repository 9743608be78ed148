import type { Kysely } from 'kysely';
import { type Campaign, getCampaign, transition } from '../campaigns/index.js';
import { type BonusRunReport, runBonuses, unreleasedBonuses } from './index.js';
import { AppError, assert, isAppError } from '../errors/index.js';
import { settleEscrow } from '../ledger/index.js';
import { awaitingFundsOf, openHoldCount } from '../results/index.js';
import { approveDue } from './release.js';
import { type AwaitingFundsReport, runAwaitingFunds } from './funds.js';
import { refundGuarantee, returnFees } from './reversal.js';
import { approvedCount, campaignsPastEnd, campaignsReadyToSettle } from '../settlement/index.js';

/**
 * Settlement: approve results whose hold period has passed, end campaigns past their end date, and
 * settle ended campaigns whose holds are all resolved. Every step is idempotent (row locks with SKIP
 * LOCKED for results, ledger ids for money, guarded status transitions for campaigns), so any number
 * of settlers may run at once, and a settler killed at any point is finished by the next run.
 */
type Db = Kysely<any>;

/** Limits: a run always ends, and one transaction never locks more than a batch. */
export const SETTLEMENT_LIMITS = {
  batch_size_default: 2000,
  batch_size_max: 2000,
  batches_per_run_max: 10_000,
  campaigns_per_run_max: 1000,
} as const;

export interface SettlementOptions {
  /** Results approved per transaction. */
  batchSize?: number;
  /** Called after each batch of approvals (progress for the CLI). */
  onBatch?: (approved: number, total: number) => void;
}

export interface CampaignSettlement {
  campaign_id: string;
  currency: string;
  /** True if this call made the campaign settled (false: it already was, or another settler did). */
  settled_now: boolean;
  unspent_refunded: bigint;
  fees_refunded: bigint;
  validated: number;
  kpi_target: number;
}

export interface SettlementFailure {
  campaign_id: string;
  error: unknown;
}

export interface SettlementReport {
  approved: number;
  /** Due results the release re-check sent to review instead (their holds stay; a person decides). */
  reviewed: number;
  batches: number;
  campaigns_ended: string[];
  /** Results waiting for funds: held this run, and made final over_budget because their grace ended. */
  awaiting_funds: AwaitingFundsReport;
  /** The bonus job's steps this run (src/bonuses), run before campaigns settle. */
  bonuses: BonusRunReport;
  campaigns_settled: CampaignSettlement[];
  failures: SettlementFailure[];
}

export async function runSettlement(db: Db, options: SettlementOptions = {}): Promise<SettlementReport> {
  const { approved, reviewed, batches } = await approveAllDue(db, options);
  const ended = await endCampaignsPastEnd(db);
  // Before campaigns settle: an ended campaign waits until no result waits for funds (held, or expired).
  const awaiting = await runAwaitingFunds(db, SETTLEMENT_LIMITS.campaigns_per_run_max);
  // Bonuses of closed periods are held and released before any escrow closes (campaignsReadyToSettle waits for them).
  const bonuses = await runBonuses(db, returnFees);
  const settled: CampaignSettlement[] = [];
  const failures: SettlementFailure[] = [];
  for (const campaignId of await campaignsReadyToSettle(db, SETTLEMENT_LIMITS.campaigns_per_run_max)) {
    try {
      const s = await settleCampaign(db, campaignId);
      if (s.settled_now) settled.push(s);
    } catch (error) {
      // One campaign that cannot settle (reported) must not keep the others from settling.
      failures.push({ campaign_id: campaignId, error });
    }
  }
  return { approved, reviewed, batches, campaigns_ended: ended, awaiting_funds: awaiting, bonuses, campaigns_settled: settled, failures };
}

/**
 * Approves due results batch after batch (each batch re-checked first: see `approveDue`) until a batch
 * comes back short: nothing else is due and free.
 */
export async function approveAllDue(db: Db, options: SettlementOptions = {}): Promise<{ approved: number; reviewed: number; batches: number }> {
  const batchSize = options.batchSize ?? SETTLEMENT_LIMITS.batch_size_default;
  assert(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= SETTLEMENT_LIMITS.batch_size_max, `batch size ${batchSize} out of range`);
  let approved = 0;
  let reviewed = 0;
  let batches = 0;
  while (batches < SETTLEMENT_LIMITS.batches_per_run_max) {
    const n = await approveDue(db, batchSize);
    const taken = n.approved + n.reviewed;
    if (taken === 0) break;
    approved += n.approved;
    reviewed += n.reviewed;
    batches += 1;
    options.onBatch?.(n.approved, approved);
    // Rows locked by another settler were skipped: they are that settler's to approve.
    if (taken < batchSize) break;
  }
  return { approved, reviewed, batches };
}

/** Campaigns whose end date passed become `ended` (results are refused from then on). Returns those this call ended. */
export async function endCampaignsPastEnd(db: Db): Promise<string[]> {
  const ended: string[] = [];
  for (const id of await campaignsPastEnd(db, SETTLEMENT_LIMITS.campaigns_per_run_max)) {
    if (await moveIfStill(db, id, 'ended')) ended.push(id);
  }
  return ended;
}

/** A transition another settler (or the brand) already made is not an error: report whether we made it. */
async function moveIfStill(db: Db, id: string, to: 'ended' | 'settled'): Promise<boolean> {
  try {
    await transition(db, id, to);
    return true;
  } catch (e) {
    if (isAppError(e) && e.code === 'invalid_state') return false;
    throw e;
  }
}

/**
 * Settles one ended campaign whose holds are all resolved (none pending, none in review, none awaiting funds), in idempotent steps: (1) the unspent
 * escrow returns to the brand's wallet and the escrow closes (`settle:<id>`); (2) if validated
 * results fell short of the KPI target, the guarantee refunds fees earned on the standing results
 * (`guarantee:<id>`, src/settlement/fee-return.ts: fees of reversed results are not in it); (3) the
 * campaign becomes `settled`. A crash between steps is finished by the next call: steps already
 * done answer `exists` in the ledger.
 */
export async function settleCampaign(db: Db, campaignId: string): Promise<CampaignSettlement> {
  const c = await getCampaign(db, { kind: 'operator' }, campaignId);
  if (c.status !== 'ended' && c.status !== 'settled') {
    throw new AppError('invalid_state', `campaign ${c.id} is ${c.status}; only ended campaigns are settled`);
  }
  const open = await openHoldCount(db, c.id);
  if (open > 0) {
    throw new AppError('invalid_state', `campaign ${c.id} still has ${open} results pending or in review; settle once their holds are resolved`);
  }
  const waiting = c.status === 'ended' ? (await awaitingFundsOf(db, c.id)).count : 0;
  if (waiting > 0) {
    // The grace promise: a result recorded before the end may still be held if the brand tops up.
    throw new AppError('invalid_state', `campaign ${c.id} has ${waiting} results awaiting funds; it settles once they are held or their grace period ends`);
  }
  const bonuses = c.status === 'ended' ? await unreleasedBonuses(db, { id: c.id, org_id: c.org_id, status: c.status }) : 0;
  if (bonuses > 0) {
    throw new AppError('invalid_state', `campaign ${c.id} has ${bonuses} incentive periods whose bonus is not released yet; the bonus job releases them first`);
  }
  const escrow = await settleEscrow(db, { id: `settle:${c.id}`, orgId: c.org_id, campaignId: c.id, currency: c.currency });
  if (!escrow.ok) throw new AppError('conflict', `closing the escrow of campaign ${c.id} was refused: ${escrow.result}`);
  const validated = await approvedCount(db, c.id);
  const refund = await refundGuarantee(db, c);
  const settledNow = c.status === 'ended' && (await moveIfStill(db, c.id, 'settled'));
  return {
    campaign_id: c.id,
    currency: c.currency,
    settled_now: settledNow,
    unspent_refunded: escrow.refunded.amount,
    fees_refunded: refund,
    validated,
    kpi_target: c.terms.kpi_target,
  };
}
