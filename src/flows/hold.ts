import type { Kysely, Transaction } from 'kysely';
import { BUDGET_PAUSE, pauseForBudget } from '../campaigns/index.js';
import { databaseNow, GroupCommit, inTransaction, RetryableConflict, sqlState } from '../db/index.js';
import { assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { AccountId, createTransfersIn, lockAccounts } from '../ledger/index.js';
import { splitFee } from '../money/index.js';
import {
  BUDGET,
  type CampaignState,
  campaignStates,
  draftKey,
  existingResults,
  holdRequestsOf,
  insertResults,
  type NewDecision,
  OVER_BUDGET,
  planHolds,
  recordDecisions,
  type Result,
  type ResultDraft,
  resultKey,
  type ResultStatus,
  VALIDATION,
} from '../results/index.js';
import { budgetGraceDaysOf, grossPayout } from '../terms/index.js';

/**
 * The result and its hold (step 3 of the money path, docs/architecture.md): recording a result
 * reserves its payout on the campaign escrow — two linked pending transfers, net to the creator's
 * payable and fee to the platform — in the same database transaction as the result row. A result the
 * escrow cannot cover, or that arrives while its campaign is paused for budget, is `awaiting_funds`
 * (no hold; ./funds.ts holds it later) and the campaign pauses itself. Spans results (the rows and
 * their decisions), the ledger (escrow locks, holds) and campaigns (the budget pause).
 */
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
  const existing = new Map((await existingResults(trx, drafts)).map((r) => [resultKey(r), r]));
  // The escrows first, before anything about their campaigns is read: a hold pass over the results
  // waiting for funds on the same campaign commits wholly before or after this, never in between.
  const escrows = await lockEscrows(trx, drafts.filter((d) => !existing.has(draftKey(d)) && !d.rejectReasons?.length));
  const now = await databaseNow(trx);
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
