import type { Kysely } from 'kysely';
import {
  activateCampaign,
  BUDGET_PAUSE,
  type Campaign,
  escrowOf,
  fundCampaign,
  getCampaign,
} from '../campaigns/index.js';
import { databaseNow } from '../db/index.js';
import { AppError, isAppError } from '../errors/index.js';
import { Money } from '../money/index.js';
import { awaitingFundsOf, campaignsWithAwaitingFunds, expireAwaitingFunds, holdAwaitingFunds, nextAwaiting } from '../results/index.js';

/**
 * Topping up and resuming a campaign whose escrow ran out (docs/settlement.md, "When the escrow runs
 * out"): the flow across campaigns (funding, the lifecycle) and results (the hold pass over results
 * waiting for funds, their expiry).
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
