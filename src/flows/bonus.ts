import type { Kysely, Transaction } from 'kysely';
import { incentivesOf, type Terms } from '../terms/index.js';
import { databaseNow, inTransaction } from '../db/index.js';
import { assert } from '../errors/index.js';
import { bonusCorrection, capResults, computeBonus, type Incentives, payable, type Period, periodOf } from '../incentives/index.js';
import { AccountId, clawbackRequests, createTransfersIn, type FeeReturn, holdLegIds, holdRequests, linkChain, TransferCode, TransferFlags as F, type TransferRequest } from '../ledger/index.js';
import { splitFee } from '../money/index.js';
import { appendMovement, type BonusPeriodRow, type BonusPeriodUpdate, bonusRowsOf, campaignResults, campaignsWithTiers, type CampaignToVisit, enrolmentsOf, type EnrolmentTerms, lockAccounts, lockPeriod, type MovementKind, type PeriodResult, periodResults, termsVersion, updatePeriod } from '../bonuses/index.js';

/**
 * The bonus job (issue #5 §4, docs/incentives.md): for each enrolment of a campaign with incentive
 * tiers and each closed period with results, one step at a time, each in its own transaction with
 * the enrolment-period's row locked:
 *
 *   (first close) hold ──(no result of the period pending or in review)──▶ release ──▶ pay / clawback …
 *
 * - hold: the most the bonus can be (every undecided result passing) reserved on the escrow, as far
 *   as the escrow covers it (the rest is a shortfall);
 * - release: the bonus over approved results, posted from the hold up to what it holds (the rest of
 *   the hold returns to the escrow); more from the escrow if the hold fell short;
 * - afterwards, every run recomputes the bonus from approved results: a reversal lowers it (the
 *   creator's net difference is clawed back), a shortfall is paid once the escrow covers it.
 *
 * Transfer ids are `bonus:<enrolment>:<period>:<step>.<leg>`: a step is done once, and a rerun or a
 * concurrent run (waiting on the row lock) finds it done and computes nothing more to move.
 */
type Db = Kysely<any>;
type Trx = Transaction<any>;

export const BONUS_LIMITS = {
  campaigns_per_run_max: 1000,
  periods_per_run_max: 20_000,
} as const;

export interface BonusRunReport {
  held: number;
  released: number;
  paid: number;
  clawed_back: number;
  failures: Array<{ enrolment_id: string; period_key: string; error: unknown }>;
}

/** `returnFees`: how a lowered bonus's fee goes back to the brand (settlement's, src/settlement/fee-return.ts). */
export async function runBonuses(db: Db, returnFees: FeeReturn): Promise<BonusRunReport> {
  const report: BonusRunReport = { held: 0, released: 0, paid: 0, clawed_back: 0, failures: [] };
  let visited = 0;
  for (const campaign of await campaignsWithTiers(db, BONUS_LIMITS.campaigns_per_run_max)) {
    for (const work of await periodsToVisit(db, campaign)) {
      if (visited++ >= BONUS_LIMITS.periods_per_run_max) return report;
      try {
        const steps = await settlePeriodBonus(db, campaign, work.enrolment, work.period, returnFees);
        for (const s of steps) {
          if (s === 'hold') report.held += 1;
          else if (s === 'release') report.released += 1;
          else if (s === 'pay') report.paid += 1;
          else report.clawed_back += 1;
        }
      } catch (error) {
        // One period that cannot move (reported) must not stop the others.
        report.failures.push({ enrolment_id: work.enrolment.id, period_key: work.period.key, error });
      }
    }
  }
  return report;
}

interface Work {
  enrolment: EnrolmentTerms;
  period: Period;
  /** new: closed, no row yet; held: waiting for its results; correct: released, the bonus due changed. */
  kind: 'new' | 'held' | 'correct';
}

