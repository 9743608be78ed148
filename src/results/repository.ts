import { type Kysely, sql, type Transaction } from 'kysely';
import type { Result } from './results.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['results', 'result_decisions'], reads: ['campaigns', 'campaign_terms', 'enrolments', 'clicks', 'conversions', 'creators'] } as const;

/**
 * SQL for results waiting for funds (issue #10 §4; the rest of the results' SQL is still in results.ts,
 * caps.ts, recheck.ts and review.ts). A waiting result has no hold; `awaiting_until` is when its
 * grace period ends.
 */
type Db = Kysely<any>;
type Trx = Transaction<any>;

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
