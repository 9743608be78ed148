import { type Kysely, sql, type Transaction } from 'kysely';
import { BUDGET_PAUSE, campaignRowsPage, type EnrolmentWithTerms, pauseForBudget } from '../campaigns/index.js';
import { budgetGraceDaysOf, grossPayout, type Terms } from '../terms/index.js';
import { GroupCommit, inTransaction, keyset, type Page, type PageRequest, type PageTime, RetryableConflict, sqlState } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { AccountId, clawbackRequests, createTransfersIn, type FeeReturn, linkChain, lockAccounts, lookupTransfers, resolveHoldRequests, TransferFlags as F, type TransferRequest } from '../ledger/index.js';
import { allocate, splitFee } from '../money/index.js';
import { capPayments } from './caps.js';
import { type Actor, BUDGET, type NewDecision, recordDecisions, SETTLEMENT, textArrays, VALIDATION } from './decisions.js';
import { planHolds } from './funds-plan.js';
import { holdLegs, holdRequestsOf } from './holds.js';
import { recheckDue } from './recheck.js';
import { type CampaignState, campaignStates, normaliseResult, OVER_BUDGET } from './repository.js';

/**
 * Results: what creators are paid for. This is where a click or a conversion becomes a hold: recording
 * a result reserves its payout on the campaign escrow (two linked pending transfers, net to the
 * creator's payable and fee to the platform), in the same database transaction as the result row.
 * Settlement posts the hold; a rejection voids it. Nothing is ever released by default: a result is
 * paid only by `approveDue` once its hold period has passed, nobody rejected it, and the engine still
 * calls its traffic valid; a result in `review` is never paid until an operator approves it.
 *
 *   pending ──(hold period, re-check valid)──▶ approved ──(operator: reverse)──▶ reversed
 *      │  └──(re-check not valid)──▶ review ──(operator: approve)──▶ pending (reviewed)
 *      └──(brand or operator: reject)──▶ rejected ◀──(reject)── review
 *
 * A result the escrow cannot cover — or that arrives while its campaign is paused for budget — is
 * `awaiting_funds` instead (no hold; src/results/funds.ts): held, in arrival order, once the brand
 * tops up and resumes (→ pending, or review for a review verdict), or final `over_budget` when the
 * terms' grace period ends. The brand may reject it meanwhile (nothing to void).
 */
export const RESULT_KINDS = ['click', 'lead', 'sale', 'views'] as const;
export type ResultKind = (typeof RESULT_KINDS)[number];
export const RESULT_STATUSES = ['pending', 'review', 'approved', 'rejected', 'over_budget', 'reversed', 'awaiting_funds'] as const;
export type ResultStatus = (typeof RESULT_STATUSES)[number];
export { type Actor, type ActorKind, decisionsOf, type ResultDecision } from './decisions.js';
export { RECHECK_LIMITS } from './recheck.js';
export { holdLegs } from './holds.js';
export {
  type AwaitingFunds,
  awaitingFundsOf,
  expireAwaitingFunds,
  FUNDS_LIMITS,
  holdAwaitingFunds,
  type HoldPass,
  campaignsWithAwaitingFunds,
  heldAs,
  nextAwaiting,
} from './funds.js';
export { type ReviewEvidence, type ReviewItem, reviewQueue } from './review.js';

export interface ResultDraft {
  kind: ResultKind;
  /** The click, conversion or view report this result comes from (unique per kind). */
  sourceId: string;
  enrolment: EnrolmentWithTerms;
  occurredAt: Date;
  customerId?: string | null;
  orderAmount?: bigint;
  views?: bigint;
  /** Validation's reason codes: any makes the result rejected, with no hold. */
  rejectReasons?: readonly string[];
  /** Validation's reason codes for a result held for a person: `review`, never released on its own. */
  reviewReasons?: readonly string[];
  /** What conditional rates match on (incentives' rate overrides): the customer's country, the product. */
  attributes?: { country?: string | null; sku?: string | null };
  /** One creator's part of a source credited to several (see `splitDraft`); absent: the whole of it. */
  part?: ResultPart;
}

