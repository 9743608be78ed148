import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { databaseNow, inTransaction, keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { AccountId, fundEscrow as ledgerFundEscrow, LEDGER_LIMITS, lookupAccounts, lookupTransfers, openBrandWallet, openEscrow } from '../ledger/index.js';
import { formatAmount, Money, parseAmount } from '../money/index.js';
import {
  campaignForTermsChange,
  campaignsPage,
  campaignStatus,
  campaignVisibleTo,
  insertCampaign,
  insertTermsVersion,
  moveCampaign,
  pauseByBrandIfBudgetPaused,
  setTermsVersion,
  updateSettings,
} from './repository.js';
import { normaliseTerms, onePayout, type Terms, termsHash, type TermsInput } from '../terms/index.js';

export const CAMPAIGN_STATUSES = ['draft', 'funded', 'active', 'paused', 'ended', 'settled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Who may see what: organizations their own campaigns, creators open or joined ones, operators all. */
export type Viewer = { kind: 'operator' } | { kind: 'organization'; id: string } | { kind: 'creator'; id: string };

export interface Campaign {
  id: string;
  org_id: string;
  name: string;
  status: CampaignStatus;
  currency: string;
  terms_version: number;
  terms: Terms;
  terms_sha256: string;
  /** `over_budget` when the campaign paused itself because its escrow ran out; else the brand's reason. */
  paused_reason: string | null;
  /** The brand's low-escrow threshold, minor units (null: none): `escrowLow` compares the available escrow with it. */
  low_escrow_threshold: bigint | null;
  created_at: Date;
  ended_at: Date | null;
  settled_at: Date | null;
}

export interface Escrow {
  funded: bigint;
  spent: bigint;
  held: bigint;
  available: bigint;
}

type Db = Kysely<any>;

/** The reason a campaign gives when it paused itself because its escrow could not cover a result. */
export const BUDGET_PAUSE = 'over_budget';

export async function createCampaign(
  db: Db,
  p: { orgId: string; name: string; terms: TermsInput; lowEscrowThreshold?: string | null | undefined },
): Promise<Campaign> {
  const terms = normaliseTerms(p.terms);
  const threshold = p.lowEscrowThreshold == null ? null : parseThreshold(p.lowEscrowThreshold, terms.currency);
  const id = newId('cmp');
  await openBrandWallet(db, p.orgId, terms.currency);
  await openEscrow(db, id, terms.currency);
  await inTransaction(db, async (trx) => {
    await insertCampaign(trx, { id, orgId: p.orgId, name: p.name, currency: terms.currency, threshold });
    await insertTerms(trx, id, 1, terms);
  });
  return getCampaign(db, { kind: 'operator' }, id);
}

/** The hash covers exactly what is stored, so terms_canonical recomputed from the stored terms always matches it. */
async function insertTerms(db: Db, campaignId: string, version: number, terms: Terms): Promise<void> {
  const stored = JSON.stringify(terms);
  const sha256 = termsHash(JSON.parse(stored) as Terms);
  assert(sha256 === termsHash(terms), `terms of campaign ${campaignId} v${version} change when stored`);
  await insertTermsVersion(db, { campaignId, version, stored, sha256 });
}

/** Another tenant's campaign answers not_found, exactly like one that does not exist. */
export async function getCampaign(db: Db, viewer: Viewer, id: string): Promise<Campaign> {
  const row = await campaignVisibleTo(db, viewer, id);
  if (!row) throw new AppError('not_found', `no campaign ${id}`);
  return row;
}

/**
 * Newest first by created_at, then id: a brand's through campaigns_org (org_id, created_at, id), an
 * operator's through campaigns_created; a creator's (running ones and those joined) filter the latter.
 */
export async function listCampaigns(
  db: Db,
  viewer: Viewer,
  filter: { status?: CampaignStatus | undefined },
  page: PageRequest,
): Promise<Page<Campaign>> {
  const k = keyset(page, { time: 'c.created_at', keys: ['c.id'] });
  const rows = await campaignsPage<Campaign & PageTime>(db, viewer, filter.status, k);
  return k.page(rows, (c) => [c.id]);
}

/** A change of terms is always a new version: creators stay bound to the version they accepted. */
export async function changeTerms(db: Db, orgId: string, id: string, input: TermsInput): Promise<Campaign> {
  const terms = normaliseTerms(input);
  await inTransaction(db, async (trx) => {
    const c = await campaignForTermsChange(trx, orgId, id);
    if (!c) throw new AppError('not_found', `no campaign ${id}`);
    if (c.status === 'ended' || c.status === 'settled') throw new AppError('invalid_state', `campaign ${id} is ${c.status}: its terms can no longer change`);
    if (c.currency !== terms.currency) throw new AppError('invalid_request', `the campaign's currency is ${c.currency}; it cannot change`, { details: { field: 'currency' } });
    await insertTerms(trx, id, c.terms_version + 1, terms);
    await setTermsVersion(trx, id, c.terms_version + 1);
  });
  return getCampaign(db, { kind: 'organization', id: orgId }, id);
}

function parseThreshold(amount: string, currency: string): bigint {
  try {
    return parseAmount(amount, currency);
  } catch (e) {
    if (e instanceof AppError) throw new AppError(e.code, e.message, { details: { field: 'low_escrow_threshold' }, cause: e });
    throw e;
  }
}

/**
 * The brand's settings on a campaign that are not terms (creators do not accept them): its name and
 * its low-escrow threshold (null clears it). Absent fields stay as they are.
 */
export async function updateCampaign(
  db: Db,
  p: { orgId: string; campaignId: string; name?: string | undefined; lowEscrowThreshold?: string | null | undefined },
): Promise<Campaign> {
  const campaign = await getCampaign(db, { kind: 'organization', id: p.orgId }, p.campaignId);
  const threshold = p.lowEscrowThreshold == null ? p.lowEscrowThreshold : parseThreshold(p.lowEscrowThreshold, campaign.currency);
  await updateSettings(db, campaign.id, { name: p.name, lowEscrowThreshold: threshold });
  return getCampaign(db, { kind: 'organization', id: p.orgId }, campaign.id);
}

/** The escrow is low when the brand set a threshold and what is available is at or below it. */
export function escrowLow(available: bigint, threshold: bigint | null): boolean {
  return threshold !== null && available <= threshold;
}

export async function escrowOf(db: Db, campaignId: string): Promise<Escrow> {
  const [a] = await lookupAccounts(db, [AccountId.escrow(campaignId)]);
  if (!a) return { funded: 0n, spent: 0n, held: 0n, available: 0n };
  return {
    funded: a.credits_posted,
    spent: a.debits_posted,
    held: a.debits_pending,
    available: a.credits_posted - a.debits_posted - a.debits_pending,
  };
}

/** Lifecycle: draft → funded → active ⇄ paused → ended → settled. */
const TRANSITIONS: Record<CampaignStatus, readonly CampaignStatus[]> = {
  draft: ['funded', 'ended'],
  funded: ['active', 'ended'],
  active: ['paused', 'ended'],
  paused: ['active', 'ended'],
  ended: ['settled'],
  settled: [],
};

export function canMove(from: CampaignStatus, to: CampaignStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Moves a campaign if the lifecycle allows it from its current state; refuses with invalid_state otherwise. */
export async function transition(
  db: Db,
  id: string,
  to: CampaignStatus,
  options: { orgId?: string; reason?: string | null } = {},
): Promise<void> {
  const from = CAMPAIGN_STATUSES.filter((s) => canMove(s, to));
  if (from.length === 0) throw new AppError('invalid_state', `no campaign can become ${to}`);
  const pausedReason = to === 'paused' ? (options.reason ?? 'paused by the brand') : null;
  if (await moveCampaign(db, { id, to, from, orgId: options.orgId, pausedReason })) return;
  const status = await campaignStatus(db, id, options.orgId);
  if (!status) throw new AppError('not_found', `no campaign ${id}`);
  throw new AppError('invalid_state', `campaign ${id} is ${status}; it cannot become ${to}`);
}

/**
 * The brand pauses its campaign: results arriving while it is paused are refused (`campaign_paused`).
 * A campaign paused for budget becomes the brand's pause (later results are refused instead of
 * waiting for funds, and funding no longer resumes it); results already waiting keep waiting.
 */
export async function pauseCampaign(db: Db, p: { orgId: string; campaignId: string; reason?: string | null | undefined }): Promise<void> {
  if (p.reason === BUDGET_PAUSE) {
    throw new AppError('invalid_request', `"${BUDGET_PAUSE}" is the reason Earnest gives when the escrow runs out; say why you pause`, {
      details: { field: 'reason' },
    });
  }
  const reason = p.reason ?? 'paused by the brand';
  if (await pauseByBrandIfBudgetPaused(db, { campaignId: p.campaignId, orgId: p.orgId, reason })) return;
  await transition(db, p.campaignId, 'paused', { orgId: p.orgId, reason });
}

/**
 * Commits brand money to the campaign: wallet → escrow, idempotent on the brand's reference (its
 * business key, docs/api-conventions.md). Without an amount, funds what the budget still lacks. A
 * draft becomes funded. The same reference again — with the amount it moved, or none — answers the
 * original funding (`replayed`), whatever the campaign's state now; with another amount, or on
 * another campaign, it is idempotency_conflict. The ledger transfer is the record: its id comes from
 * the reference and it holds the amount moved.
 */
export async function fundCampaign(
  db: Db,
  p: { orgId: string; campaignId: string; amount?: string | undefined; reference: string; endedTakesMoney?: boolean },
): Promise<{ campaign: Campaign; funded: Money; replayed: boolean }> {
  const campaign = await getCampaign(db, { kind: 'organization', id: p.orgId }, p.campaignId);
  const id = fundingTransferId(p.orgId, p.reference);
  const answer = async (funded: Money, replayed: boolean) => ({ campaign: await getCampaign(db, { kind: 'organization', id: p.orgId }, campaign.id), funded, replayed });
  const earlier = await earlierFunding(db, id, campaign, p);
  if (earlier) return answer(earlier, true);
  // An ended campaign takes money only while results recorded before its end wait for funds (the caller knows).
  if (campaign.status === 'settled' || (campaign.status === 'ended' && !p.endedTakesMoney)) {
    throw new AppError('invalid_state', `campaign ${campaign.id} is ${campaign.status}: it takes no more money`);
  }
  const escrow = await escrowOf(db, campaign.id);
  const amount = p.amount === undefined ? BigInt(campaign.terms.budget_minor) - escrow.funded : parseAmount(p.amount, campaign.currency);
  if (amount <= 0n) {
    // A concurrent request with this reference may have funded the budget since the look-up above.
    const raced = await earlierFunding(db, id, campaign, p);
    if (raced) return answer(raced, true);
    throw new AppError('invalid_amount', 'nothing to fund: the escrow already holds the budget');
  }
  const moved = await ledgerFundEscrow(db, { id, orgId: p.orgId, campaignId: campaign.id, amount: Money.of(amount, campaign.currency) });
  if (!moved.ok) {
    if (moved.result === 'exceeds_credits') throw new AppError('insufficient_funds', 'the wallet does not hold that much: deposit first');
    if (moved.result.startsWith('exists_with_different')) {
      // Lost a race to a different funding with this reference: name what differs.
      await earlierFunding(db, id, campaign, { ...p, amount: p.amount ?? formatAmount(amount, campaign.currency) });
      throw new AppError('idempotency_conflict', `reference ${p.reference} was used for a different funding`, { details: { field: 'reference' } });
    }
    throw new AppError('conflict', `funding refused: ${moved.result}`);
  }
  if (campaign.status === 'draft') await transition(db, campaign.id, 'funded').catch(ignoreState);
  return answer(Money.of(moved.transfers[0]?.amount ?? amount, campaign.currency), false);
}

/** The ledger id of a brand's funding with a reference; a reference too long to fit is hashed (another prefix: no clash). */
export function fundingTransferId(orgId: string, reference: string): string {
  const id = `fund:${orgId}:${reference}`;
  if (id.length <= LEDGER_LIMITS.id_length_max) return id;
  return `fundh:${orgId}:${createHash('sha256').update(reference).digest('hex')}`;
}

/**
 * What an earlier funding with this reference moved, or undefined if none did. A different request
 * with the reference — another campaign, or an amount other than the one moved — is
 * idempotency_conflict naming what differs.
 */
async function earlierFunding(db: Db, id: string, campaign: Campaign, p: { amount?: string | undefined; reference: string }): Promise<Money | undefined> {
  const [transfer] = await lookupTransfers(db, [id]);
  if (!transfer) return undefined;
  const moved = Money.of(transfer.amount, transfer.currency);
  if (transfer.credit_account_id !== AccountId.escrow(campaign.id)) {
    throw new AppError('idempotency_conflict', `reference ${p.reference} funded another campaign`, { details: { field: 'reference' } });
  }
  if (p.amount !== undefined && parseAmount(p.amount, campaign.currency) !== transfer.amount) {
    throw new AppError('idempotency_conflict', `reference ${p.reference} funded ${moved.toString()}, not ${p.amount}`, { details: { field: 'amount' } });
  }
  return moved;
}

function ignoreState(e: unknown): void {
  if (!(e instanceof AppError && e.code === 'invalid_state')) throw e;
}

/** A campaign runs only while its escrow can pay at least one result, and before its end. */
export async function activateCampaign(db: Db, orgId: string, id: string): Promise<Campaign> {
  const campaign = await getCampaign(db, { kind: 'organization', id: orgId }, id);
  const escrow = await escrowOf(db, id);
  const needed = onePayout(campaign.terms);
  if (escrow.available < needed) {
    throw new AppError('insufficient_funds', `the escrow must hold at least one result's payout (${Money.of(needed, campaign.currency).toString()}) to run`);
  }
  const now = await databaseNow(db);
  if (now >= new Date(campaign.terms.ends_at)) throw new AppError('invalid_state', `campaign ${id} ended on ${campaign.terms.ends_at}`);
  await transition(db, id, 'active', { orgId });
  return getCampaign(db, { kind: 'organization', id: orgId }, id);
}
