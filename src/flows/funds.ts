import type { Kysely } from 'kysely';
import {
  activateCampaign,
  BUDGET_PAUSE,
  type Campaign,
  escrowOf,
  fundCampaign,
  getCampaign,
  pauseForBudget,
} from '../campaigns/index.js';
import { databaseNow, inTransaction } from '../db/index.js';
import { AppError, assert, isAppError } from '../errors/index.js';
import { AccountId, createTransfersIn, lockAccounts } from '../ledger/index.js';
import { Money } from '../money/index.js';
import {
  awaitingFundsOf,
  BUDGET,
  campaignStates,
  campaignsWithAwaitingFunds,
  expireAwaitingFunds,
  FUNDS_LIMITS,
  heldAs,
  holdRequestsOf,
  lockAwaiting,
  markHeld,
  type NewDecision,
  nextAwaiting,
  planHolds,
  recordDecisions,
} from '../results/index.js';

/**
 * Topping up and resuming a campaign whose escrow ran out (docs/settlement.md, "When the escrow runs
 * out"): the flow across campaigns (funding, the lifecycle), results and the ledger (the hold pass over
 * results waiting for funds: the escrow locked, their holds placed; their expiry is results').
 */
type Db = Kysely<any>;

const org = (orgId: string) => ({ kind: 'organization' as const, id: orgId });

/**
 * The brand resumes its campaign (`POST /v1/campaigns/{id}/activate`): the escrow must cover the next
 * result due — the first waiting for funds, else one payout — then the campaign runs and its waiting
 * results are held in arrival order, as far as the escrow covers them (the first that does not fit
 * pauses it again for budget).
 */
export async function resumeCampaign(db: Db, orgId: string, campaignId: string): Promise<Campaign> {
  const campaign = await getCampaign(db, org(orgId), campaignId);
  await requireNextCovered(db, campaign);
  await activateCampaign(db, orgId, campaign.id);
  await holdAwaitingFunds(db, campaign.id);
  return getCampaign(db, org(orgId), campaign.id);
}

async function requireNextCovered(db: Db, campaign: Campaign): Promise<void> {
  const next = await nextAwaiting(db, campaign.id);
  if (!next) return;
  const escrow = await escrowOf(db, campaign.id);
  if (escrow.available >= next.gross) return;
  const waiting = await awaitingFundsOf(db, campaign.id);
  const m = (minor: bigint) => Money.of(minor, campaign.currency).toString();
  throw new AppError(
    'insufficient_funds',
    `${waiting.count} results await funds; the first needs ${m(next.gross)} and the escrow has ${m(escrow.available)} available: fund the campaign first`,
  );
}

/**
 * The brand funds its campaign (`POST /v1/campaigns/{id}/fund`). Funding a campaign paused for
 * budget resumes it when the escrow now covers the next result due (the pause was Earnest's, not the
 * brand's; a brand's own pause stays); funding an ended campaign is allowed while results recorded
 * before its end wait for funds, and holds them. Either way the waiting results are held in order.
 */
export async function fundAndResume(
  db: Db,
  p: { orgId: string; campaignId: string; amount?: string | undefined; reference: string },
): Promise<{ campaign: Campaign; funded: Money; replayed: boolean }> {
  const waiting = await awaitingFundsOf(db, p.campaignId);
  const funded = await fundCampaign(db, { ...p, endedTakesMoney: waiting.count > 0 });
  const c = funded.campaign;
  if (c.status === 'paused' && c.paused_reason === BUDGET_PAUSE) await resumeIfCovered(db, p.orgId, c);
  else if (c.status === 'active' || c.status === 'ended') await holdAwaitingFunds(db, c.id);
  return { campaign: await getCampaign(db, org(p.orgId), c.id), funded: funded.funded, replayed: funded.replayed };
}

/** A resume that funding attempts: not covered yet, past its end, or resumed by a concurrent call — it stays as it is. */
async function resumeIfCovered(db: Db, orgId: string, c: Campaign): Promise<void> {
  if ((await databaseNow(db)) >= new Date(c.terms.ends_at)) return;
  try {
    await resumeCampaign(db, orgId, c.id);
  } catch (e) {
    if (!(isAppError(e) && (e.code === 'insufficient_funds' || e.code === 'invalid_state'))) throw e;
  }
}

export interface AwaitingFundsReport {
  /** Waiting results held this run (campaigns running or ended whose escrow covers them). */
  held: number;
  /** Waiting results whose grace period ended: now final over_budget. */
  expired: number;
}

/**
 * The settlement run's part: waiting results past their grace become over_budget first (the grace
 * ends on time, whatever the escrow holds), then the hold pass runs over running and ended campaigns
 * with results still waiting — a resume whose pass was cut short, results that queued behind it, an
 * ended campaign whose escrow a rejection freed.
 */
export async function runAwaitingFunds(db: Db, limit: number): Promise<AwaitingFundsReport> {
  const expired = await expireAwaitingFunds(db);
  let held = 0;
  for (const id of await campaignsWithAwaitingFunds(db, limit)) held += (await holdAwaitingFunds(db, id)).held;
  return { held, expired };
}

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