export interface ResultPart {
  /** This part's gross: its share of `sourceGross`, exactly allocated. */
  gross: bigint;
  /** The attribution model's share of the source, (0, 1]. */
  share: number;
  /** What the whole source costs the brand: the gross a single-creator result would have had. */
  sourceGross: bigint;
  /** The terms the whole source is paid on (the credited conversion's, i.e. its last-click creator's). */
  terms: Terms;
  model: string;
}

export interface Result {
  id: string;
  campaign_id: string;
  enrolment_id: string;
  creator_id: string;
  kind: ResultKind;
  source_id: string;
  status: ResultStatus;
  reasons: string[];
  currency: string;
  gross: bigint;
  fee: bigint;
  customer_id: string | null;
  occurred_at: Date;
  recorded_at: Date;
  /** When the hold period ends. While `awaiting_funds`, provisional: recorded_at + the hold period, moved when the hold is placed. */
  hold_until: Date;
  hold_id: string | null;
  /** When a result that waited for funds stops waiting (its grace period ends); null for one that never waited. */
  awaiting_until: Date | null;
  decided_at: Date | null;
  decided_by: string | null;
  decision_note: string | null;
  /** An operator approved it after a review: the release re-check leaves it alone. */
  reviewed: boolean;
  /** What the result earned when the incentives' caps cut it at payment (src/results/caps.ts); null: its gross. */
  paid_gross?: bigint | null;
  /** Multi-touch: this creator's share of the source (null: all of it), what the whole source cost, the model. */
  share: number | null;
  source_gross: bigint | null;
  model: string | null;
}

/** A credited creator, as attribution splits a source: a share for display, an integer weight for money. */
export interface Credit {
  enrolment: EnrolmentWithTerms;
  share: number;
  weight: number;
  /** Reasons this creator's part alone is refused (e.g. self_referral by a creator other than the judged one). */
  rejectReasons?: readonly string[];
}

/**
 * A source credited to several creators (multi-touch attribution), as one draft per credited creator:
 * the gross a single-creator result would have (on the draft's terms, conditional rates included) is
 * allocated by the credits' integer weights (largest remainder, ties to the earlier credit), so the
 * parts always sum to it exactly — attribution never makes a result dearer for the brand. A creator
 * whose part rounds to nothing gets no result; a source with no payout at all stays one draft.
 */
export function splitDraft(d: ResultDraft, credits: readonly Credit[], model: string): ResultDraft[] {
  if (credits.length === 0) return [d];
  const terms = d.enrolment.terms;
  const sourceGross = grossPayout(terms, { orderAmount: d.orderAmount, views: d.views, ...d.attributes });
  if (sourceGross <= 0n) return [d];
  const parts = allocate(sourceGross, credits.map((c) => c.weight));
  return credits.flatMap((c, i): ResultDraft[] => {
    if (parts[i]! <= 0n) return [];
    const part = { ...d, enrolment: c.enrolment, part: { gross: parts[i]!, share: c.share, sourceGross, terms, model } };
    if (!c.rejectReasons?.length) return [part];
    const { reviewReasons: _review, ...rest } = part;
    return [{ ...rest, rejectReasons: [...(d.rejectReasons ?? []), ...c.rejectReasons] }];
  });
}

/** A result is unique per (kind, source, enrolment): one part per credited creator. */
function draftKey(d: ResultDraft): string {
  return `${d.kind}:${d.sourceId}:${d.enrolment.id}`;
}

function resultKey(r: Pick<Result, 'kind' | 'source_id' | 'enrolment_id'>): string {
  return `${r.kind}:${r.source_id}:${r.enrolment_id}`;
}

type Db = Kysely<any>;
type Trx = Transaction<any>;


/** Records results (idempotent on kind + source) and places their holds, all in one transaction. */
export async function recordResults(db: Db, drafts: readonly ResultDraft[]): Promise<Result[]> {
  if (drafts.length === 0) return [];
  return inTransaction(db, (trx) => recordIn(trx, drafts));
}

const groups = new WeakMap<Db, GroupCommit<ResultDraft, Result>>();

/**
 * recordResults through group commit: concurrent callers (request handlers recording one result each)
 * share one transaction. Each caller gets its own results; a batch that fails fails its callers.
 */
export function recordResultsGrouped(db: Db, drafts: readonly ResultDraft[]): Promise<Result[]> {
  let group = groups.get(db);
  if (!group) {
    group = new GroupCommit((items) => recordResults(db, items), { maxBatchSize: 500, maxInFlight: 2 });
    groups.set(db, group);
  }
  return group.submit(drafts);
}