/**
 * The enrolment-periods that may need a step, read without locks (the step re-reads everything under
 * its lock): closed periods with results and no row yet, rows still held, and released rows whose
 * bonus over approved results no longer equals what the creator keeps.
 */
async function periodsToVisit(db: Db, campaign: CampaignToVisit): Promise<Work[]> {
  const now = await databaseNow(db);
  const ended = campaign.status === 'ended' || campaign.status === 'settled';
  const results = await campaignResults(db, campaign.id);
  const rows = new Map((await bonusRowsOf(db, { campaignId: campaign.id })).map((r) => [`${r.enrolment_id} ${r.period_key}`, r]));
  const work: Work[] = [];
  for (const enrolment of await enrolmentsOf(db, campaign.id)) {
    const incentives = incentivesOf(enrolment.terms);
    if (!incentives || incentives.tiers.length === 0) continue;
    const byPeriod = new Map<string, { period: Period; results: PeriodResult[] }>();
    for (const r of results) {
      if (r.enrolment_id !== enrolment.id) continue;
      const period = periodAt(r.recorded_at, incentives, enrolment.terms);
      const entry = byPeriod.get(period.key) ?? { period, results: [] };
      entry.results.push(r);
      byPeriod.set(period.key, entry);
    }
    for (const { period, results: inPeriod } of byPeriod.values()) {
      if (!ended && period.end.getTime() > now.getTime()) continue;
      const row = rows.get(`${enrolment.id} ${period.key}`);
      if (row?.status === 'released') {
        const target = row.target;
        const due = bonusOver(inPeriod, ['approved'], incentives, target).bonus;
        if (due === row.credited) continue;
      }
      const kind = !row ? 'new' : row.status === 'held' ? 'held' : 'correct';
      work.push({ enrolment, period: row ? { key: row.period_key, start: row.period_start, end: row.period_end } : period, kind });
    }
  }
  return work;
}

/** The period of a result's recording time; a time outside the terms' window (terms changed since) is clamped into it. */
function periodAt(at: Date, incentives: Incentives, terms: Terms): Period {
  const window = { starts_at: new Date(terms.starts_at), ends_at: new Date(terms.ends_at) };
  const t = Math.min(Math.max(at.getTime(), window.starts_at.getTime()), window.ends_at.getTime() - 1);
  return periodOf(new Date(t), incentives, window);
}

/**
 * Closed periods of an ended campaign whose bonus is not released yet (no row, or still held):
 * settlement closes the escrow only when there are none, so no bonus is swept back to the brand.
 */
export async function unreleasedBonuses(db: Db, campaign: CampaignToVisit): Promise<number> {
  return (await periodsToVisit(db, campaign)).filter((w) => w.kind !== 'correct').length;
}

interface BonusFigures {
  tier: number | null;
  bonus: bigint;
  counted: number;
  baseEarnings: bigint;
}

/** The bonus over the period's results with these statuses, in recording order, through the caps. */
function bonusOver(results: readonly PeriodResult[], statuses: readonly string[], incentives: Incentives, target: number | null): BonusFigures {
  const grosses = results.filter((r) => statuses.includes(r.status)).map((r) => r.gross);
  const capped = capResults(grosses, incentives.caps);
  const outcome = computeBonus({
    validatedResults: capped.counted,
    baseEarnings: capped.baseEarnings,
    target,
    tiers: incentives.tiers,
    caps: incentives.caps,
  });
  return { tier: outcome.tierReached, bonus: outcome.bonus, counted: capped.counted, baseEarnings: capped.baseEarnings };
}

