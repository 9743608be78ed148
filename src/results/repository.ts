import { type Kysely, sql, type Transaction } from 'kysely';
import { campaignRowsPage } from '../campaigns/index.js';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { AppError } from '../errors/index.js';
import type { Period } from '../incentives/index.js';
import type { Terms } from '../terms/index.js';
import type { ClickStatus } from '../validation/index.js';
import type { NewDecision, ResultDecision } from './decisions.js';
import type { ReviewEvidence } from './review.js';
import { RECHECK_LIMITS } from './recheck.js';
import type { Result, ResultDraft, ResultStatus } from './results.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['results', 'result_decisions'], reads: ['campaigns', 'campaign_terms', 'enrolments', 'clicks', 'conversions', 'creators'] } as const;

/**
 * The results' SQL: recording results (src/flows/hold.ts), releasing, rejecting and reversing them
 * (src/flows/release.ts, src/flows/reversal.ts), reading them, and results waiting for funds (issue #10
 * §4; a waiting result has no hold; `awaiting_until` is when its grace period ends), and the SQL of
 * the caps (caps.ts), the decisions log (decisions.ts), the release re-check (recheck.ts) and the
 * review queue (review.ts), which keep their logic.
 */
type Db = Kysely<any>;
type Trx = Transaction<any>;

/** Reason codes are `[a-z0-9_]`: written as array literals, one per row, through unnest. */
export function textArrays(lists: ReadonlyArray<readonly string[]>): string[] {
  return lists.map((l) => `{${l.join(',')}}`);
}

/** The reason code of a result the escrow could not cover (while it waits, and once final). */
export const OVER_BUDGET = 'over_budget';
/** Added when a waiting result's grace period ended before the brand topped up. */
export const GRACE_EXPIRED = 'budget_grace_expired';

export function normaliseResult(r: Result): Result {
  return {
    ...r,
    currency: r.currency.trim(),
    share: r.share === null || r.share === undefined ? null : Number(r.share),
    source_gross: r.source_gross === null || r.source_gross === undefined ? null : BigInt(r.source_gross),
    paid_gross: r.paid_gross === null || r.paid_gross === undefined ? null : BigInt(r.paid_gross),
    model: r.model ?? null,
    awaiting_until: r.awaiting_until ?? null,
  };
}

export interface CampaignState {
  id: string;
  status: string;
  paused_reason: string | null;
  /** Paused for budget, or results wait on it still within their grace: new results queue behind them. */
  queued: boolean;
}

/** Read inside the recording transaction (after its escrows are locked): a campaign paused or ended a moment ago takes no new holds. */
export async function campaignStates(trx: Trx, ids: readonly string[]): Promise<Map<string, CampaignState>> {
  if (ids.length === 0) return new Map();
  const r = await sql<CampaignState>`select c.id, c.status, c.paused_reason,
      (c.status = 'paused' and c.paused_reason = 'over_budget')
        or exists (select 1 from results r where r.campaign_id = c.id and r.status = 'awaiting_funds' and r.awaiting_until > earnest_now()) as queued
    from campaigns c where c.id = any(${[...ids]}::text[])`.execute(trx);
  return new Map(r.rows.map((x) => [x.id, x]));
}

/**
 * The next of a campaign's waiting results in arrival order (recording time, then id), still within
 * their grace, locked. Not SKIP LOCKED: the pass must not step over a result another transaction is
 * deciding (a brand's rejection, the expiry) — it waits for it, then sees it as decided.
 */
export async function lockAwaiting(trx: Trx, campaignId: string, limit: number): Promise<Result[]> {
  const r = await sql<Result>`select * from results where campaign_id = ${campaignId} and status = 'awaiting_funds'
      and awaiting_until > earnest_now()
    order by recorded_at, id limit ${limit} for update`.execute(trx);
  return r.rows.map(normaliseResult);
}

/**
 * Waiting results whose holds were just placed: pending (or review, for a review verdict), the hold
 * period starting now — the brand keeps its whole window to reject — and the over_budget reason gone.
 */
export async function markHeld(trx: Trx, rows: ReadonlyArray<{ id: string; status: 'pending' | 'review'; reasons: readonly string[] }>, by: string): Promise<void> {
  if (rows.length === 0) return;
  await sql`update results r set status = x.status, reasons = x.reasons::text[], hold_id = r.id,
      hold_until = earnest_now() + (r.hold_until - r.recorded_at), decided_at = earnest_now(), decided_by = ${by}
    from unnest(${rows.map((x) => x.id)}::text[], ${rows.map((x) => x.status)}::text[], ${rows.map((x) => `{${x.reasons.join(',')}}`)}::text[])
      as x(id, status, reasons)
    where r.id = x.id and r.status = 'awaiting_funds'`.execute(trx);
}