/** The same, inside a transaction the caller holds (its helper must retry RetryableConflict). */
export async function recordResultsIn(trx: Trx, drafts: readonly ResultDraft[]): Promise<Result[]> {
  return drafts.length === 0 ? [] : recordIn(trx, drafts);
}

async function recordIn(trx: Trx, drafts: readonly ResultDraft[]): Promise<Result[]> {
  const existing = await existingResults(trx, drafts);
  // The escrows first, before anything about their campaigns is read: a hold pass over the results
  // waiting for funds on the same campaign commits wholly before or after this, never in between.
  const escrows = await lockEscrows(trx, drafts.filter((d) => !existing.has(draftKey(d)) && !d.rejectReasons?.length));
  const now = await nowIn(trx);
  const campaigns = await campaignStates(trx, [...new Set(drafts.map((d) => d.enrolment.campaign_id))]);
  const fresh = new Map<string, { draft: ResultDraft; result: Result }>();
  for (const d of drafts) {
    const key = draftKey(d);
    if (existing.has(key) || fresh.has(key)) continue;
    fresh.set(key, { draft: d, result: draftToResult(d, now, campaigns.get(d.enrolment.campaign_id)) });
  }
  const rows = [...fresh.values()].map((f) => f.result);
  // Arrival order within one transaction (one recording time) is the ids' order, as the hold pass takes them.
  const candidates = rows.filter((r) => r.status === 'pending' || r.status === 'review').sort((a, b) => (a.id < b.id ? -1 : 1));
  const plan = planHolds(
    candidates.map((r) => ({ id: r.id, campaignId: r.campaign_id, gross: r.gross })),
    new Map([...escrows].map(([id, available]) => [id, { available, queued: campaigns.get(id)?.queued ?? false }])),
  );
  const holds = candidates.filter((r) => plan.choices.get(r.id) === 'hold');
  const waiting = candidates.filter((r) => plan.choices.get(r.id) === 'await');
  for (const r of waiting) {
    const d = fresh.get(resultKey(r))?.draft;
    assert(d, `no draft for result ${r.id}`);
    awaitFunds(r, budgetGraceDaysOf(d.part?.terms ?? d.enrolment.terms), now);
  }
  const outcomes = await createTransfersIn(trx, holds.flatMap(holdRequestsOf));
  const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
  // The escrow is locked and each hold was checked against it: a refusal here is a bug, and it must not burn the result's hold ids silently.
  assert(!bad, `placing a hold that fits the escrow failed: ${bad?.id} ${bad?.result}`);
  try {
    await insertResults(trx, rows);
  } catch (e) {
    // The same source recorded by a concurrent transaction: start over and find it.
    if (sqlState(e) === '23505') throw new RetryableConflict('a result for this source was recorded concurrently');
    throw e;
  }
  await recordDecisions(trx, [
    ...rows
      .filter((r) => r.status === 'rejected' || r.status === 'review')
      .map((r): NewDecision => ({ resultId: r.id, from: 'new', to: r.status as 'rejected' | 'review', reasons: r.reasons, note: null, actor: VALIDATION })),
    ...waiting.map((r): NewDecision => ({ resultId: r.id, from: 'new', to: r.status as 'awaiting_funds' | 'over_budget', reasons: r.reasons, note: null, actor: BUDGET })),
  ]);
  // The escrow cannot pay another result: the campaign pauses itself until the brand tops it up.
  await pauseForBudget(trx, [...plan.ranOut]);
  const byKey = new Map([...existing, ...rows.map((r) => [resultKey(r), r] as const)]);
  return drafts.map((d) => byKey.get(draftKey(d)) as Result);
}

/**
 * A result the escrow cannot hold now: it waits for funds until its grace period ends — or, with no
 * grace (0 days), is final `over_budget` at once. A review verdict keeps its reasons: it goes to
 * review once it is held.
 */
function awaitFunds(r: Result, graceDays: number, now: Date): void {
  r.status = graceDays > 0 ? 'awaiting_funds' : 'over_budget';
  r.reasons = [...r.reasons, OVER_BUDGET];
  r.hold_id = null;
  r.awaiting_until = graceDays > 0 ? new Date(r.recorded_at.getTime() + graceDays * 86_400_000) : null;
  r.decided_at = now;
  r.decided_by = BUDGET.id;
}