/** Runs every step the period is ready for, in one transaction; returns the steps taken. */
export async function settlePeriodBonus(
  db: Db,
  campaign: CampaignToVisit,
  enrolment: EnrolmentTerms,
  period: Period,
  returnFees: FeeReturn,
): Promise<MovementKind[]> {
  return inTransaction(db, async (trx) => {
    const incentives0 = incentivesOf(enrolment.terms);
    assert(incentives0 !== null, 'a bonus period needs incentives');
    const row0 = await lockPeriod(trx, {
      enrolment,
      key: period.key,
      start: period.start,
      end: period.end,
      target: enrolment.target ?? incentives0.target,
      currency: enrolment.terms.currency,
    });
    const terms = row0.terms_version === enrolment.terms_version ? enrolment.terms : await termsVersion(trx, row0.campaign_id, row0.terms_version);
    const incentives = incentivesOf(terms) as Incentives;
    const ctx: StepContext = { trx, campaign, feeBps: terms.fee_bps, returnFees };
    const results = await periodResults(trx, row0.enrolment_id, row0.period_start, row0.period_end);
    const steps: MovementKind[] = [];
    let row = row0;
    if (row.steps === 0) {
      row = await holdStep(ctx, row, bonusOver(results, ['approved', 'pending', 'review'], incentives, row.target));
      steps.push('hold');
    }
    const undecided = results.some((r) => r.status === 'pending' || r.status === 'review');
    if (row.status === 'held' && undecided) return steps;
    const due = bonusOver(results, ['approved'], incentives, row.target);
    if (row.status === 'held') {
      row = await releaseStep(ctx, row, due);
      steps.push('release');
    }
    const correction = bonusCorrection(row.credited, due.bonus);
    if (correction > 0n) {
      const paid = await payStep(ctx, row, due);
      if (paid) {
        row = paid;
        steps.push('pay');
      }
    } else if (correction < 0n) {
      row = await clawbackStep(ctx, row, due);
      steps.push('clawback');
    }
    return steps;
  });
}

interface StepContext {
  trx: Trx;
  campaign: CampaignToVisit;
  feeBps: number;
  returnFees: FeeReturn;
}

function transferId(row: BonusPeriodRow, step: number): string {
  return `bonus:${row.enrolment_id}:${row.period_key}:${step}`;
}

async function submit(trx: Trx, requests: TransferRequest[], what: string): Promise<void> {
  if (requests.length === 0) return;
  const outcomes = await createTransfersIn(trx, requests);
  const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
  assert(!bad, `${what} failed: ${bad?.id} ${bad?.result}`);
}

/** Re-reads nothing: applies the update to the locked row in memory and in the table. */
async function apply(trx: Trx, row: BonusPeriodRow, u: BonusPeriodUpdate): Promise<BonusPeriodRow> {
  await updatePeriod(trx, row, u);
  const { released: _released, ...fields } = u;
  return { ...row, ...fields };
}

/** At close: the most the bonus can be, held on the escrow as far as the escrow covers it. */
async function holdStep(ctx: StepContext, row: BonusPeriodRow, most: BonusFigures): Promise<BonusPeriodRow> {
  const escrowId = AccountId.escrow(row.campaign_id);
  const escrow = (await lockAccounts(ctx.trx, [escrowId])).get(escrowId);
  const available = escrow && !escrow.closed && escrow.available > 0n ? escrow.available : 0n;
  const { pay, shortfall } = payable(most.bonus, available);
  const { fee, net } = splitFee(pay, ctx.feeBps);
  const step = 1;
  const requests =
    pay > 0n
      ? holdRequests({
          holdId: transferId(row, step),
          campaignId: row.campaign_id,
          creatorId: row.creator_id,
          currency: row.currency,
          net,
          fee,
          userData: row.enrolment_id,
          codes: { net: TransferCode.bonus_net, fee: TransferCode.bonus_fee },
        })
      : [];
  await submit(ctx.trx, requests, 'holding a bonus');
  await appendMovement(ctx.trx, row, { step, kind: 'hold', gross: pay, net, fee, due: most.bonus, shortfall, transferIds: requests.map((r) => r.id) });
  return apply(ctx.trx, row, {
    steps: step,
    tier: most.tier,
    counted_results: most.counted,
    base_earnings: most.baseEarnings,
    due: most.bonus,
    held: pay,
    held_net: net,
    held_fee: fee,
    shortfall,
  });
}