/** Waiting results whose grace period has ended on the database clock, locked; SKIP LOCKED, so expirers share the work. */
export async function lockExpired(trx: Trx, limit: number): Promise<Result[]> {
  const r = await sql<Result>`select * from results where status = 'awaiting_funds' and awaiting_until <= earnest_now()
    order by awaiting_until, id limit ${limit} for update skip locked`.execute(trx);
  return r.rows.map(normaliseResult);
}

export async function markOverBudget(trx: Trx, ids: readonly string[], by: string): Promise<void> {
  if (ids.length === 0) return;
  await sql`update results set status = 'over_budget', reasons = array_append(reasons, ${GRACE_EXPIRED}::text),
      decided_at = earnest_now(), decided_by = ${by}
    where id = any(${[...ids]}::text[]) and status = 'awaiting_funds'`.execute(trx);
}

export interface AwaitingFunds {
  count: number;
  /** What holding them all would reserve on the escrow (their payouts, fee included). */
  gross: bigint;
  /** The earliest end of a grace period among them: when the first would become over_budget. */
  first_until: Date | null;
}

/** A campaign's waiting results (one creator's, when given). */
export async function awaitingFundsOf(db: Db, campaignId: string, creatorId?: string): Promise<AwaitingFunds> {
  const creator = creatorId ? sql`and creator_id = ${creatorId}` : sql``;
  const r = await sql<{ n: bigint; gross: bigint | null; first_until: Date | null }>`select count(*) as n, sum(gross) as gross,
      min(awaiting_until) as first_until
    from results where campaign_id = ${campaignId} and status = 'awaiting_funds' ${creator}`.execute(db);
  const row = r.rows[0];
  return { count: Number(row?.n ?? 0n), gross: BigInt(row?.gross ?? 0n), first_until: row?.first_until ?? null };
}

/** The first of a campaign's waiting results in arrival order, still within its grace: what a resume must be able to hold. */
export async function nextAwaiting(db: Db, campaignId: string): Promise<{ id: string; gross: bigint } | null> {
  const r = await sql<{ id: string; gross: bigint }>`select id, gross from results where campaign_id = ${campaignId}
      and status = 'awaiting_funds' and awaiting_until > earnest_now()
    order by recorded_at, id limit 1`.execute(db);
  const row = r.rows[0];
  return row ? { id: row.id, gross: BigInt(row.gross) } : null;
}

/**
 * Campaigns whose waiting results the hold pass may take: running ones (a resume whose pass was cut
 * short, or results that queued behind it) and ended, unsettled ones (no resume: waiting results are
 * held whenever the escrow covers them, until their grace ends). Paused ones wait for the brand.
 */
export async function campaignsWithAwaitingFunds(db: Db, limit: number): Promise<string[]> {
  const r = await sql<{ id: string }>`select c.id from campaigns c where c.status in ('active', 'ended')
      and exists (select 1 from results r where r.campaign_id = c.id and r.status = 'awaiting_funds' and r.awaiting_until > earnest_now())
    order by c.id limit ${limit}`.execute(db);
  return r.rows.map((x) => x.id);
}

/** The results already recorded for these drafts' sources (kind + source id), whichever enrolment they credit. */
export async function existingResults(trx: Trx, drafts: ReadonlyArray<Pick<ResultDraft, 'kind' | 'sourceId'>>): Promise<Result[]> {
  const r = await sql<Result>`select * from results where (kind, source_id) in (
      select * from unnest(${drafts.map((d) => d.kind)}::text[], ${drafts.map((d) => d.sourceId)}::text[]))`.execute(trx);
  return r.rows.map(normaliseResult);
}