/** The escrows of the campaigns these drafts may hold on, locked (in id order) for the transaction: what each has available. */
async function lockEscrows(trx: Trx, drafts: readonly ResultDraft[]): Promise<Map<string, bigint>> {
  const campaignIds = [...new Set(drafts.map((d) => d.enrolment.campaign_id))].sort();
  const accounts = await lockAccounts(trx, campaignIds.map((id) => AccountId.escrow(id)));
  const byAccount = new Map(accounts.map((a) => [a.id, a]));
  const out = new Map<string, bigint>();
  for (const id of campaignIds) {
    const a = byAccount.get(AccountId.escrow(id));
    // A closed or missing escrow holds nothing (a settled campaign refuses results before this matters).
    out.set(id, a && !a.closed ? a.credits_posted - a.debits_posted - a.debits_pending : 0n);
  }
  return out;
}

async function nowIn(trx: Trx): Promise<Date> {
  const r = await sql<{ now: Date }>`select earnest_now() as now`.execute(trx);
  return r.rows[0]?.now as Date;
}

async function existingResults(trx: Trx, drafts: readonly ResultDraft[]): Promise<Map<string, Result>> {
  const r = await sql<Result>`select * from results where (kind, source_id) in (
      select * from unnest(${drafts.map((d) => d.kind)}::text[], ${drafts.map((d) => d.sourceId)}::text[]))`.execute(trx);
  return new Map(r.rows.map((x) => [resultKey(x), normaliseResult(x)]));
}

/**
 * The result as validation and the campaign's state decide it: pending, review or rejected (whether
 * the escrow holds it is decided after). A campaign paused for budget takes results as a running one
 * does — they will wait for funds — while one the brand paused refuses them.
 */
function draftToResult(d: ResultDraft, now: Date, campaign: CampaignState | undefined): Result {
  const campaignStatus = !campaign ? 'missing' : campaign.status === 'paused' && campaign.paused_reason === BUDGET_PAUSE ? 'active' : campaign.status;
  const terms = d.part?.terms ?? d.enrolment.terms;
  const gross = d.part?.gross ?? grossPayout(terms, { orderAmount: d.orderAmount, views: d.views, ...d.attributes });
  const { fee } = splitFee(gross, terms.fee_bps);
  const rejected = d.rejectReasons ?? [];
  const review = d.reviewReasons ?? [];
  // What the campaign's state or the payout says, whatever validation said.
  const refusals: string[] = [];
  if (campaignStatus !== 'active') refusals.push(`campaign_${campaignStatus}`);
  else if (now >= new Date(terms.ends_at)) refusals.push('campaign_ended');
  else if (now < new Date(terms.starts_at)) refusals.push('campaign_not_started');
  if (gross <= 0n && refusals.length === 0 && rejected.length === 0) refusals.push('no_payout');
  const status: ResultStatus = rejected.length > 0 || refusals.length > 0 ? 'rejected' : review.length > 0 ? 'review' : 'pending';
  const decided = status !== 'pending';
  const id = newId('res');
  return {
    id,
    campaign_id: d.enrolment.campaign_id,
    enrolment_id: d.enrolment.id,
    creator_id: d.enrolment.creator_id,
    kind: d.kind,
    source_id: d.sourceId,
    status,
    reasons: [...rejected, ...review, ...refusals],
    currency: terms.currency,
    gross,
    fee,
    customer_id: d.customerId ?? null,
    occurred_at: d.occurredAt,
    recorded_at: now,
    hold_until: new Date(now.getTime() + terms.hold_days * 86_400_000),
    hold_id: status === 'rejected' ? null : id,
    awaiting_until: null,
    decided_at: decided ? now : null,
    decided_by: decided ? VALIDATION.id : null,
    decision_note: null,
    reviewed: false,
    share: d.part?.share ?? null,
    source_gross: d.part?.sourceGross ?? null,
    model: d.part?.model ?? null,
  };
}