/**
 * Every result of the period decided: the bonus over approved results is posted from the hold, at
 * most what it holds (a partial post; the rest of the hold returns to the escrow). The fee posted is
 * the fee on what is paid, so the fee always equals the fee on the total.
 */
async function releaseStep(ctx: StepContext, row: BonusPeriodRow, due: BonusFigures): Promise<BonusPeriodRow> {
  const step = row.steps + 1;
  const post = due.bonus < row.held ? due.bonus : row.held;
  const { fee, net } = splitFee(post, ctx.feeBps);
  const id = transferId(row, step);
  const hold = holdLegIds(transferId(row, 1));
  const legs: TransferRequest[] = [];
  if (row.held_net > 0n) legs.push(resolveLeg(`${id}.net`, hold.net, net));
  if (row.held_fee > 0n) legs.push(resolveLeg(`${id}.fee`, hold.fee, fee));
  const requests = linkChain(legs);
  await submit(ctx.trx, requests, 'releasing a bonus');
  const shortfall = due.bonus - post;
  await appendMovement(ctx.trx, row, { step, kind: 'release', gross: post, net, fee, due: due.bonus, shortfall, transferIds: requests.map((r) => r.id) });
  return apply(ctx.trx, row, {
    steps: step,
    status: 'released',
    released: true,
    tier: due.tier,
    counted_results: due.counted,
    base_earnings: due.baseEarnings,
    due: due.bonus,
    held: 0n,
    held_net: 0n,
    held_fee: 0n,
    credited: post,
    paid_net: row.paid_net + net,
    fees_paid: row.fees_paid + fee,
    shortfall,
  });
}

/** Posts `amount` of a pending leg (the rest returns to the escrow), or voids it when nothing of it is paid. */
function resolveLeg(id: string, pendingId: string, amount: bigint): TransferRequest {
  return amount > 0n ? { id, pending_id: pendingId, flags: F.post_pending_transfer, amount } : { id, pending_id: pendingId, flags: F.void_pending_transfer };
}

/**
 * The bonus due exceeds what the creator keeps (a hold that fell short, now covered after a top-up):
 * pay the difference as far as the open escrow covers it. Net: net(total) − net(kept); fee: what the
 * fee on the total still lacks (after a clawback the fee paid may already cover it).
 */
async function payStep(ctx: StepContext, row: BonusPeriodRow, due: BonusFigures): Promise<BonusPeriodRow | null> {
  const escrowId = AccountId.escrow(row.campaign_id);
  const escrow = (await lockAccounts(ctx.trx, [escrowId])).get(escrowId);
  const available = escrow && !escrow.closed && escrow.available > 0n ? escrow.available : 0n;
  const { pay } = payable(due.bonus - row.credited, available);
  const figures = { tier: due.tier, counted_results: due.counted, base_earnings: due.baseEarnings, due: due.bonus };
  if (pay === 0n) {
    if (row.due === due.bonus && row.shortfall === due.bonus - row.credited) return null;
    return apply(ctx.trx, row, { ...figures, shortfall: due.bonus - row.credited });
  }
  const total = row.credited + pay;
  const net = splitFee(total, ctx.feeBps).net - splitFee(row.credited, ctx.feeBps).net;
  const feeOwed = splitFee(total, ctx.feeBps).fee - row.fees_paid;
  const fee = feeOwed > 0n ? feeOwed : 0n;
  const step = row.steps + 1;
  const id = transferId(row, step);
  const common = { debit_account_id: escrowId, currency: row.currency, user_data: row.enrolment_id };
  const legs: TransferRequest[] = [];
  if (net > 0n) legs.push({ ...common, id: `${id}.net`, credit_account_id: AccountId.payable(row.creator_id, row.currency), amount: net, code: TransferCode.bonus_net });
  if (fee > 0n) legs.push({ ...common, id: `${id}.fee`, credit_account_id: AccountId.fees(row.currency), amount: fee, code: TransferCode.bonus_fee });
  const requests = linkChain(legs);
  await submit(ctx.trx, requests, 'paying a bonus');
  const shortfall = due.bonus - total;
  await appendMovement(ctx.trx, row, { step, kind: 'pay', gross: pay, net, fee, due: due.bonus, shortfall, transferIds: requests.map((r) => r.id) });
  return apply(ctx.trx, row, {
    ...figures,
    steps: step,
    credited: total,
    paid_net: row.paid_net + net,
    fees_paid: row.fees_paid + fee,
    shortfall,
  });
}