export async function insertResults(trx: Trx, rows: readonly Result[]): Promise<void> {
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

/** Pending results whose hold period has passed on the database clock, locked; SKIP LOCKED, so settlers share the work. */
export async function lockDue(trx: Trx, limit: number): Promise<Result[]> {
  const due = await sql<Result>`select * from results where status = 'pending' and hold_until <= earnest_now()
      order by hold_until, id limit ${limit} for update skip locked`.execute(trx);
  return due.rows.map(normaliseResult);
}

/** Due results the release re-check flagged: to `review`, with their reasons (the hold stays). */
export async function markForReview(trx: Trx, rows: ReadonlyArray<{ id: string; reasons: readonly string[] }>, by: string): Promise<void> {
  await sql`update results r set status = 'review', reasons = x.reasons::text[], decided_at = earnest_now(), decided_by = ${by}
        from unnest(${rows.map((x) => x.id)}::text[], ${textArrays(rows.map((x) => [...x.reasons]))}::text[])
          as x(id, reasons)
        where r.id = x.id`.execute(trx);
}

/** Due results whose holds were just posted. */
export async function markApproved(trx: Trx, ids: readonly string[], by: string): Promise<void> {
  await sql`update results set status = 'approved', decided_at = earnest_now(), decided_by = ${by}
        where id = any(${[...ids]}::text[])`.execute(trx);
}

/** The result, locked for a decision; another brand's result is as unknown as a made-up id. */
export async function lockResult(trx: Trx, resultId: string, orgId?: string): Promise<Result & { org_id: string }> {
  const owner = orgId ? sql`and c.org_id = ${orgId}` : sql``;
  const found = await sql<Result & { org_id: string }>`select r.*, c.org_id from results r join campaigns c on c.id = r.campaign_id
    where r.id = ${resultId} ${owner} for update of r`.execute(trx);
  const row = found.rows[0];
  if (!row) throw new AppError('not_found', `no result ${resultId}`);
  return { ...normaliseResult(row), org_id: row.org_id };
}

/** A result read again inside the transaction that just decided it. */
export async function resultById(trx: Trx, id: string): Promise<Result> {
  const updated = await sql<Result>`select * from results where id = ${id}`.execute(trx);
  return normaliseResult(updated.rows[0] as Result);
}

/** A decision's new status, with the result's reasons (all of them), who decided and why. */
export interface Decided {
  id: string;
  reasons: readonly string[];
  by: string;
  note: string | null;
}

export async function markRejected(trx: Trx, d: Decided): Promise<void> {
  await sql`update results set status = 'rejected', reasons = ${textArrays([[...d.reasons]])[0]}::text[], decided_at = earnest_now(),
        decided_by = ${d.by}, decision_note = ${d.note} where id = ${d.id}`.execute(trx);
}

/** An operator approved a result in review: pending again, marked reviewed (the release re-check leaves it alone). */
export async function markReviewed(trx: Trx, d: Omit<Decided, 'reasons'>): Promise<void> {
  await sql`update results set status = 'pending', reviewed = true, decided_at = earnest_now(), decided_by = ${d.by},
        decision_note = ${d.note} where id = ${d.id}`.execute(trx);
}

export async function markReversed(trx: Trx, d: Decided): Promise<void> {
  await sql`update results set status = 'reversed', reasons = ${textArrays([[...d.reasons]])[0]}::text[], decided_at = earnest_now(),
        decided_by = ${d.by}, decision_note = ${d.note} where id = ${d.id}`.execute(trx);
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

// The caps' SQL (caps.ts keeps the rules: which results a period's caps cut, and by how much).

/** Serializes payments per enrolment-period: a transaction-scoped advisory lock on each key, in key order. */
export async function lockCapPeriods(trx: Trx, keys: readonly string[]): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended('earnest.caps:' || k, 0)) from unnest(${keys}::text[]) as k order by k`.execute(trx);
}

/** Results the caps cut: what each earned (`paid_gross`). */
export async function markPaidGross(trx: Trx, cut: ReadonlyArray<{ id: string; paid: bigint }>): Promise<void> {
  await sql`update results r set paid_gross = x.paid from unnest(${cut.map((c) => c.id)}::text[], ${cut.map((c) => c.paid.toString())}::int8[])
      as x(id, paid) where r.id = x.id`.execute(trx);
}

/** The accepted terms of these enrolments whose incentives have caps. */
export async function cappedTerms(trx: Trx, enrolmentIds: string[]): Promise<Array<{ id: string; terms: Terms }>> {
  const r = await sql<{ id: string; terms: Terms }>`select e.id, t.terms from enrolments e
      join campaign_terms t on t.campaign_id = e.campaign_id and t.version = e.terms_version
     where e.id = any(${enrolmentIds}::text[]) and t.terms -> 'incentives' -> 'caps' <> '{}'::jsonb`.execute(trx);
  return r.rows;
}

/** An enrolment's approved results recorded in the period: how many, and what they earned. */
export async function approvedInPeriod(trx: Trx, enrolmentId: string, period: Period): Promise<{ n: bigint; earned: bigint | null } | undefined> {
  const r = await sql<{ n: bigint; earned: bigint | null }>`select count(*) as n, sum(coalesce(paid_gross, gross)) as earned from results
     where enrolment_id = ${enrolmentId} and status = 'approved'
       and recorded_at >= ${period.start.toISOString()}::timestamptz and recorded_at < ${period.end.toISOString()}::timestamptz`.execute(trx);
  return r.rows[0];
}

// The release re-check's SQL (recheck.ts groups the due results and asks the engine).

/** Each group's enrolment and window, as parallel arrays (one element per group). */
export interface RecheckWindows {
  enrolments: string[];
  from: string[];
  to: string[];
}

export interface ConversionRow {
  id: string;
  enrolment_id: string;
  type: 'lead' | 'sale';
  click_id: string | null;
  occurred_at: Date;
  request: {
    promo_code: string | null;
    customer: { id: string; email: string | null; phone: string | null; country: string | null; age?: number | null };
    amount: string | null;
    currency: string | null;
  };
  ip_hash: string | null;
  user_agent: string | null;
}

/**
 * Each group's conversions in its window that validation did not refuse at intake, the most recent
 * first up to the limit, and the due results' own conversions (one can come twice).
 */
export async function recentConversionRows(db: Db, w: RecheckWindows, sourceIds: readonly string[]): Promise<ConversionRow[]> {
  const r = await sql<ConversionRow>`
    select c.id, c.enrolment_id, c.type, c.click_id, c.occurred_at, c.request, c.ip_hash, c.user_agent
      from unnest(${w.enrolments}::text[], ${w.from}::timestamptz[], ${w.to}::timestamptz[]) as g(enrolment_id, from_ts, to_ts)
      cross join lateral (
        select * from conversions c where c.enrolment_id = g.enrolment_id and c.occurred_at between g.from_ts and g.to_ts
           and c.verdict in ('valid', 'review')
         order by c.occurred_at desc limit ${RECHECK_LIMITS.conversions_per_group}) c
    union all
    select c.id, c.enrolment_id, c.type, c.click_id, c.occurred_at, c.request, c.ip_hash, c.user_agent
      from conversions c where c.id = any(${[...sourceIds]}::text[]) and c.enrolment_id = any(${w.enrolments}::text[])`.execute(db);
  return r.rows;
}

export interface ClickRow {
  id: string;
  enrolment_id: string;
  occurred_at: Date;
  ip_hash: string;
  user_agent: string | null;
  referrer: string | null;
  landing_url: string | null;
  status: ClickStatus;
}

/** Each group's clicks in its window, the most recent first up to the limit, and the clicks named by id (one can come twice). */
export async function recentClickRows(db: Db, w: RecheckWindows, creators: readonly string[], ids: readonly string[]): Promise<ClickRow[]> {
  const r = await sql<ClickRow>`
    select k.id, k.enrolment_id, k.occurred_at, k.ip_hash, k.user_agent, k.referrer, k.landing_url, k.status
      from unnest(${w.enrolments}::text[], ${creators}::text[], ${w.from}::timestamptz[], ${w.to}::timestamptz[])
        as g(enrolment_id, creator_id, from_ts, to_ts)
      cross join lateral (
        select * from clicks k where k.creator_id = g.creator_id and k.enrolment_id = g.enrolment_id
           and k.occurred_at between g.from_ts and g.to_ts
         order by k.occurred_at desc limit ${RECHECK_LIMITS.clicks_per_group}) k
    union all
    select k.id, k.enrolment_id, k.occurred_at, k.ip_hash, k.user_agent, k.referrer, k.landing_url, k.status
      from clicks k where k.id = any(${[...new Set(ids)]}::text[]) and k.enrolment_id = any(${w.enrolments}::text[])`.execute(db);
  return r.rows;
}

/** Per group, each other creator of the campaign: its valid clicks in the group's window among the campaign's recent ones, and how many converted. */
export async function baselineRows(
  db: Db,
  w: RecheckWindows,
  campaigns: readonly string[],
): Promise<Array<{ group_enrolment: string; clicks: bigint; conversions: bigint }>> {
  const r = await sql<{ group_enrolment: string; clicks: bigint; conversions: bigint }>`
    with g as (
      select * from unnest(${w.enrolments}::text[], ${campaigns}::text[], ${w.from}::timestamptz[], ${w.to}::timestamptz[])
        as g(enrolment_id, campaign_id, from_ts, to_ts)
    ), recent as materialized (
      select c.campaign_id, k.id, k.enrolment_id, k.occurred_at
        from (select campaign_id, min(from_ts) as from_ts, max(to_ts) as to_ts from g group by campaign_id) c
        cross join lateral (
          select k.id, k.enrolment_id, k.status, k.occurred_at from clicks k where k.campaign_id = c.campaign_id
           order by k.id desc limit ${RECHECK_LIMITS.baseline_clicks}) k
       where k.status = 'valid' and k.occurred_at between c.from_ts and c.to_ts
    ), converted as materialized (
      select distinct cv.click_id from conversions cv where cv.click_id in (select id from recent) and cv.verdict = 'valid'
    )
    select g.enrolment_id as group_enrolment, r.enrolment_id as other, count(r.id) as clicks, count(x.click_id) as conversions
      from g join recent r on r.campaign_id = g.campaign_id and r.enrolment_id <> g.enrolment_id
                          and r.occurred_at between g.from_ts and g.to_ts
      left join converted x on x.click_id = r.id
     group by g.enrolment_id, r.enrolment_id`.execute(db);
  return r.rows;
}

/** The creators' contacts (the engine's creator rules). */
export async function creatorContacts(db: Db, ids: readonly string[]): Promise<Array<{ id: string; email: string; phone: string | null }>> {
  const r = await sql<{ id: string; email: string; phone: string | null }>`select id, email, phone from creators
    where id = any(${[...new Set(ids)]}::text[])`.execute(db);
  return r.rows;
}

// The decisions log's SQL (decisions.ts keeps the actors and what a decision is).

/** Appends decisions, all at the database clock's now, in one statement. */
export async function insertDecisions(db: Db, decisions: readonly NewDecision[]): Promise<void> {
  const col = <T>(f: (d: NewDecision) => T) => decisions.map(f);
  await sql`insert into result_decisions (result_id, from_status, to_status, reasons, note, actor_kind, actor_id, decided_at)
    select result_id, from_status, to_status, reasons::text[], note, actor_kind, actor_id, earnest_now()
    from unnest(${col((d) => d.resultId)}::text[], ${col((d) => d.from)}::text[], ${col((d) => d.to)}::text[],
      ${textArrays(col((d) => d.reasons))}::text[], ${col((d) => d.note)}::text[], ${col((d) => d.actor.kind)}::text[],
      ${col((d) => d.actor.id)}::text[]) as x(result_id, from_status, to_status, reasons, note, actor_kind, actor_id)`.execute(db);
}

/** The decisions on these results, oldest first. */
export async function decisionRows(db: Db, resultIds: readonly string[]): Promise<ResultDecision[]> {
  const r = await sql<ResultDecision>`select id::text as id, result_id, from_status, to_status, reasons, note, actor_kind, actor_id, decided_at
    from result_decisions where result_id = any(${[...new Set(resultIds)]}::text[]) order by result_id, id`.execute(db);
  return r.rows;
}

// The review queue's SQL (review.ts puts each result with its evidence and decisions).

/** Results in `review`, newest first by recorded_at (index results_review), a campaign's when given. */
export async function inReview(db: Db, filter: { campaignId?: string | undefined }, page: PageRequest): Promise<Page<Result>> {
  const keys = keyset(page, { time: 'r.recorded_at', keys: ['r.id'] });
  const campaign = filter.campaignId ? sql`and r.campaign_id = ${filter.campaignId}` : sql``;
  const found = await sql<Result & PageTime>`select r.*, ${keys.select} from results r where r.status = 'review' ${campaign} and ${keys.where}
    order by ${keys.orderBy} limit ${keys.limit}`.execute(db);
  return keys.page(found.rows, (r) => [r.id]);
}

export interface ConversionEvidenceRow {
  id: string;
  external_id: string;
  type: 'lead' | 'sale';
  attributed_by: 'click' | 'promo' | null;
  click_id: string | null;
  occurred_at: Date;
  created_at: Date;
  request: { promo_code: string | null; customer: { id: string; email: string | null; phone: string | null; country: string | null; age?: number | null } };
  user_agent: string | null;
  ip_hash: string | null;
}

export async function conversionsById(db: Db, ids: readonly string[]): Promise<Map<string, ConversionEvidenceRow>> {
  if (ids.length === 0) return new Map();
  const r = await sql<ConversionEvidenceRow>`select id, external_id, type, attributed_by, click_id, occurred_at, created_at, request,
      user_agent, ip_hash from conversions where id = any(${[...ids]}::text[])`.execute(db);
  return new Map(r.rows.map((c) => [c.id, c]));
}

export async function clicksById(db: Db, ids: readonly string[]): Promise<Map<string, NonNullable<ReviewEvidence['click']>>> {
  if (ids.length === 0) return new Map();
  const r = await sql<NonNullable<ReviewEvidence['click']>>`select id, occurred_at, status, user_agent, referrer, trim(country) as country
    from clicks where id = any(${[...new Set(ids)]}::text[])`.execute(db);
  return new Map(r.rows.map((k) => [k.id, k]));
}