async function insertResults(trx: Trx, rows: readonly Result[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof Result>(k: K) => rows.map((r) => r[k]);
  await sql`insert into results (id, campaign_id, enrolment_id, creator_id, kind, source_id, status, reasons, currency, gross, fee,
      customer_id, occurred_at, recorded_at, hold_until, hold_id, awaiting_until, decided_at, decided_by, share, source_gross, model)
    select id, campaign_id, enrolment_id, creator_id, kind, source_id, status, reasons::text[], currency, gross, fee, customer_id,
      occurred_at, recorded_at, hold_until, hold_id, awaiting_until, decided_at, decided_by, share, source_gross, model
    from unnest(${col('id')}::text[], ${col('campaign_id')}::text[], ${col('enrolment_id')}::text[], ${col('creator_id')}::text[],
      ${col('kind')}::text[], ${col('source_id')}::text[], ${col('status')}::text[],
      ${rows.map((r) => `{${r.reasons.join(',')}}`)}::text[], ${col('currency')}::char(3)[],
      ${rows.map((r) => r.gross.toString())}::int8[], ${rows.map((r) => r.fee.toString())}::int8[], ${col('customer_id')}::text[],
      ${rows.map((r) => r.occurred_at.toISOString())}::timestamptz[], ${rows.map((r) => r.recorded_at.toISOString())}::timestamptz[],
      ${rows.map((r) => r.hold_until.toISOString())}::timestamptz[], ${col('hold_id')}::text[],
      ${rows.map((r) => r.awaiting_until?.toISOString() ?? null)}::timestamptz[],
      ${rows.map((r) => r.decided_at?.toISOString() ?? null)}::timestamptz[], ${col('decided_by')}::text[],
      ${col('share')}::float8[], ${rows.map((r) => r.source_gross?.toString() ?? null)}::int8[], ${col('model')}::text[])
    as x(id, campaign_id, enrolment_id, creator_id, kind, source_id, status, reasons, currency, gross, fee, customer_id, occurred_at,
      recorded_at, hold_until, hold_id, awaiting_until, decided_at, decided_by, share, source_gross, model)`.execute(trx);
}


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
    const due = await sql<Result>`select * from results where status = 'pending' and hold_until <= earnest_now()
      order by hold_until, id limit ${limit} for update skip locked`.execute(trx);
    if (due.rows.length === 0) return { approved: 0, reviewed: 0 };
    const rows = due.rows.map(normaliseResult);
    const flagged = await recheckDue(trx, rows);
    const toReview = rows.filter((r) => flagged.has(r.id)).map((r) => ({ r, added: (flagged.get(r.id) ?? []).filter((x) => !r.reasons.includes(x)) }));
    const toApprove = rows.filter((r) => !flagged.has(r.id));
    if (toReview.length > 0) {
      await sql`update results r set status = 'review', reasons = x.reasons::text[], decided_at = earnest_now(), decided_by = ${SETTLEMENT.id}
        from unnest(${toReview.map(({ r }) => r.id)}::text[], ${textArrays(toReview.map(({ r, added }) => [...r.reasons, ...added]))}::text[])
          as x(id, reasons)
        where r.id = x.id`.execute(trx);
    }
    if (toApprove.length > 0) {
      const capped = await capPayments(trx, toApprove); // incentives' caps per creator per period: a partial post
      const outcomes = await createTransfersIn(trx, toApprove.flatMap((r) => capped.get(r.id) ?? resolveRequests(r, F.post_pending_transfer, 'settle')));
      const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
      assert(!bad, `settling a hold failed: ${bad?.id} ${bad?.result}`);
      await sql`update results set status = 'approved', decided_at = earnest_now(), decided_by = ${SETTLEMENT.id}
        where id = any(${toApprove.map((r) => r.id)}::text[])`.execute(trx);
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

/** The result, locked for a decision; another brand's result is as unknown as a made-up id. */
async function lockResult(trx: Trx, resultId: string, orgId?: string): Promise<Result & { org_id: string }> {
  const owner = orgId ? sql`and c.org_id = ${orgId}` : sql``;
  const found = await sql<Result & { org_id: string }>`select r.*, c.org_id from results r join campaigns c on c.id = r.campaign_id
    where r.id = ${resultId} ${owner} for update of r`.execute(trx);
  const row = found.rows[0];
  if (!row) throw new AppError('not_found', `no result ${resultId}`);
  return { ...normaliseResult(row), org_id: row.org_id };
}

async function reread(trx: Trx, id: string): Promise<Result> {
  const updated = await sql<Result>`select * from results where id = ${id}`.execute(trx);
  return normaliseResult(updated.rows[0] as Result);
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
    await sql`update results set status = 'rejected', reasons = ${textArrays([[...kept, ...added]])[0]}::text[], decided_at = earnest_now(),
        decided_by = ${p.by}, decision_note = ${p.note ?? null} where id = ${r.id}`.execute(trx);
    const actor: Actor = { kind: p.actor ?? (p.orgId ? 'organization' : 'operator'), id: p.by };
    await recordDecisions(trx, [{ resultId: r.id, from: r.status, to: 'rejected', reasons: added, note: p.note ?? null, actor }]);
    return reread(trx, r.id);
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
    await sql`update results set status = 'pending', reviewed = true, decided_at = earnest_now(), decided_by = ${p.by},
        decision_note = ${p.note ?? null} where id = ${r.id}`.execute(trx);
    await recordDecisions(trx, [{ resultId: r.id, from: 'review', to: 'pending', reasons: [], note: p.note ?? null, actor: { kind: 'operator', id: p.by } }]);
    return reread(trx, r.id);
  });
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
export async function reverseResult(
  db: Db,
  p: { resultId: string; by: string; reason: string; note: string; returnFees: FeeReturn },
): Promise<Result> {
  return inTransaction(db, async (trx) => {
    const r = await lockResult(trx, p.resultId);
    if (r.status === 'reversed') return reread(trx, r.id);
    if (r.status !== 'approved') throw new AppError('invalid_state', `result ${r.id} is ${r.status}; only approved results can be reversed`);
    const requests = await reversalRequests(trx, r, p.returnFees);
    const outcomes = await createTransfersIn(trx, linkChain(requests));
    const bad = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists');
    assert(!bad, `reversing result ${r.id} failed: ${bad?.id} ${bad?.result}`);
    const added = r.reasons.includes(p.reason) ? [] : [p.reason];
    await sql`update results set status = 'reversed', reasons = ${textArrays([[...r.reasons, ...added]])[0]}::text[], decided_at = earnest_now(),
        decided_by = ${p.by}, decision_note = ${p.note} where id = ${r.id}`.execute(trx);
    await recordDecisions(trx, [{ resultId: r.id, from: 'approved', to: 'reversed', reasons: added, note: p.note, actor: { kind: 'operator', id: p.by } }]);
    return reread(trx, r.id);
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

export async function getResult(db: Db, id: string, scope: { orgId?: string; creatorId?: string } = {}): Promise<Result> {
  const org = scope.orgId ? sql`and campaign_id in (select id from campaigns where org_id = ${scope.orgId})` : sql``;
  const creator = scope.creatorId ? sql`and creator_id = ${scope.creatorId}` : sql``;
  const r = await sql<Result>`select * from results where id = ${id} ${org} ${creator}`.execute(db);
  if (!r.rows[0]) throw new AppError('not_found', `no result ${id}`);
  return normaliseResult(r.rows[0]);
}

/**
 * Results newest first by recorded_at, then id: a creator's through results_creator, a campaign's
 * through results_campaign_recorded (a brand's campaign by campaign), all through results_recorded.
 */
export async function listResults(
  db: Db,
  filter: { campaignId?: string; orgId?: string; creatorId?: string; status?: ResultStatus },
  page: PageRequest,
): Promise<Page<Result>> {
  const k = keyset(page, { time: 'r.recorded_at', keys: ['r.id'] });
  const r = await sql<Result & PageTime>`${campaignRowsPage({ table: 'results', columns: sql`r.*`, filter, k })}`.execute(db);
  const p = k.page(r.rows, (x) => [x.id]);
  return { ...p, rows: p.rows.map(normaliseResult) };
}

/**
 * Results of a campaign whose hold is still open — `pending`, or in `review` — which settlement waits
 * for before closing the escrow: money reserved for a person's decision is never swept back.
 */
export async function openHoldCount(db: Db, campaignId: string): Promise<number> {
  const r = await sql<{ n: bigint }>`select count(*) as n from results where campaign_id = ${campaignId}
    and status in ('pending', 'review')`.execute(db);
  return Number(r.rows[0]?.n ?? 0n);
}