/**
 * The bonus due fell below what the creator keeps (a result reversed after release lowered the tier
 * or the base): the creator's net difference is clawed back as a reversal is — from the payable as far
 * as it goes, the rest on the receivable — and the fee the platform kept above the fee on the new bonus
 * is returned (`returnFees`: 402, and nothing more once the guarantee had refunded it), all to the
 * escrow, or to the brand's wallet once the escrow is closed, one linked chain. `fees_paid` then holds
 * the fee on what stands, so a later payment charges the fee again; the movement's `fee` is the fee
 * taken back.
 */
async function clawbackStep(ctx: StepContext, row: BonusPeriodRow, due: BonusFigures): Promise<BonusPeriodRow> {
  const amount = splitFee(row.credited, ctx.feeBps).net - splitFee(due.bonus, ctx.feeBps).net;
  const feeOver = row.fees_paid - splitFee(due.bonus, ctx.feeBps).fee;
  const feeBack = feeOver > 0n ? feeOver : 0n;
  const figures = { tier: due.tier, counted_results: due.counted, base_earnings: due.baseEarnings, due: due.bonus, credited: due.bonus, shortfall: 0n };
  if (amount <= 0n && feeBack === 0n) return apply(ctx.trx, row, figures);
  const escrowId = AccountId.escrow(row.campaign_id);
  const payableId = AccountId.payable(row.creator_id, row.currency);
  const walletId = AccountId.wallet(ctx.campaign.org_id, row.currency);
  // Locked in id order: the escrow cannot close in between, and no other fee return or guarantee of the campaign runs meanwhile.
  const accounts = await lockAccounts(ctx.trx, [escrowId, AccountId.fees(row.currency), payableId, AccountId.receivable(row.creator_id, row.currency), walletId].sort());
  const escrowOpen = accounts.get(escrowId)?.closed === false;
  const step = row.steps + 1;
  const id = transferId(row, step);
  const requests: TransferRequest[] = [];
  if (amount > 0n) {
    requests.push(
      ...clawbackRequests({
        id,
        creatorId: row.creator_id,
        currency: row.currency,
        amount,
        payableAvailable: accounts.get(payableId)?.available ?? 0n,
        creditAccountId: escrowOpen ? escrowId : walletId,
        userData: row.enrolment_id,
      }),
    );
  }
  if (feeBack > 0n) {
    const e = { campaignId: row.campaign_id, orgId: ctx.campaign.org_id, currency: row.currency, fee: feeBack, id, userData: row.enrolment_id, escrowOpen };
    requests.push(...(await ctx.returnFees(ctx.trx, e)));
  }
  const chain = linkChain(requests);
  await submit(ctx.trx, chain, 'clawing back a bonus');
  await appendMovement(ctx.trx, row, {
    step,
    kind: 'clawback',
    gross: row.credited - due.bonus,
    net: amount > 0n ? amount : 0n,
    fee: feeBack,
    due: due.bonus,
    shortfall: 0n,
    transferIds: chain.map((r) => r.id),
  });
  return apply(ctx.trx, row, { ...figures, steps: step, clawed_back: row.clawed_back + (amount > 0n ? amount : 0n), fees_paid: row.fees_paid - feeBack });
}
